"""Served-path evaluation: leave-one-out through `for_you`, beside the blend, with intervals."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from shopsense.domain import Event
from shopsense.evaluation.served import (
    BAR,
    SharedScores,
    evaluate_served,
    interaction_events,
    served_ranks,
    served_sample,
)
from shopsense.ingest.public import write_jsonl
from shopsense.models.interactions import (
    interactions_from_events,
    load_catalog,
    load_interactions,
)
from shopsense.models.sasrec import SASRecConfig
from shopsense.pipeline.recommend import RecommendationEngine
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
    """Each shopper of kind k walks items of kind k in order, 3 per session, the third put in
    the cart (known answer). Not bought: every kind is one category of durables, and a durable
    bought sinks the rest of its category below the served list at the held-out event's time
    (rank.feedback; the served evaluation applies feedback then, not at the clock's time)."""
    rng, t, out = random.Random(0), 1_700_000_000.0, []
    for u in range(n_users):
        start = rng.randrange(12)
        for step in range(rng.randint(5, 9)):
            t += rng.uniform(30, 300) if step % 3 else 7200
            out.append({"user_id": f"u{u}", "session_id": f"u{u}s{step // 3}",
                        "item_id": f"k{u % 5}i{(start + step) % 12}", "timestamp": t,
                        "event_type": "cart" if step % 3 == 2 else "view"})
    return out


def make_event_objects(n_users: int) -> list[Event]:
    return [Event(f"e{n}", str(e["event_type"]), float(e["timestamp"]),  # type: ignore[arg-type]
                  user_id=str(e["user_id"]), session_id=str(e["session_id"]),
                  item_id=str(e["item_id"])) for n, e in enumerate(make_events(n_users))]


@pytest.fixture(scope="module")
def shop_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("served")
    write_jsonl(make_events(150), tmp / "events.jsonl")
    write_jsonl(make_products(), tmp / "products.jsonl")
    return tmp / "events.jsonl", tmp / "products.jsonl"


@pytest.fixture(scope="module")
def trained(shop_files: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
            ) -> tuple[dict[str, Any], Path]:
    """One served evaluation that trains the engine and saves it (the other tests re-score
    the saved engine)."""
    events, catalog = shop_files
    engine_dir = tmp_path_factory.mktemp("engine") / "engine"
    report = evaluate_served(events, catalog, model_options={"time_budget_s": 20},
                             engine_dir=engine_dir)
    return report, engine_dir


@pytest.mark.slow
def test_served_and_blend_with_intervals(shop_files: tuple[Path, Path],
                                         trained: tuple[dict[str, Any], Path]) -> None:
    events, catalog = shop_files
    report, engine_dir = trained
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
    json.dumps(report, allow_nan=False)  # the CLI prints it
    # Every product is on sale: no stock variant, and the bar is stated twice.
    assert "served_stock_at_event" not in report
    assert set(report["bar"]) == {"rule", "same_users", "plain", "like_for_like_stock_now"}
    plain = report["bar"]["plain"]
    assert plain["gap"] == report["served_minus_blend"]["ndcg@10"]
    assert plain["met"] == (plain["gap"] >= -BAR)
    assert plain["versus_ndcg@10"] == report["blend"]["ndcg@10"]


@pytest.mark.slow
def test_a_sample_of_shoppers_is_compared_on_the_same_shoppers(
        shop_files: tuple[Path, Path], trained: tuple[dict[str, Any], Path]) -> None:
    events, catalog = shop_files
    full, engine_dir = trained
    report = evaluate_served(events, catalog, engine_dir=engine_dir, served_users=60, seed=3)
    assert report["served"]["users"] == 60 and full["served"]["users"] == 150
    for metric in ("ndcg@10", "ndcg@10_ci", "hr@20"):  # the blend is still scored on everyone
        assert report["blend"][metric] == full["blend"][metric]
    on_sample = report["blend_on_served_users"]
    gap = report["served_minus_blend"]["ndcg@10"]
    assert gap == pytest.approx(report["served"]["ndcg@10"] - on_sample["ndcg@10"], abs=1e-4)
    assert report["bar"]["plain"]["gap"] == gap
    assert "versus_ndcg@10" not in report["bar"]["plain"]  # the full blend is not the versus
    again = evaluate_served(events, catalog, engine_dir=engine_dir, served_users=60, seed=3)
    assert again["served"]["ndcg@10"] == report["served"]["ndcg@10"]


def test_served_sample_positions() -> None:
    assert served_sample(5, None, 0).tolist() == [0, 1, 2, 3, 4]
    assert served_sample(5, 9, 0).tolist() == [0, 1, 2, 3, 4]
    picked = served_sample(1000, 100, 7)
    assert picked.size == 100 and np.all(np.diff(picked) > 0)
    assert picked.tolist() == served_sample(1000, 100, 7).tolist()
    assert picked.tolist() != served_sample(1000, 100, 8).tolist()
    with pytest.raises(ValueError, match="served_users"):
        served_sample(10, 0, 0)


@pytest.mark.slow
def test_out_of_stock_targets_are_compared_like_for_like(
        shop_files: tuple[Path, Path], trained: tuple[dict[str, Any], Path],
        tmp_path: Path) -> None:
    """Today's stock hides some held-out items from the served path; the report then also
    scores the path with stock as at the held-out event, and states the bar three ways."""
    events, _ = shop_files
    _, engine_dir = trained
    data = load_interactions(events)
    gone = {seq[-1] for seq in data.sequences[:40]}  # the first shoppers' held-out items
    rows = [{**row, "available": row["item_id"] not in gone} for row in make_products()]
    catalog = tmp_path / "products.jsonl"
    write_jsonl(rows, catalog)
    report = evaluate_served(events, catalog, engine_dir=engine_dir)
    at_event = report["served_stock_at_event"]
    assert set(report["bar"]) >= {"plain", "like_for_like_stock_now",
                                  "like_for_like_stock_at_event"}
    assert report["bar"]["like_for_like_stock_at_event"]["versus"] == "blend"
    assert report["blend_servable"]["hr@20"] < report["blend"]["hr@20"]

    products = load_catalog(catalog)
    engine = RecommendationEngine.load(engine_dir, products)
    targets = [seq[-1] for seq in data.sequences if len(seq) >= 3]
    now_ranks, shown = served_ranks(engine, data, products, 20)
    hidden = np.array([t in gone for t in targets])
    assert hidden.sum() >= 5 and np.all(now_ranks[hidden] == -1)  # never shown out of stock
    assert not shown & gone
    assert at_event["hr@20"] > 0 and at_event["users"] == len(targets)


def test_ranker_is_fitted_and_chosen_on_shoppers_sasrec_did_not_stop_on(
        monkeypatch: pytest.MonkeyPatch) -> None:
    held = list(range(1000))
    fitting, choosing = ranker_sample(held, TrainConfig(ranker_users=300))
    assert len(fitting) == len(choosing) == 150
    assert not set(fitting) & set(choosing)
    small_fit, small_choose = ranker_sample(list(range(7)), TrainConfig())
    assert len(small_fit) == len(small_choose) == 2  # a third is left for SASRec
    # what train_all hands SASRec for early stopping: none of the ranker's shoppers
    import shopsense.training.recs as recs

    seen: dict[str, Any] = {}
    real = recs.fit_sources

    def spy(train, items, products, valid, config, progress, warm=None):  # type: ignore[no-untyped-def]
        seen["valid"] = valid
        return real(train, items, products, valid, config, progress, warm)

    monkeypatch.setattr(recs, "fit_sources", spy)
    data = interactions_from_events(make_event_objects(60))
    config = TrainConfig(sasrec=SASRecConfig(dim=8, max_len=8, max_epochs=1, bf16=False),
                         ranker_users=30)
    engine = recs.train_all(data, [], config)
    train, held = recs.holdout_split(data)
    fit, choose = ranker_sample(held, config)
    rest = [u for u in held if u not in {*fit, *choose}]
    assert fit and choose and rest
    stopped_on = Counter(tuple(h.tolist()) for h in seen["valid"][0])
    assert stopped_on == Counter(tuple(engine.items.encode(train.sequences[u]).tolist())
                                 for u in rest)
    report = engine.info["ranker"]
    assert report["fit_users"] == len(fit) and report["valid_users"] == len(choose)


def test_interaction_events_of_a_plain_sequence_file(tmp_path: Path) -> None:
    path = tmp_path / "seq.txt"
    path.write_text("u1 a b c\nu2 d e\n")
    events = interaction_events(load_interactions(path))
    assert [[e.item_id for e in evs] for evs in events] == [["a", "b", "c"], ["d", "e"]]
    assert [e.timestamp for e in events[0]] == [0.0, 1.0, 2.0]
    assert {e.event_type for evs in events for e in evs} == {"view"}


@pytest.mark.slow
def test_cli_prints_every_block_and_the_bar(shop_files: tuple[Path, Path],
                                            trained: tuple[dict[str, Any], Path]) -> None:
    from typer.testing import CliRunner

    from shopsense.cli import app

    events, catalog = shop_files
    _, engine_dir = trained
    args = ["eval", "recs", "--events", str(events), "--catalog", str(catalog), "--served",
            "--engine-dir", str(engine_dir), "--served-users", "50"]
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 0, out.output
    for label in ("served ", "blend ", "blend_servable", "blend_on_served_users",
                  "bar (served ndcg@10 >= blend ndcg@10 - 0.002) plain: served - blend",
                  "like_for_like_stock_now: served - blend_servable"):
        assert label in out.stdout, label
    bad = CliRunner().invoke(app, [*args[:-1], "0"])
    assert bad.exit_code != 0


@pytest.mark.slow
def test_shared_batch_scores_equal_per_request_scoring(
        shop_files: tuple[Path, Path], trained: tuple[dict[str, Any], Path]) -> None:
    """The evaluation scores SASRec and content for 256 shoppers at once; each for_you list
    must be the one a lone request gets, and the engine must be untouched afterwards."""
    from shopsense.models.context import RecContext

    _, catalog = shop_files
    _, engine_dir = trained
    products = load_catalog(catalog)
    engine = RecommendationEngine.load(engine_dir, products)
    users = sorted(engine.histories)[:40]
    contexts = [RecContext(recent_items=tuple(engine.histories[u])) for u in users]
    for name in SharedScores.BATCHED:
        source = engine.sources[name]
        alone = np.stack([np.asarray(source.score_all(c), dtype=np.float64) for c in contexts])
        batch = source.score_many(contexts)
        assert batch.shape == alone.shape
        assert np.array_equal(np.isinf(batch), np.isinf(alone)), name
        finite = np.isfinite(alone)
        assert np.allclose(batch[finite], alone[finite], rtol=1e-4, atol=1e-5), name
    lone = {u: [r.item_id for r in engine.for_you(u, k=20)] for u in users}
    shared = SharedScores(engine)
    shared.fill(users)
    for u in users:
        with shared:
            assert [r.item_id for r in engine.for_you(u, k=20)] == lone[u], u
    assert all("score_all" not in vars(engine.sources[n]) for n in SharedScores.BATCHED)
    # a request that was not batched (another history) is scored as usual inside `with`
    with shared:
        other = engine.for_you("nobody-batched", k=5,
                               context=RecContext(recent_items=("k0i1", "k0i2")))
    assert [r.item_id for r in other] == [
        r.item_id for r in engine.for_you("nobody-batched", k=5,
                                          context=RecContext(recent_items=("k0i1", "k0i2")))]


@pytest.mark.slow
def test_the_blend_is_taken_at_the_engines_own_weight(
        trained: tuple[dict[str, Any], Path]) -> None:
    """The served SASRec trained on most validation targets, so the blend's weight is the one
    `train_all` chose on held-out shoppers, not refitted on them."""
    report, engine_dir = trained
    engine = RecommendationEngine.load(engine_dir)
    assert engine.config.blend_weight is not None
    assert report["blend"]["covisit_weight"] == engine.config.blend_weight
    assert report["blend"]["valid_ndcg@10_by_weight"] == {}


def test_engine_blend_keeps_the_engine_weight_and_fits_none(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from shopsense.evaluation.recs import leave_one_out
    from shopsense.evaluation.served import engine_blend
    from shopsense.models.interactions import Interactions

    data = Interactions(["a", "b"], [["x", "y", "z", "x"], ["y", "z", "w"]])
    split = leave_one_out(data)
    model = object()  # never called: nothing is fitted on the validation targets
    blend = engine_blend(SimpleNamespace(config=SimpleNamespace(blend_weight=2.0)),  # type: ignore[arg-type]
                         model, split)
    assert blend.weight == 2.0 and blend.model is model and blend.valid_ndcg_ == {}
    assert blend.covisit.item_counts_ is not None  # co-visits of the split's training part
