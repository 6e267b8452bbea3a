"""The for-you answer over candidate arrays (pipeline/recommend_pool.py) equals the
per-candidate path's (`_ranked` + `_finish`, which still serves the blend and an engine
without a ranker) exactly: the same items in the same order, the same scores, signals and
evidence, for every shopper, with the shopper's feedback (dismissals, purchases), the shop's
rules (exclusions, price bounds, boosts, buries, pins of candidates and of other items) and
category contexts, at the service's answer depth and at a short k."""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

import pytest

from shopsense.domain import Result, UserProfile
from shopsense.models.context import RecContext
from shopsense.pipeline import recommend_pool
from shopsense.pipeline.recommend import RecommendationEngine
from shopsense.rank.rules import Rules

NOW = 1_700_500_000.0


def _freeze_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Feedback decays and item ages read the clock: both paths read the same one."""
    import shopsense.pipeline.recommend as recommend

    monkeypatch.setattr(recommend.time, "time", lambda: NOW)


def _answers(engine: RecommendationEngine, monkeypatch: pytest.MonkeyPatch, pool: bool,
             calls: list[dict[str, Any]]) -> list[list[Result]]:
    build = recommend_pool.CandidatePool.build.__func__  # type: ignore[attr-defined]
    with monkeypatch.context() as patch:
        if not pool:
            patch.setattr(recommend_pool.CandidatePool, "build",
                          classmethod(lambda cls, *args: None))
        else:
            patch.setattr(recommend_pool.CandidatePool, "build", classmethod(build))
        return [engine.for_you(**call) for call in calls]


def _calls(engine: RecommendationEngine, seed: int) -> list[dict[str, Any]]:
    """Every shopper of the engine, each with one of several rule sets, profiles and k."""
    rng = random.Random(seed)
    items = sorted(engine.products)
    categories = sorted({p.category for p in engine.products.values() if p.category})
    brands = sorted({p.brand for p in engine.products.values() if p.brand})
    calls = []
    for n, user in enumerate(sorted(engine.histories)):
        history = engine.histories[user]
        profile = UserProfile(
            user_id=user, category_affinity={engine.products[history[-1]].category: 1.0},
            dismissed={rng.choice(items): NOW - 86_400 * rng.randint(0, 20)
                       for _ in range(n % 3)},
            purchased={rng.choice(history): NOW - 86_400 * rng.randint(1, 90)
                       for _ in range(n % 2)})
        rules = [None, Rules(),
                 Rules(boost=[{"field": "brand", "value": rng.choice(brands), "multiply": 1.5,
                               "add": 0.2}],
                       bury=[{"field": "category", "value": rng.choice(categories),
                              "multiply": 0.5, "add": -0.1}]),
                 Rules(pins=[{"item_id": rng.choice(items), "position": rng.randint(0, 5)},
                             {"item_id": "not-a-candidate", "position": 7}],
                       exclude=[rng.choice(items)], available_only=False),
                 Rules(price_min=20.0, price_max=60.0, exclude_brands=[rng.choice(brands)])
                 ][n % 5]
        calls.append({"user_id": user, "k": (24, 10, 5)[n % 3], "profile": profile,
                      "rules": rules, "context": RecContext(
                          category=rng.choice(categories) if n % 7 == 0 else None),
                      "exclude": (rng.choice(items),) if n % 4 == 0 else ()})
    return calls


def _same(got: list[list[Result]], want: list[list[Result]]) -> None:
    assert len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        assert [r.item_id for r in a] == [r.item_id for r in b]
        for r, s in zip(a, b, strict=True):  # the signals in the same order, too
            assert (r.item_id, r.score) == (s.item_id, s.score)
            assert list(r.signals.items()) == list(s.signals.items())
            assert list(r.evidence.items()) == list(s.evidence.items())


def test_the_pool_answers_exactly_as_the_per_candidate_path(
        engine: RecommendationEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    _freeze_time(monkeypatch)
    calls = _calls(engine, seed=1)
    pooled = _answers(engine, monkeypatch, True, calls)
    _same(pooled, _answers(engine, monkeypatch, False, calls))
    assert sum(len(a) for a in pooled) > 10 * len(calls) // 2  # real lists, not empty ones
    assert any(r.signals.get("dismiss_penalty") or r.signals.get("purchase_penalty")
               for a in pooled for r in a)  # feedback acted
    assert any(r.evidence.get("pinned_position") is not None for a in pooled for r in a)
    assert any(r.evidence.get("rules") for a in pooled for r in a)  # boosts / buries acted


def test_the_pool_serves_for_you_when_it_applies(engine: RecommendationEngine,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    built = []
    real = recommend_pool.CandidatePool.build.__func__  # type: ignore[attr-defined]

    def spy(cls: type, *args: Any) -> Any:
        pool = real(cls, *args)
        built.append(pool)
        return pool

    monkeypatch.setattr(recommend_pool.CandidatePool, "build", classmethod(spy))
    user = sorted(engine.histories)[0]
    engine.for_you(user, 5)
    assert built and built[0] is not None
    assert recommend_pool.CandidatePool.build(replace_ranker(engine), RecContext(), ["als"],
                                              set()) is None  # no ranker: fusion serves


def replace_ranker(engine: RecommendationEngine) -> RecommendationEngine:
    import copy

    variant = copy.copy(engine)
    variant.ranker = None
    return variant


@pytest.mark.slow
def test_the_pool_answers_exactly_on_the_small_demo(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same over a real catalogue and history: the small demo shop (600 products, 150
    shoppers), every model trained by `train_all`, profiles built from the shoppers' own
    events."""
    from tests.conftest import load_small_demo
    from tests.recs.conftest import SMALL

    from shopsense.features.profile import build_profile
    from shopsense.models.interactions import interactions_from_events
    from shopsense.store import open_store
    from shopsense.training.recs import train_all

    load_small_demo(tmp_path)
    store = open_store(f"sqlite:///{tmp_path / 'shop.db'}")
    products, events = list(store.iter_products()), list(store.iter_events())
    engine = train_all(interactions_from_events(events), products, replace(SMALL,
                                                                           ranker_users=100))
    assert engine.ranker is not None
    _freeze_time(monkeypatch)
    by_actor: dict[str, list[Any]] = {}
    for event in events:
        by_actor.setdefault(event.actor or "", []).append(event)
    calls = _calls(engine, seed=2)
    for call in calls[::2]:  # half with the profile their events give
        call["profile"] = build_profile(call["user_id"], by_actor.get(call["user_id"], []),
                                        engine.products, NOW, half_life_days=30.0)
    _same(_answers(engine, monkeypatch, True, calls), _answers(engine, monkeypatch, False, calls))


def test_csr_rows_are_scipy_row_indexing() -> None:
    """The co-visit rows read straight from the CSR arrays: the same entries in the same
    order as `matrix[rows]` (repeated rows, empty rows, unsorted row order)."""
    import numpy as np
    from scipy import sparse

    from shopsense.retrieve.covisit import _csr_rows

    rng = np.random.default_rng(0)
    dense = rng.random((40, 30)) * (rng.random((40, 30)) < 0.2)
    dense[7] = 0.0  # an empty row
    matrix = sparse.csr_matrix(dense)
    for rows in ([3, 7, 3, 39, 0], [7], [], list(range(40))[::-1]):
        anchors = np.asarray(rows, dtype=np.int64)
        owner, columns, values = _csr_rows(matrix, anchors)
        sub = matrix[anchors]
        assert np.array_equal(owner, np.repeat(np.arange(len(rows)), np.diff(sub.indptr)))
        assert np.array_equal(columns, sub.indices) and np.array_equal(values, sub.data)
