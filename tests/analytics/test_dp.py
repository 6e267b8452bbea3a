"""Differential-privacy mechanisms and the budget ledger: noise scales against their formulas,
the analytic Gaussian against its exact privacy curve, thresholds against their tail bound,
and a ledger that persists, sums and refuses over-budget releases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shopsense.privacy.dp import (
    BudgetExceeded,
    GaussianMechanism,
    LaplaceMechanism,
    PrivacyLedger,
    analytic_gaussian_sigma,
    gaussian_delta,
    make_mechanism,
    open_key_threshold,
    sensitivities,
)
from shopsense.store import open_store


def test_laplace_noise_has_the_scale_of_its_formula() -> None:
    mech = LaplaceMechanism(0.5)
    rng = np.random.default_rng(1)
    noisy = mech.release(np.zeros(40_000), l1=3.0, l2=3.0, rng=rng)
    assert np.std(noisy) == pytest.approx(math.sqrt(2) * 3.0 / 0.5, rel=0.03)
    assert abs(np.mean(noisy)) < 0.15
    assert mech.stddev(3.0, 3.0) == pytest.approx(math.sqrt(2) * 6.0)


def test_gaussian_noise_matches_the_analytic_sigma() -> None:
    mech = GaussianMechanism(1.0, 1e-5)
    sigma = mech.stddev(10.0, 2.0)
    rng = np.random.default_rng(2)
    noisy = mech.release(np.full(40_000, 5.0), l1=10.0, l2=2.0, rng=rng)
    assert np.std(noisy) == pytest.approx(sigma, rel=0.03)
    assert np.mean(noisy) == pytest.approx(5.0, abs=0.1)


@settings(max_examples=40, deadline=None)
@given(epsilon=st.floats(0.05, 8.0), log_delta=st.floats(-10, -3), l2=st.floats(0.5, 20))
def test_analytic_gaussian_sigma_is_the_smallest_private_sigma(epsilon: float, log_delta: float,
                                                             l2: float) -> None:
    delta = 10.0 ** log_delta
    sigma = analytic_gaussian_sigma(epsilon, delta, l2)
    assert gaussian_delta(epsilon, sigma, l2) <= delta * (1 + 1e-6)
    assert gaussian_delta(epsilon, sigma * 0.98, l2) > delta  # not needlessly noisy


def test_analytic_gaussian_beats_the_classical_bound_below_epsilon_one() -> None:
    for epsilon in (0.1, 0.5, 0.9):
        classical = math.sqrt(2 * math.log(1.25 / 1e-5)) / epsilon
        assert analytic_gaussian_sigma(epsilon, 1e-5) < classical


def test_open_key_threshold_bounds_the_chance_a_single_shopper_key_leaks() -> None:
    cap, delta = 3, 1e-6
    laplace = LaplaceMechanism(1.0)
    tau = open_key_threshold(laplace, cap, delta)
    b = laplace.scale(cap)
    # A key held by one shopper has count 1; P(1 + Lap(b) >= tau) = exp(-(tau - 1) / b) / 2.
    leak = 0.5 * math.exp(-(tau - 1) / b)
    assert leak <= delta / cap * (1 + 1e-9)
    gauss = GaussianMechanism(1.0, 1e-6)
    tau_g = open_key_threshold(gauss, cap, delta)
    sigma = gauss.stddev(*sensitivities(cap, 1))
    assert 0.5 * math.erfc((tau_g - 1) / (sigma * math.sqrt(2))) <= delta / cap * (1 + 1e-6)


def test_sensitivities_follow_the_caps() -> None:
    assert sensitivities(10, 1) == (10.0, pytest.approx(math.sqrt(10)))
    assert sensitivities(10, 50) == (10.0, pytest.approx(10.0))  # per-key bounded by the cap
    with pytest.raises(ValueError):
        sensitivities(0, 1)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_budgets_are_refused(bad: float) -> None:
    with pytest.raises(ValueError):
        make_mechanism("laplace", bad)
    with pytest.raises(ValueError):
        make_mechanism("gaussian", 1.0, 0.0)
    with pytest.raises(ValueError):
        make_mechanism("exponential", 1.0)


def test_ledger_persists_sums_and_refuses_over_budget(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    ledger = PrivacyLedger(open_store(url), budget=3.0)
    ledger.charge("behaviour", mechanism="laplace", epsilon=1.0, delta=0.0, fingerprint="a",
                  body={"x": 1})
    ledger.charge("behaviour", mechanism="gaussian", epsilon=1.5, delta=1e-6, fingerprint="b",
                  body={"x": 2})
    with pytest.raises(BudgetExceeded):
        ledger.charge("behaviour", mechanism="laplace", epsilon=1.0, delta=0.0)
    reopened = PrivacyLedger(open_store(url), budget=3.0)
    assert reopened.spent() == (pytest.approx(2.5), pytest.approx(1e-6))
    assert reopened.remaining() == pytest.approx(0.5)
    assert [e.epsilon for e in reopened.entries()] == [1.5, 1.0]
    assert reopened.cached("behaviour", "a") == (1, {"x": 1})
    assert reopened.latest("behaviour") == (2, {"x": 2})
    assert reopened.cached("behaviour", "zzz") is None
