"""Served-path evaluation: leave-one-out through `for_you`, beside the blend, with intervals."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from shopsense.evaluation.served import evaluate_served, interaction_events
from shopsense.ingest.public import write_jsonl
from shopsense.models.interactions import load_interactions
from shopsense.training.recs import TrainConfig, ranker_sample

KINDS = ["Sports > Running", "Home > Coffee", "Electronics > Cases", "Sports > Yoga",
         "Beauty > Skin Care"]
NOUNS = ["running shoes", "coffee beans", "phone case", "yoga mat", "face cream"]
ADJECTIVES = ["light", "classic", "premium", "budget", "travel", "pro", "eco", "deluxe",
              "mini", "max", "soft", "bold"]


def make_products() -> list[dict[str, object]]:
    return [{"item_id": f"k{k}i{j}", "title": f"{ADJECTIVES[j]} {NOUNS[k]}", "category": cat,
             "brand": f"brand{j % 3}", "price": float(10 * (k + 1) + j)}
            for k, cat in enumerate(KINDS) for j in range(12)]


def make_events(n_users: int) -> list[dict[str, object]]:
    """Each shopper of kind k walks items of kind k in order, 3 per session (known answer)."""
    rng, t, out = random.Random(0), 1_700_000_000.0, []
    for u in range(n_users):
        start = rng.randrange(12)
        for step in range(rng.randint(5, 9)):
            t += rng.uniform(30, 300) if step % 3 else 7200
            out.append({"user_id": f"u{u}", "session_id": f"u{u}s{step // 3}",
                        "item_id": f"k{u % 5}i{(start + step) % 12}", "timestamp": t,
                        "event_type": "purchase" if step % 3 == 2 else "view"})
    return out


@pytest.fixture(scope="module")
def shop_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("served")
    write_jsonl(make_events(150), tmp / "events.jsonl")
    write_jsonl(make_products(), tmp / "products.jsonl")
    return tmp / "events.jsonl", tmp / "products.jsonl"


def test_served_and_blend_with_intervals(shop_files: tuple[Path, Path], tmp_path: Path) -> None:
    events, catalog = shop_files
    engine_dir = tmp_path / "engine"
    report = evaluate_served(events, catalog, model_options={"time_budget_s": 20},
                             engine_dir=engine_dir)
    pop = report["baseline_popularity"]
    for name in ("served", "blend", "blend_servable", "sasrec_only", "baseline_popularity"):
        block = report[name]
        for metric in ("hr@10", "ndcg@10", "hr@20", "ndcg@20"):
            low, high = block[f"{metric}_ci"]
            assert 0.0 <= low <= block[metric] <= high <= 1.0, (name, metric)
    served = report["served"]
    # Shoppers walk their kind's items in order: the served path must find the next one.
    assert served["ndcg@10"] > 3 * pop["ndcg@10"]
    assert served["ndcg@10"] >= report["blend"]["ndcg@10"] - 0.05
    assert served["ranker"]["serving"] in ("logistic", "lightgbm", "fusion", "blend_order")
    assert {"sasrec", "covisit", "content"} <= set(served["sources"])
    assert report["data"]["evaluated_users"] == 150
    gap = report["served_minus_blend_servable"]
    assert gap["ndcg@10"] == pytest.approx(served["ndcg@10"] - report["blend_servable"][
        "ndcg@10"], abs=1e-4)
    # The saved engine is scored again without training, to the same figures.
    again = evaluate_served(events, catalog, engine_dir=engine_dir)
    assert again["served"]["ndcg@10"] == served["ndcg@10"]
    assert again["blend"]["train_seconds"] < report["blend"]["train_seconds"]
    json.dumps(report)  # the CLI prints it


def test_ranker_is_chosen_on_shoppers_sasrec_did_not_stop_on() -> None:
    held = list(range(1000))
    fitting, choosing = ranker_sample(held, TrainConfig(ranker_users=300))
    assert len(fitting) == len(choosing) == 150
    assert not set(fitting) & set(choosing)
    small_fit, small_choose = ranker_sample(list(range(7)), TrainConfig())
    assert sorted(small_fit + small_choose) == list(range(7))


def test_interaction_events_of_a_plain_sequence_file(tmp_path: Path) -> None:
    path = tmp_path / "seq.txt"
    path.write_text("u1 a b c\nu2 d e\n")
    events = interaction_events(load_interactions(path))
    assert [[e.item_id for e in evs] for evs in events] == [["a", "b", "c"], ["d", "e"]]
    assert [e.timestamp for e in events[0]] == [0.0, 1.0, 2.0]
    assert {e.event_type for evs in events for e in evs} == {"view"}
