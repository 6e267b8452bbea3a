"""Where a federated SASRec's item table starts: catalogue titles by default (as the home's
own SASRec), random where no catalogue with titles is at hand, an error when titles were
asked for and are missing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shopsense.domain import Product
from shopsense.federated.experiment import RecsPlan
from shopsense.federated.homes import JoinPlan, item_table
from shopsense.federated.simulate import _item_table, load_input, simulate

BEAUTY = Path(__file__).resolve().parents[3] / "shared" / "data" / "amazon-beauty-p5-titles"


def _sequences(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "sequential_data.txt"
    path.write_text("".join(f"u{u} " + " ".join(str((u + k) % 30 + 1) for k in range(6))
                            + "\n" for u in range(60)))
    return path


def test_simulate_without_a_catalogue_starts_random_and_says_why(tmp_path: Path) -> None:
    path = _sequences(tmp_path)
    items = load_input(path).items
    init, label = _item_table(path, None, items, RecsPlan(dim=8))
    assert init is None and label.startswith("random (no catalogue titles")
    assert _item_table(path, None, items, RecsPlan(dim=8, title_init=False)) == (None, "random")
    with pytest.raises(ValueError, match="catalogue"):  # asked for titles: none is an error
        _item_table(path, None, items, RecsPlan(dim=8, title_init=True))
    with pytest.raises(ValueError, match="catalogue"):  # a --catalog that is not there
        _item_table(path, tmp_path / "missing.csv", items, RecsPlan(dim=8))
    report = simulate(path, n_clients=2, split="dirichlet:1.0",
                      plan=RecsPlan(rounds=1, dim=8, batch_size=16),
                      variants=("federated",))
    assert report["item_table"].startswith("random")


def test_a_home_without_titles_starts_random_unless_titles_are_required() -> None:
    ids = [f"p{i}" for i in range(5)]
    untitled = [Product(item_id=i, title="") for i in ids]
    assert item_table(untitled, ids, JoinPlan(dim=8)) == (None, "random")
    assert item_table([], ids, JoinPlan(dim=8)) == (None, "random")
    titled = [Product(item_id=i, title=f"red shoe {i}") for i in ids]
    assert item_table(titled, ids, JoinPlan(dim=8, title_init=False)) == (None, "random")
    with pytest.raises(ValueError, match="titles"):
        item_table(untitled, ids, JoinPlan(dim=8, title_init=True))


@pytest.mark.slow  # loads the USE encoder
def test_a_home_with_titles_seeds_its_table_from_them_in_catalogue_order() -> None:
    from shopsense.models.text_init import title_vectors

    ids = [f"p{i}" for i in range(6)]
    words = ["lipstick", "mascara", "shampoo", "conditioner", "sunscreen", "perfume"]
    products = [Product(item_id=i, title=f"{w} {n}") for n, (i, w) in
                enumerate(zip(ids, words, strict=True))]
    init, label = item_table(products[::-1], ids, JoinPlan(dim=4))
    assert label.startswith("seeded from catalogue titles")
    assert init is not None and init.shape == (6, 4)
    np.testing.assert_allclose(init, title_vectors(products, ids, 4), rtol=1e-5, atol=1e-6)


@pytest.mark.slow  # loads the USE encoder and trains two rounds
@pytest.mark.skipif(not BEAUTY.exists(), reason="Beauty data not present")
def test_simulate_on_beauty_starts_every_variant_from_its_titles() -> None:
    plan = RecsPlan(rounds=1, dim=8, batch_size=32, max_len=10, server="avg")
    report = simulate(BEAUTY / "sequential_data.txt", n_clients=3, split="platform",
                      plan=plan, max_users=120)
    assert report["item_table"] == "seeded from catalogue titles, trained"
    for variant in ("centralised", "federated", "local_only"):
        assert report["recs"][variant]["test_cases"] > 0


def test_a_paired_gap_is_tighter_than_two_separate_intervals() -> None:
    from shopsense.evaluation.metrics import bootstrap_ci
    from shopsense.federated.experiment import paired_gap

    rng = np.random.default_rng(0)
    base = (rng.random(3000) < 0.05) / np.log2(rng.integers(1, 11, 3000) + 1)
    better = base * 1.1  # the same cases, every hit 10 % higher: a clear, consistent gain
    gap = paired_gap(better, base)
    assert gap["relative"] == pytest.approx(0.1, abs=1e-3)
    assert gap["relative_ci"][0] == pytest.approx(0.1, abs=1e-3)  # no case-sampling noise
    assert gap["ndcg@10_diff"] > 0 and gap["ndcg@10_diff_ci"][0] > 0
    low_b = bootstrap_ci(better)[0]
    high_a = bootstrap_ci(base)[1]
    assert low_b < high_a  # unpaired, the two intervals overlap
    with pytest.raises(ValueError, match="same"):
        paired_gap(better[:10], base)


def test_simulate_reports_paired_gaps_between_its_variants(tmp_path: Path) -> None:
    report = simulate(_sequences(tmp_path), n_clients=2, split="dirichlet:1.0",
                      plan=RecsPlan(rounds=1, dim=8, batch_size=16))
    paired = report["recs"]["paired"]
    assert set(paired) == {"federated_vs_centralised", "federated_vs_local_only",
                           "centralised_vs_local_only", "personalised_vs_local_only",
                           "personalised_vs_federated"}
    for gap in paired.values():
        low, high = gap["ndcg@10_diff_ci"]
        assert low <= gap["ndcg@10_diff"] <= high
    assert not any("_cases" in row for row in report["recs"].values()
                   if isinstance(row, dict))  # per-case arrays stay out of the report
