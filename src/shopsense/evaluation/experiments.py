"""Statistics of online comparisons: A/B arms and team-draft interleaving.

- Per-arm outcomes (clicks, add-to-carts, conversions, revenue per visitor) with 95 % bootstrap
  intervals (`evaluation.metrics.summarise`).
- Sample-ratio mismatch: a chi-square test of the visitors per arm against the planned shares
  (p < 0.001 flags a broken assignment, not a treatment effect).
- An always-valid p-value (mixture sequential probability ratio test, Johari, Pekelis & Walsh
  2017, normal mixture with variance `tau2`): it may be read after every visitor without
  inflating false positives, because it is the running minimum of 1 / likelihood ratio of a
  test martingale (variances are plugged in, so the first `MIN_UNITS` units only gather). For A/B the statistic is the difference of the arms' means; for interleaving
  the mean per-session credit (+1: B's items drew more clicks, -1: A's).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

from shopsense.evaluation.metrics import summarise

TAU2_SHARE = 0.1  # mixing variance as a share of the outcome's variance (effects ~0.3 sd)
MIN_UNITS = 200  # p-values stay 1 until this many units (plug-in variances need a sample)


def always_valid_p(theta: np.ndarray, variance: np.ndarray, tau2: float) -> np.ndarray:
    """Running always-valid p-values of H0: theta = 0 from estimates and their variances."""
    theta = np.asarray(theta, dtype=np.float64)
    v = np.maximum(np.asarray(variance, dtype=np.float64), 1e-12)
    with np.errstate(invalid="ignore", over="ignore"):
        log_lr = 0.5 * np.log(v / (v + tau2)) + theta ** 2 * tau2 / (2.0 * v * (v + tau2))
        p = np.minimum(1.0, np.exp(-log_lr))
    p[:MIN_UNITS - 1] = 1.0
    return np.minimum.accumulate(np.where(np.isfinite(p), p, 1.0))


def _running_mean_var(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = np.arange(1, x.size + 1, dtype=np.float64)
    s1, s2 = np.cumsum(x), np.cumsum(x * x)
    mean = s1 / n
    var = np.maximum(s2 / n - mean ** 2, 0.0) * n / np.maximum(n - 1, 1)
    return n, mean, var


def interleaving_p(credits: Sequence[int], tau2: float | None = None) -> np.ndarray:
    """Always-valid p-value after each session of the mean interleaving credit."""
    x = np.asarray(credits, dtype=np.float64)
    if x.size == 0:
        return np.ones(0)
    n, mean, var = _running_mean_var(x)
    var = np.maximum(var, 1.0 / n)  # before any credit the variance is unknown: be cautious
    return always_valid_p(mean, var / n, tau2 if tau2 is not None else TAU2_SHARE)


def ab_p(arms: Sequence[int], outcomes: Sequence[float], tau2: float | None = None
         ) -> np.ndarray:
    """Always-valid p-value after each visitor of mean(B) - mean(A); `arms` 0 / 1 in arrival
    order, `outcomes` the visitors' values."""
    arm = np.asarray(arms, dtype=np.int64)
    y = np.asarray(outcomes, dtype=np.float64)
    if y.size == 0:
        return np.ones(0)
    out = []
    for a in (0, 1):
        mask = (arm == a).astype(np.float64)
        n = np.maximum(np.cumsum(mask), 1.0)
        s1, s2 = np.cumsum(y * mask), np.cumsum(y * y * mask)
        mean = s1 / n
        var = np.maximum(s2 / n - mean ** 2, 0.0) * n / np.maximum(n - 1, 1)
        out.append((np.cumsum(mask), mean, var))
    (na, ma, va), (nb, mb, vb) = out
    pooled = max(float(np.var(y)), 1e-6)
    ready = (na >= 2) & (nb >= 2)
    variance = np.where(ready, np.maximum(va, pooled / 10) / np.maximum(na, 1)
                        + np.maximum(vb, pooled / 10) / np.maximum(nb, 1), np.inf)
    diff = np.where(ready, mb - ma, 0.0)
    return always_valid_p(diff, variance, tau2 if tau2 is not None else TAU2_SHARE * pooled)


def first_detection(p_values: np.ndarray, alpha: float = 0.05) -> int | None:
    """1-based count of units when the always-valid p first fell below alpha (None: never)."""
    hits = np.flatnonzero(p_values < alpha)
    return int(hits[0]) + 1 if hits.size else None


def sample_ratio_mismatch(counts: Sequence[int], shares: Sequence[float]) -> dict[str, Any]:
    """Chi-square test of the units per arm against the planned shares."""
    observed = np.asarray(counts, dtype=np.float64)
    expected = np.asarray(shares, dtype=np.float64) / np.sum(shares) * observed.sum()
    if observed.sum() == 0:
        return {"p_value": 1.0, "mismatch": False}
    p = float(stats.chisquare(observed, expected).pvalue)
    return {"p_value": round(p, 6), "mismatch": p < 0.001}


def arm_report(per_visitor: Mapping[str, Mapping[str, Sequence[float]]],
               shares: Mapping[str, float]) -> dict[str, Any]:
    """Per arm: visitors and every outcome per visitor with its interval; the SRM check."""
    arms = list(per_visitor)
    out: dict[str, Any] = {"arms": {}}
    for arm in arms:
        outcomes = {name: np.asarray(v, dtype=np.float64) for name, v in per_visitor[arm].items()}
        visitors = len(next(iter(outcomes.values()), []))
        out["arms"][arm] = {"visitors": visitors, **summarise(outcomes)}
    out["sample_ratio"] = sample_ratio_mismatch(
        [out["arms"][a]["visitors"] for a in arms], [shares[a] for a in arms])
    return out
