"""Online comparison statistics: team-draft interleaving, always-valid p-values (silent under
A/A, fast under a real difference), the sample-ratio check, per-arm intervals."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shopsense.evaluation.experiments import (
    MIN_UNITS,
    ab_p,
    always_valid_p,
    arm_report,
    first_detection,
    interleaving_p,
    sample_ratio_mismatch,
)
from shopsense.pipeline.interleave import credit, team_draft


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 30), unique=True, max_size=15),
       st.lists(st.integers(0, 30), unique=True, max_size=15), st.integers(1, 12),
       st.integers(0, 1000))
def test_team_draft_properties(a: list[int], b: list[int], k: int, seed: int) -> None:
    la, lb = [str(x) for x in a], [str(x) for x in b]
    shown, teams = team_draft(la, lb, k, random.Random(seed))
    assert len(shown) == len(set(shown)) == min(k, len(set(la) | set(lb)))
    assert len(teams) == len(shown)
    picks = [teams.count(0), teams.count(1)]
    if len(set(la) | set(lb)) >= 2 * k and len(la) >= k and len(lb) >= k:
        assert abs(picks[0] - picks[1]) <= 1  # balanced while both teams have items
    # each team's picks appear in that team's own order
    for team, ranking in ((0, la), (1, lb)):
        mine = [i for i, t in zip(shown, teams, strict=True) if t == team]
        assert mine == sorted(mine, key=ranking.index)


def test_credit_by_hand() -> None:
    assert credit([0, 1, 0, 1], [1, 3]) == 1
    assert credit([0, 1, 0, 1], [0]) == -1
    assert credit([0, 1, 0, 1], [0, 1]) == 0
    assert credit([0, 1], []) == 0


def test_always_valid_p_is_monotone_and_gathers_first() -> None:
    theta = np.full(1000, 0.3)
    p = always_valid_p(theta, np.full(1000, 0.01), tau2=0.1)
    assert np.all(np.diff(p) <= 0) and np.all(p[:MIN_UNITS - 1] == 1.0)
    by_hand = math.exp(-(0.5 * math.log(0.01 / 0.11) + 0.09 * 0.1 / (2 * 0.01 * 0.11)))
    assert p[-1] == pytest.approx(by_hand)  # = 0.0555
    shrinking = always_valid_p(theta, np.linspace(0.05, 0.001, 1000), tau2=0.1)
    assert shrinking[-1] < 1e-3 < shrinking[MIN_UNITS]


def test_a_a_is_silent_and_a_real_difference_is_found() -> None:
    """Peeking after every unit: A/A false positives stay under 5 %; B > A is found."""
    rng = np.random.default_rng(0)
    runs, n = 200, 2000
    false_ab = false_il = 0
    for _ in range(runs):
        arms = rng.integers(0, 2, n)
        false_ab += first_detection(ab_p(arms, rng.poisson(0.4, n))) is not None
        false_il += first_detection(interleaving_p(rng.choice([-1, 0, 0, 0, 1], n))) is not None
    assert false_ab / runs <= 0.05 and false_il / runs <= 0.05
    arms = rng.integers(0, 2, n)
    found = first_detection(ab_p(arms, rng.poisson(0.4 + 0.15 * arms)))
    assert found is not None and found < n
    credits = rng.choice([-1, 0, 0, 1, 1], n)  # B wins twice as often
    assert first_detection(interleaving_p(credits)) is not None


def test_sample_ratio_mismatch() -> None:
    assert not sample_ratio_mismatch([5000, 5040], [0.5, 0.5])["mismatch"]
    assert sample_ratio_mismatch([5000, 5600], [0.5, 0.5])["mismatch"]
    assert not sample_ratio_mismatch([9000, 1000], [0.9, 0.1])["mismatch"]
    assert sample_ratio_mismatch([0, 0], [0.5, 0.5])["p_value"] == 1.0


def test_arm_report_gives_intervals_and_srm() -> None:
    rng = np.random.default_rng(1)
    per_visitor = {arm: {"clicks": rng.poisson(lam, 400), "revenue": rng.exponential(20, 400)}
                   for arm, lam in (("control", 0.3), ("treatment", 0.5))}
    report = arm_report(per_visitor, {"control": 0.5, "treatment": 0.5})
    control = report["arms"]["control"]
    assert control["visitors"] == 400
    low, high = control["clicks_ci"]
    assert low < control["clicks"] < high
    assert report["arms"]["treatment"]["clicks_ci"][0] > high  # clearly better here
    assert not report["sample_ratio"]["mismatch"]


@pytest.fixture(scope="module")
def replay_parts():
    from shopsense.demo.clicks import ClickModel, ShopperTaste
    from shopsense.domain import Product

    products = [Product(item_id=f"p{i}", title=f"p{i}", category="A" if i < 10 else "B",
                        brand="good" if i % 2 == 0 else "meh", price=float(10 + i))
                for i in range(20)]
    tastes = [ShopperTaste(f"u{n}", "mid", {"A": 1.0}, frozenset({"good"}), frozenset())
              for n in range(50)]
    return ClickModel(products), tastes


def test_replay_detects_the_better_list_and_stays_silent_on_a_a(replay_parts) -> None:
    from shopsense.evaluation.compare import Replay, sessions_to_detect

    model, tastes = replay_parts
    best = [f"p{i}" for i in (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)]  # category A, good brand first
    worse = [f"p{i}" for i in range(10, 20)]  # the other category
    replay = Replay(model, tastes, ([worse] * len(tastes), [best] * len(tastes)), k=10)
    assert replay.truth[1] > 3 * replay.truth[0]
    found = sessions_to_detect(replay, sessions=1500, runs=8)
    assert found["interleaving"]["detected_share"] == 1.0
    assert found["ab"]["detected_share"] == 1.0
    same = Replay(model, tastes, ([best] * len(tastes), [best] * len(tastes)), k=10)
    silent = sessions_to_detect(same, sessions=1500, runs=20, seed=5)
    assert silent["interleaving"]["detected_share"] <= 0.1
    assert silent["ab"]["detected_share"] <= 0.1
