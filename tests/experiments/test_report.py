"""The experiment report on synthetic traffic with a known answer: a better arm is found (and
its difference's interval excludes 0), equal arms stay silent in nearly every run, a broken
split is flagged, and interleaving credits clicks to the arm that picked the item."""

from __future__ import annotations

import random

import pytest

from shopsense.domain import Event
from shopsense.evaluation.experiment_report import ab_report, interleaving_report
from shopsense.pipeline.experiments import new_experiment, team_tag, validate_spec
from shopsense.pipeline.interleave import team_draft
from shopsense.pipeline.recommend import PERSONAL_SOURCES
from shopsense.store.experiments import Assignment
from shopsense.store.impressions import ImpressionRecord


def _record(kind: str = "ab", metric: str = "clicks", shares=(0.5, 0.5)):
    arms = [{"name": n, "share": s} for n, s in zip(("a", "b"), shares, strict=True)]
    return new_experiment(validate_spec({"name": "t", "kind": kind, "metric": metric,
                                         "arms": arms}, PERSONAL_SOURCES), now=0.0)


def _ab_traffic(record, visitors: int, rates: dict[str, float], seed: int,
                split: float = 0.5):
    """Each visitor sees 2 lists; each list is clicked with the arm's rate; a click turns
    into a cart (30 %) and a purchase of 100 (half of carts)."""
    rng = random.Random(seed)
    assignments, lists, events = [], [], []
    for v in range(visitors):
        arm = "b" if rng.random() < split else "a"
        actor, t0 = f"v{v}", 1.0 + v
        assignments.append(Assignment(actor, arm, t0))
        for n in range(2):
            clicked = frozenset({0}) if rng.random() < rates[arm] else frozenset()
            lists.append(ImpressionRecord(f"{v:08x}{n:08x}", t0 + n, actor, "for_you",
                                          ("i1", "i2"), arm=f"{record.id}:{arm}",
                                          clicks=clicked))
            if clicked and rng.random() < 0.3:
                events.append(Event(f"c{v}{n}", "cart", t0 + n, user_id=actor, item_id="i1"))
                if rng.random() < 0.5:
                    events.append(Event(f"p{v}{n}", "purchase", t0 + n, user_id=actor,
                                        item_id="i1", value=100.0))
    return assignments, lists, events


def test_a_better_arm_is_found_with_every_outcome_reported() -> None:
    record = _record()
    out = ab_report(record, *_ab_traffic(record, 3000, {"a": 0.20, "b": 0.30}, seed=1))
    a, b = out["arms"]["a"], out["arms"]["b"]
    assert a["visitors"] + b["visitors"] == out["visitors"] == 3000
    assert a["ctr"] == pytest.approx(0.20, abs=0.03) and b["ctr"] == pytest.approx(0.30, abs=0.03)
    for arm in (a, b):
        for name in ("ctr", "clicks", "add_to_cart", "conversion", "revenue"):
            low, high = arm[f"{name}_ci"]
            assert low <= arm[name] <= high
        assert arm["revenue"] == pytest.approx(100 * arm["conversion"], rel=0.5)
    comparison = out["comparisons"]["b"]
    assert comparison["significant"] and comparison["p_value"] < 0.05
    assert comparison["difference_ci"][0] > 0 and comparison["detected_at"] <= 3000
    assert not out["sample_ratio"]["mismatch"]
    series = out["series"]
    assert len(series["visitors"]) == len(series["p_value"]["b"]) <= 200
    assert series["p_value"]["b"] == sorted(series["p_value"]["b"], reverse=True)  # running min
    assert set(series["mean"]) == {"a", "b"}


def test_outcomes_before_exposure_and_of_other_arms_do_not_count() -> None:
    record = _record(metric="conversion")
    assignments = [Assignment("v1", "a", 100.0), Assignment("v2", "b", 100.0)]
    lists = [ImpressionRecord("0" * 16, 101.0, "v1", "for_you", ("i1",), arm=f"{record.id}:b",
                              clicks=frozenset({0})),  # a list tagged with the other arm
             ImpressionRecord("1" * 16, 101.0, "v2", "for_you", ("i1",), arm=f"{record.id}:b",
                              clicks=frozenset({0}))]
    events = [Event("e1", "purchase", 50.0, user_id="v1", item_id="i1", value=9.0),  # before
              Event("e2", "purchase", 150.0, user_id="v2", item_id="i1", value=9.0),
              Event("e3", "purchase", 150.0, user_id="stranger", item_id="i1", value=9.0)]
    out = ab_report(record, assignments, lists, events)
    assert out["arms"]["a"]["lists"] == 0 and out["arms"]["a"]["conversion"] == 0.0
    assert out["arms"]["b"]["clicks"] == 1.0 and out["arms"]["b"]["revenue"] == 9.0


def test_a_a_stays_silent_and_a_broken_split_is_flagged() -> None:
    record = _record()
    loud = sum(ab_report(record, *_ab_traffic(record, 800, {"a": 0.25, "b": 0.25}, seed=s))
               ["comparisons"]["b"]["significant"] for s in range(15))
    assert loud <= 2  # always-valid at alpha 0.05: ~5 % at most, read after every visitor
    out = ab_report(record, *_ab_traffic(record, 2000, {"a": 0.25, "b": 0.25}, seed=99,
                                         split=0.6))
    assert out["sample_ratio"]["mismatch"] and out["sample_ratio"]["p_value"] < 0.001


def _interleaved_lists(record, sessions: int, better: int, seed: int):
    rng = random.Random(seed)
    a = [f"a{j}" for j in range(10)]
    b = [f"b{j}" for j in range(10)]
    out = []
    for n in range(sessions):
        shown, teams = team_draft(a, b, 10, rng)
        chance = [0.10 * (1.5 if t == better else 1.0) / (1 + p) ** 0.5 if better >= 0 else
                  0.10 / (1 + p) ** 0.5 for p, t in enumerate(teams)]
        clicks = frozenset(p for p, c in enumerate(chance) if rng.random() < c)
        out.append(ImpressionRecord(f"{n:016x}", 1.0 + n, f"v{n}", "for_you", tuple(shown),
                                    arm=team_tag(record.id, teams), clicks=clicks))
    return out


def test_interleaving_finds_the_arm_whose_items_draw_clicks() -> None:
    record = _record(kind="interleaving")
    out = interleaving_report(record, _interleaved_lists(record, 3000, better=1, seed=4))
    assert out["lists"] == 3000 and out["lists_with_clicks"] > 500
    assert out["wins"]["b"] > out["wins"]["a"] and out["significant"]
    assert out["winner"] == "b" and out["preference"] > 0 and out["preference_ci"][0] > 0
    assert not out["balance"]["mismatch"]
    flipped = interleaving_report(record, _interleaved_lists(record, 3000, better=0, seed=4))
    assert flipped["winner"] == "a" and flipped["preference"] < 0
    loud = sum(interleaving_report(record, _interleaved_lists(record, 600, -1, seed=s))
               ["significant"] for s in range(15))
    assert loud <= 2


def test_interleaving_ignores_pinned_positions_and_foreign_tags() -> None:
    record = _record(kind="interleaving")
    rows = [ImpressionRecord("0" * 16, 1.0, "v", "for_you", ("p", "x", "y"),
                             arm=team_tag(record.id, [None, 0, 1]), clicks=frozenset({0})),
            ImpressionRecord("1" * 16, 2.0, "v", "for_you", ("x", "y"),
                             arm=team_tag(record.id, [0, 1]), clicks=frozenset({1})),
            ImpressionRecord("2" * 16, 3.0, "v", "for_you", ("x",), arm=f"{record.id}:a")]
    out = interleaving_report(record, rows)
    assert out["lists"] == 2 and out["lists_with_clicks"] == 2
    assert out["wins"] == {"a": 0, "b": 1} and out["ties"] == 1  # the pin's click: nobody's
