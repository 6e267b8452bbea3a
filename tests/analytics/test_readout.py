"""Reading a release without misreading it: rates withheld below the minimum sample, intervals
that widen with the DP noise, and quiet stretches of days found from the noisy counts."""

from __future__ import annotations

import pytest

from shopsense.analytics.readout import quiet_stretches, rate, release_rates


def test_rate_below_the_minimum_sample_is_withheld() -> None:
    small = rate(11, 0, min_sample=30)
    assert small == {"n": 11, "min_sample": 30, "enough": False, "value": None, "low": None,
                     "high": None}
    assert rate(0, 0)["enough"] is False  # nothing shown, nothing divided by zero


def test_interval_contains_the_rate_and_widens_with_noise() -> None:
    quiet = rate(400, 600)
    noisy = rate(400, 600, noise_var_num=200.0, noise_var_other=200.0)
    assert quiet["value"] == noisy["value"] == pytest.approx(0.4)
    assert quiet["low"] < 0.4 < quiet["high"]
    assert noisy["high"] - noisy["low"] > quiet["high"] - quiet["low"]
    # binomial part alone: 1.96 * sqrt(.4 * .6 / 1000) = 0.0304
    assert quiet["high"] - quiet["value"] == pytest.approx(0.0304, abs=1e-3)
    capped = rate(50, 0)  # p = 1 stays within [0, 1]
    assert capped["value"] == 1.0 and capped["high"] == 1.0


def test_independent_denominator() -> None:
    r = rate(120, den=400, noise_var_num=50.0, noise_var_other=50.0)
    assert r["value"] == pytest.approx(0.3) and r["n"] == 400 and r["enough"]


def _days(counts: list[int], sd: float = 10.0) -> dict:
    rows = [{"key": f"2026-10-{i + 1:02d}", "parts": [f"2026-10-{i + 1:02d}"], "count": c}
            for i, c in enumerate(counts)]
    return {"active_daily": {"rows": rows, "stddev": sd}}


def test_quiet_stretches_from_noisy_counts() -> None:
    counts = [90, 80, 85, 3, 0, 25, 1, 0, 70, 75, 0, 2, 0, 0]
    found = quiet_stretches(_days(counts))
    # days 4-8 (one blip of 25 > 2 sd inside does not split them) and the quiet tail
    assert found == [{"first": "2026-10-04", "last": "2026-10-08", "days": 5, "to_end": False},
                     {"first": "2026-10-11", "last": "2026-10-14", "days": 4, "to_end": True}]
    assert quiet_stretches(_days([50, 0, 0, 50])) == []  # two quiet days are not a gap
    assert quiet_stretches({}) == []


def test_release_rates_shapes() -> None:
    aggs = {"funnel_daily": {"rows": [], "stddev": 2.0},
            "search_ctr": {"rows": [{"key": "clicked", "parts": ["clicked"], "count": 90},
                                    {"key": "abandoned", "parts": ["abandoned"], "count": 10}],
                           "stddev": 14.1},
            "new_returning": {"rows": [], "stddev": 1.0},
            "surface_ctr": {"rows": [{"key": "for_you|clicked", "parts": ["for_you", "clicked"],
                                      "count": 11},
                                     {"key": "for_you|not_clicked",
                                      "parts": ["for_you", "not_clicked"], "count": 0}],
                            "stddev": 14.1}}
    rates = release_rates(aggs, {"view": 0, "cart": 0, "purchase": 0}, 0)
    assert rates["search_ctr"]["value"] == pytest.approx(0.9) and rates["search_ctr"]["enough"]
    assert rates["surface_ctr"]["for_you"]["enough"] is False  # 100 % from 11 is not shown
    assert rates["view_to_cart"]["value"] is None
