"""The blend (SASRec log-softmax + w x co-visits over the shopper's largest) inside the served
path: a candidate source of its own, every candidate's own blend score and parts as signals
and ranker features, and, with the blend's order serving, the blend's own top k."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from shopsense.models.blend import SequenceBlend, blend_parts
from shopsense.models.context import RecContext
from shopsense.models.interactions import Interactions
from shopsense.models.sequences import top_k_excluding
from shopsense.pipeline.recommend import RecommendationEngine
from shopsense.rank.recs_features import BLEND_PARTS, ShopperView, feature_matrix, feature_names
from shopsense.rank.recs_ranker import BlendOrderRanker, load_ranker


def _with_blend(engine: RecommendationEngine, weight: float) -> RecommendationEngine:
    """A copy serving the blend's order at `weight`, without the variety cap."""
    from dataclasses import replace

    copied = copy.copy(engine)
    copied.config = replace(engine.config, blend_weight=weight, max_per_category=None)
    names = [n for n in copied.personal_names() if n in engine.sources or n == "blend"]
    copied.info = {**engine.info, "ranker_sources": names}
    copied.ranker = BlendOrderRanker(feature_names(names), 0.0, source="blend", partner=None)
    return copied


def test_training_sets_the_weight_and_makes_the_blend_a_source(
        engine: RecommendationEngine) -> None:
    assert engine.config.blend_weight is not None
    report = engine.info["ranker"]
    assert report["blend_weight"] == engine.config.blend_weight
    assert set(report["blend_valid_ndcg@10_by_weight"]) == {"0.0", "0.5", "1.0", "2.0", "4.0",
                                                           "8.0"}
    assert "blend" in engine.personal_names() and "blend" in engine.ranker_sources
    assert "blend_order_ndcg@10" in report and "learned_gain_ci" in report


@pytest.mark.parametrize("user", ["u3", "u17", "u42"])
def test_every_candidate_carries_its_own_blend_score(engine: RecommendationEngine,
                                                     user: str) -> None:
    served = _with_blend(engine, 2.0)
    recent = tuple(served.histories[user][-served.config.history_len:])
    ctx = RecContext(user_id=user, recent_items=recent)
    cands = served.candidates(ctx, served.personal_names(), set(recent))
    sasrec = served.sources["sasrec"].score_all(ctx)
    covisit = served.sources["covisit"].score_all(ctx)
    blend, logp, share = blend_parts(sasrec, covisit, 2.0)
    assert cands and not {c.item_id for c in cands} & set(recent)
    for cand in cands:
        i = served.items.index(cand.item_id)
        assert cand.signals["blend"] == pytest.approx(blend[i])
        assert cand.signals["sasrec.logp"] == pytest.approx(logp[i])
        assert cand.signals["covisit.share"] == pytest.approx(share[i])
    assert np.exp(logp).sum() == pytest.approx(1.0) and share.max() == pytest.approx(1.0)
    x = feature_matrix(cands, served.ranker_sources, ShopperView.build(recent, served.products),
                       served.products, {}, 0.0)
    columns = feature_names(served.ranker_sources)
    assert x.shape == (len(cands), len(columns)) and set(BLEND_PARTS) <= set(columns)
    assert x[:, columns.index("blend.score")] == pytest.approx(
        [blend[served.items.index(c.item_id)] for c in cands], rel=1e-5)


@pytest.mark.parametrize("weight", [0.0, 2.0, 8.0])
def test_the_blend_order_serves_the_blend_s_own_top_k(engine: RecommendationEngine,
                                                     interactions: Interactions,
                                                     weight: float) -> None:
    """Without the cap and feedback, for_you with the blend's order is the offline blend's
    top 10 (SequenceBlend over the same history), for every shopper."""
    served = _with_blend(engine, weight)
    sasrec, covisit = served.sources["sasrec"], served.sources["covisit"]
    offline = SequenceBlend(sasrec.model_, covisit, served.items, weight)  # type: ignore[attr-defined]
    users = interactions.users[:40]
    histories = [served.items.encode(served.histories[u][-served.config.history_len:])
                 for u in users]
    top = top_k_excluding(offline(histories), 10, histories)
    for user, row in zip(users, top, strict=True):
        got = [r.item_id for r in served.for_you(user, 10)]
        assert got == [served.items.ids[i] for i in row], user


def test_blend_order_reads_the_blend_column_and_falls_back_to_fusion(tmp_path: Path) -> None:
    names = feature_names(["sasrec", "covisit", "blend"])
    x = np.zeros((3, len(names)), dtype=np.float32)
    x[:, names.index("blend.score")] = [-3.0, -1.0, -2.0]  # every candidate's own blend
    x[:, names.index("blend.rrank")] = [0.0, 1.0, 0.5]  # row 0: outside the blend's top k
    ranker = BlendOrderRanker(names, 0.0, source="blend", partner=None)
    assert ranker.score(x).tolist() == [-3.0, -1.0, -2.0]  # its own score, not a floor
    ranker.save(tmp_path / "r")
    assert np.array_equal(load_ranker(tmp_path / "r").score(x), ranker.score(x))
    none = np.zeros_like(x)  # SASRec could not score the shopper: no blend at all
    none[:, names.index("covisit.rrank")] = [0.5, 0.0, 1.0]
    none[:, names.index("sasrec.rrank")] = [0.0, 0.5, 0.0]
    assert np.argsort(-ranker.score(none)).tolist() == [2, 0, 1]


def test_blend_parts_of_a_shopper_sasrec_cannot_score() -> None:
    blend, logp, share = blend_parts(np.full(4, -np.inf), np.array([1.0, -np.inf, 2.0, 0.0]),
                                     1.0)
    assert np.all(np.isneginf(blend)) and np.all(np.isneginf(logp))
    assert share.tolist() == [0.5, 0.0, 1.0, 0.0]
    both = blend_parts(np.array([[0.0, 1.0], [2.0, 2.0]]), None, 3.0)[0]
    assert both[1].tolist() == pytest.approx([np.log(0.5)] * 2)


def test_the_weight_survives_save_and_an_old_engine_loads_without_it(
        engine: RecommendationEngine, products: list, tmp_path: Path) -> None:
    engine.save(tmp_path / "new")
    again = RecommendationEngine.load(tmp_path / "new", products)
    assert again.config.blend_weight == engine.config.blend_weight
    assert [r.item_id for r in again.for_you("u3", 5)] == \
        [r.item_id for r in engine.for_you("u3", 5)]
    meta = json.loads((tmp_path / "new" / "engine.json").read_text())
    del meta["config"]["blend_weight"]  # saved before the blend was a source
    (tmp_path / "new" / "engine.json").write_text(json.dumps(meta))
    old = RecommendationEngine.load(tmp_path / "new", products)
    assert old.config.blend_weight is None and "blend" not in old.personal_names()


def test_the_blend_order_explains_with_its_sasrec_and_covisit_parts(
        engine: RecommendationEngine) -> None:
    from shopsense.explain.reasons import reasons_for

    served = _with_blend(engine, 2.0)
    results = served.for_you("u3", 5)
    top = results[0].evidence["ranker_top_features"]
    assert set(top) <= {"sasrec.logp", "covisit.share", *feature_names(served.ranker_sources)}
    assert {"sasrec.logp", "covisit.share"} & set(top)
    cited = [r.code for res in results for r in reasons_for(res, served.products)]
    assert {"sasrec", "covisit"} & set(cited)
    x = np.zeros((2, len(feature_names(served.ranker_sources))))
    columns = feature_names(served.ranker_sources)
    x[:, columns.index("blend.score")] = [-1.0, -3.0]
    x[:, columns.index("blend.rrank")] = [1.0, 0.5]
    x[:, columns.index("sasrec.logp")] = [-2.0, -3.5]
    parts = served.ranker.contributions(x)
    assert parts.sum(axis=1) - served.ranker.score(x) == pytest.approx([2.0, 2.0])
    assert parts[0, columns.index("covisit.share")] > 0 > parts[1, columns.index("covisit.share")]
