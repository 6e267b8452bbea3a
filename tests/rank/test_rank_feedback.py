"""Feedback: dismissed items never return, variants sink with a half-life, durables are not
re-recommended right away while consumables are."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shopsense.domain import Candidate, Event, Product, UserProfile
from shopsense.features.repurchase import learn_repurchase_rates
from shopsense.rank.feedback import apply_feedback

DAY = 86_400.0
NOW = 1_700_000_000.0
PRODUCTS = {
    "ac1": Product("ac1", "格力空调 1.5匹", category="家电 > 空调", brand="格力", price=2999),
    "ac2": Product("ac2", "格力空调 2匹", category="家电 > 空调", brand="格力", price=3999),
    "ac3": Product("ac3", "美的空调", category="家电 > 空调", brand="美的", price=2599),
    "tv1": Product("tv1", "电视", category="家电 > 电视", brand="格力", price=1999),
    "snack": Product("snack", "坚果", category="食品 > 零食", brand="三只松鼠", price=29),
    "tea": Product("tea", "绿茶", category="食品 > 茶", brand="西湖", price=59),
}


def cands(*ids: str) -> list[Candidate]:
    return [Candidate(i, 10.0 - n) for n, i in enumerate(ids)]


def test_dismissed_item_is_removed_and_variant_sinks_with_evidence() -> None:
    profile = UserProfile("u", dismissed={"ac1": NOW - DAY})
    out = apply_feedback(cands("ac1", "ac2", "ac3", "tv1"), profile, PRODUCTS, NOW)
    ids = [c.item_id for c in out]
    assert "ac1" not in ids
    # ac2 shares brand + category with the dismissed ac1: it sinks 0.5 ** (1 / 14) of the
    # way from its score (9) to just below the lowest (7)
    assert ids == ["ac3", "ac2", "tv1"]
    ac2 = out[1]
    assert ac2.signals["dismiss_penalty"] == pytest.approx(-(0.5 ** (1 / 14)) * 2.0, rel=1e-5)
    assert ac2.evidence["dismissed_item"] == "ac1"
    assert ac2.evidence["dismiss_penalty_match"] == "same_brand_category"
    assert "dismiss_penalty" not in out[0].signals


def test_penalty_halves_with_the_half_life() -> None:
    def penalty(age_days: float) -> float:
        profile = UserProfile("u", dismissed={"ac1": NOW - age_days * DAY})
        out = apply_feedback(cands("ac2", "tv1", "ac3"), profile, PRODUCTS, NOW,
                             half_life_days=10)
        return next(c.signals["dismiss_penalty"] for c in out if c.item_id == "ac2")
    assert penalty(10) == pytest.approx(penalty(0) / 2, rel=1e-6)
    assert penalty(20) == pytest.approx(penalty(0) / 4, rel=1e-6)


def test_embedding_neighbours_sink_by_similarity() -> None:
    profile = UserProfile("u", dismissed={"tea": NOW})
    neighbours = {"tea": [("snack", 0.8), ("tv1", 0.1)]}
    out = apply_feedback(cands("snack", "tv1", "ac3"), profile, PRODUCTS, NOW,
                         neighbours=lambda i: neighbours.get(i, []))
    snack = next(c for c in out if c.item_id == "snack")
    assert snack.evidence["dismiss_penalty_match"] == "embedding_neighbour"
    assert [c.item_id for c in out] == ["tv1", "snack", "ac3"]  # 10 -> 10 - 0.8 * 2 = 8.4


def test_durable_purchase_blocks_then_returns_consumable_stays() -> None:
    profile = UserProfile("u", purchased={"ac1": NOW - 5 * DAY, "snack": NOW - 5 * DAY})
    snack_consumable = dict(PRODUCTS)
    snack_consumable["snack"] = Product("snack", "坚果", category="食品 > 零食",
                                        attributes={"consumable": "true"})
    out = apply_feedback(cands("ac1", "snack", "ac3", "tv1"), profile, snack_consumable, NOW)
    ids = [c.item_id for c in out]
    assert "ac1" not in ids and "snack" in ids
    ac3 = next(c for c in out if c.item_id == "ac3")
    assert ac3.evidence["purchased_item"] == "ac1" and ac3.signals["purchase_penalty"] < 0
    later = apply_feedback(cands("ac1"), profile, PRODUCTS, NOW + 400 * DAY)
    assert [c.item_id for c in later] == ["ac1"]


def test_learned_repurchase_rate_marks_snacks_consumable() -> None:
    events = []
    for u in range(10):
        for k in range(3):
            events.append(Event(f"s{u}{k}", "purchase", NOW - (30 - 10 * k) * DAY,
                                user_id=f"u{u}", item_id="snack"))
        events.append(Event(f"a{u}", "purchase", NOW - 20 * DAY, user_id=f"u{u}", item_id="ac1"))
    rates = learn_repurchase_rates(events, PRODUCTS)
    assert rates.is_consumable(PRODUCTS["snack"]) and not rates.is_consumable(PRODUCTS["ac1"])
    assert rates.interval_for("食品 > 零食") == pytest.approx(10.0)
    profile = UserProfile("u0", purchased={"snack": NOW - DAY, "ac1": NOW - DAY})
    out = apply_feedback(cands("snack", "ac1"), profile, PRODUCTS, NOW, repurchase=rates)
    assert [c.item_id for c in out] == ["snack"]


@settings(max_examples=150, deadline=None)
@given(
    scores=st.lists(st.floats(-50, 50), min_size=1, max_size=6),
    dismissed=st.dictionaries(st.sampled_from(sorted(PRODUCTS)), st.floats(0, 100), max_size=4),
)
def test_property_dismissed_never_return(scores: list[float], dismissed: dict[str, float]) -> None:
    ids = sorted(PRODUCTS)[: len(scores)]
    candidates = [Candidate(i, s) for i, s in zip(ids, scores, strict=True)]
    profile = UserProfile("u", dismissed={i: NOW - d * DAY for i, d in dismissed.items()})
    out = apply_feedback(candidates, profile, PRODUCTS, NOW,
                         neighbours=lambda i: [(j, 0.5) for j in PRODUCTS if j != i])
    assert not {c.item_id for c in out} & set(dismissed)
    assert {c.item_id for c in out} == set(ids) - set(dismissed)
    assert [c.score for c in out] == sorted((c.score for c in out), reverse=True)
    for c in out:  # a penalty only ever lowers
        before = dict(zip(ids, scores, strict=True))[c.item_id]
        assert c.score <= before + 1e-9


def test_vector_neighbours_feed_feedback() -> None:
    from shopsense.rank.feedback import vector_neighbours

    rng = np.random.default_rng(0)
    base = rng.normal(size=16)
    vectors = {"tea": base, "snack": base + 0.1 * rng.normal(size=16),
               "tv1": rng.normal(size=16), "ac3": -base}
    neighbours = vector_neighbours(vectors, k=2, min_similarity=0.5)
    found = neighbours("tea")
    assert [i for i, _ in found] == ["snack"] and found[0][1] > 0.9
    assert neighbours("unknown") == []


def test_due_consumables_are_lifted_when_asked() -> None:
    events = [Event(f"s{u}{k}", "purchase", NOW - (60 - 10 * k) * DAY, user_id=f"u{u}",
                    item_id="snack") for u in range(10) for k in range(3)]
    rates = learn_repurchase_rates(events, PRODUCTS)

    def ranked(days_ago: float, strength: float) -> list[Candidate]:
        profile = UserProfile("u", purchased={"snack": NOW - days_ago * DAY})
        return apply_feedback(cands("ac2", "tv1", "snack"), profile, PRODUCTS, NOW,
                              repurchase=rates, replenish_strength=strength)

    due = ranked(9, 1.0)
    assert due[0].item_id == "snack" and due[0].signals["replenish_boost"] > 0
    assert due[0].evidence["replenish_item"] == "snack"
    assert [c.item_id for c in ranked(2, 1.0)] == ["ac2", "tv1", "snack"]  # not due yet
    assert [c.item_id for c in ranked(9, 0.0)] == ["ac2", "tv1", "snack"]  # off by default


def test_inputs_are_never_modified_and_only_changed_candidates_are_copies() -> None:
    profile = UserProfile("u", dismissed={"ac1": NOW - DAY}, purchased={"ac3": NOW - 400 * DAY})
    given = cands("ac1", "ac2", "ac3", "tv1", "snack")
    before = [(c.item_id, c.score, dict(c.signals), dict(c.evidence)) for c in given]
    out = apply_feedback(given, profile, PRODUCTS, NOW)
    assert [(c.item_id, c.score, c.signals, c.evidence) for c in given] == before
    by_id = {c.item_id: c for c in out}
    assert by_id["ac2"].signals["dismiss_penalty"] < 0 and by_id["ac2"] is not given[1]
    assert by_id["tv1"] is given[3] and by_id["snack"] is given[4]  # unchanged: passed on
