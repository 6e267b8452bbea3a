"""`shopsense federated simulate` on real data: per-variant metrics with intervals."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from shopsense.federated.experiment import RecsPlan
from shopsense.federated.simulate import simulate


def _cli(*args: str) -> subprocess.CompletedProcess:
    src = str(Path(__file__).resolve().parents[2] / "src")
    return subprocess.run([sys.executable, "-m", "shopsense.cli", "federated", "simulate",
                           *args], capture_output=True, text=True, timeout=600,
                          env={"PYTHONPATH": src, "OMP_NUM_THREADS": "1",
                               "PATH": "/usr/bin:/bin"})


@pytest.mark.slow
def test_simulate_beauty_by_platform_prints_every_variant_with_intervals(
        shared_data: Path) -> None:
    events = shared_data / "amazon-beauty-p5-titles" / "sequential_data.txt"
    done = _cli("--events", str(events), "--clients", "3", "--split", "platform", "--rounds",
                "2", "--dim", "16", "--max-users", "300", "--sparse-items", "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["data"]["shoppers"] == 300 and report["data"]["subsampled_from_shoppers"]
    assert [c["name"] for c in report["clients"]] == ["web", "app", "mini_program"]
    assert all(c["synthetic_platforms"] for c in report["clients"])
    for variant in ("centralised", "federated", "local_only"):
        row = report["recs"][variant]
        for metric in ("ndcg@10", "hr@10"):
            low, high = row[f"{metric}_ci"]
            assert 0.0 <= low <= row[metric] <= high <= 1.0
        assert set(row["per_client"]) == {"web", "app", "mini_program"}
    fed = report["recs"]["federated"]
    assert fed["rounds"] == 2 and fed["bytes_per_client_per_round"] > 0
    assert "propensity" not in report  # a sequence file has no timestamps or purchases
    assert report["plan"]["sparse_items"] is True
    reference = report["recs"]["title_neighbour"]  # Beauty has titles: the untrained row
    assert reference["trained"] is False and set(reference["per_client"]) == {
        "web", "app", "mini_program"}
    assert "federated_vs_title_neighbour" in report["recs"]["paired"]


@pytest.mark.slow
def test_simulate_refuses_bad_input(tmp_path: Path) -> None:
    done = _cli("--events", str(tmp_path / "missing.txt"), "--json")
    assert done.returncode == 2 and "does not exist" in " ".join(done.stderr.split())
    seqs = tmp_path / "sequential_data.txt"
    seqs.write_text("".join(f"{u} 1 2 3 4\n" for u in range(10)))
    done = _cli("--events", str(seqs), "--split", "dirichlet", "--json")
    assert done.returncode == 2 and "positive ALPHA" in " ".join(done.stderr.split())


def test_demo_store_split_by_its_real_platforms_with_propensity(tmp_path: Path) -> None:
    from shopsense.demo.generate import iter_demo_events

    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in iter_demo_events(n_users=120,
                                                                            days=40)))
    report = simulate(path, n_clients=3, split="platform", plan=RecsPlan(rounds=2, dim=16))
    assert not any(c["synthetic_platforms"] for c in report["clients"])
    prop = report["propensity"]
    for variant in ("centralised", "federated", "local_only"):
        row = prop[variant]
        assert row["auc"] is None or 0.0 <= row["auc_ci"][0] <= row["auc_ci"][1] <= 1.0
    assert prop["centralised"]["auc"] > 0.6  # shop-agnostic features carry signal
    assert prop["federated"]["bytes_per_client_per_round"] == 2 * 4 * (32 + 1)


@pytest.mark.parametrize("split", ["shop", "dirichlet:0.5"])
def test_shop_splits_run_and_shops_keep_their_item_tables(split: str, tmp_path: Path) -> None:
    rng_rows = [f"u{u} " + " ".join(str((u + k) % 30 + 1) for k in range(6)) + "\n"
                for u in range(90)]
    path = tmp_path / "sequential_data.txt"
    path.write_text("".join(rng_rows))
    report = simulate(path, n_clients=2, split=split, plan=RecsPlan(rounds=2, dim=16))
    fed = report["recs"]["federated"]
    if split == "shop":
        assert fed["shared"] == "body" and "centralised" not in report["recs"]
        # the item table never leaves the shop: a round carries less than the whole model
        assert fed["bytes_per_client_per_round"] < 2 * 4 * (31 * 16 + 50 * 16 + 20000)
    else:
        assert fed["shared"] == "all"
