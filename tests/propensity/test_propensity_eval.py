"""Calibration and ranking metrics against brute-force oracles."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from shopsense.evaluation.propensity import (
    _grouped_auc,
    binary_report,
    expected_calibration_error,
    reliability_curve,
)


def test_calibrated_forecast_has_small_ece_and_shifted_one_large() -> None:
    rng = np.random.default_rng(0)
    prob = rng.uniform(0, 1, 20_000)
    y = rng.random(prob.size) < prob
    assert expected_calibration_error(y, prob) < 0.015
    assert expected_calibration_error(y, np.clip(prob + 0.2, 0, 1)) > 0.15
    report = binary_report(y, prob)
    low, high = report["auc_ci95"]
    assert low < report["auc"] < high and high - low < 0.03
    assert report["brier"] == pytest.approx(np.mean((prob - y) ** 2))


def test_reliability_points_by_hand() -> None:
    y = np.array([0, 1, 1, 1])
    prob = np.array([0.05, 0.05, 0.95, 0.91])
    points = reliability_curve(y, prob)
    assert [(p["bin"], p["weight"]) for p in points] == [(0, 2.0), (9, 2.0)]
    assert points[0]["observed_rate"] == 0.5 and points[1]["mean_predicted"] == pytest.approx(0.93)
    assert expected_calibration_error(y, prob) == pytest.approx((0.45 + 0.07) / 2)


@settings(max_examples=80, deadline=None)
@given(rows=st.lists(st.tuples(st.booleans(), st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0]),
                               st.floats(0.1, 3.0)), min_size=2, max_size=60))
def test_property_auc_matches_sklearn_and_metrics_in_unit_interval(rows) -> None:
    y = np.array([r[0] for r in rows])
    prob = np.array([r[1] for r in rows])
    w = np.array([r[2] for r in rows])
    report = binary_report(y, prob, w, n_resamples=20, noise_draws=5)
    for key in ("brier", "ece", "base_rate"):
        assert 0.0 <= report[key] <= 1.0
    if 0 < y.sum() < y.size:
        order = np.argsort(prob, kind="stable")
        group = np.concatenate([[0], np.cumsum(np.diff(prob[order]) != 0)])
        ours = _grouped_auc(group, y[order].astype(float), w[order])
        assert ours == pytest.approx(roc_auc_score(y, prob, sample_weight=w), abs=1e-9)
        assert 0.0 <= report["auc"] <= 1.0


def test_group_offsets_match_group_rates_with_shrinkage() -> None:
    from shopsense.models.propensity_scorers import group_offsets, shift_log_odds

    prob = np.full(400, 0.2)
    group = np.repeat([0, 1], 200)
    y = np.concatenate([np.arange(200) < 80, np.arange(200) < 40])  # 0.4 and 0.2 observed
    w = np.ones(400)
    offsets = group_offsets(prob, y, w, group, 3, prior_rows=0.0)
    assert shift_log_odds(np.array([0.2]), offsets[0])[0] == pytest.approx(0.4)
    assert offsets[1] == pytest.approx(0.0, abs=1e-12) and offsets[2] == 0.0
    shrunk = group_offsets(prob, y, w, group, 3, prior_rows=200.0)
    assert 0 < shrunk[0] < offsets[0]
