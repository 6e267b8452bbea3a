"""IPS / SNIPS recover a new policy's true click rate from another policy's logs."""

from __future__ import annotations

import numpy as np
import pytest

from shopsense.evaluation.counterfactual import Impression, estimate, ips, snips


def _simulate(n: int, seed: int = 0) -> tuple[list[Impression], float]:
    rng = np.random.default_rng(seed)
    click_rate = np.array([0.05, 0.10, 0.30, 0.02])  # true reward of each of 4 items
    logging = np.array([0.4, 0.3, 0.1, 0.2])  # the old ranker rarely shows the best item
    new = np.array([0.1, 0.2, 0.6, 0.1])  # the new ranker prefers it
    shown = rng.choice(4, size=n, p=logging)
    clicks = rng.random(n) < click_rate[shown]
    logs = [Impression(float(c), float(logging[a]), float(new[a])) for a, c in zip(shown, clicks,
                                                                                   strict=True)]
    return logs, float(new @ click_rate)


def test_estimators_recover_the_new_policy_value() -> None:
    logs, truth = _simulate(40_000)
    assert ips(logs) == pytest.approx(truth, rel=0.08)
    assert snips(logs) == pytest.approx(truth, rel=0.08)
    report = estimate(logs, n_resamples=200)
    low, high = report["snips_ci95"]
    assert low <= truth <= high
    assert report["effective_sample_size"] < len(logs)


def test_rejects_bad_propensities() -> None:
    with pytest.raises(ValueError):
        ips([Impression(1.0, 0.0, 0.5)])
    with pytest.raises(ValueError):
        snips([])
