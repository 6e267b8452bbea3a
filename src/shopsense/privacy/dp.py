"""Differential privacy for released aggregates: how much noise does a count need, and how
much privacy budget have the releases of this shop spent so far?

- `LaplaceMechanism(epsilon)`: pure epsilon-DP, noise scale = L1 sensitivity / epsilon.
- `GaussianMechanism(epsilon, delta)`: (epsilon, delta)-DP with the *analytic* Gaussian
  calibration (Balle & Wang, 2018), valid for every epsilon > 0, not only epsilon < 1.
- Sensitivity comes from contribution bounding: a query lets each shopper (the actor: user id,
  else session id) add at most `cap` to the whole histogram and at most `per_key` to one key,
  so L1 = cap and L2 = sqrt(cap * per_key).
- `open_key_threshold`: keys that come from the data themselves (free-text queries) are only
  released when their noisy count clears a threshold, which costs `delta`.
- `PrivacyLedger(store, budget=..., delta_budget=..., window_days=30)`: every release is
  appended to a table with its epsilon and delta; `spent()` sums those of the rolling window
  (basic sequential composition, an upper bound) and a release over the budget is refused.

See docs/PRIVACY.md "Differential privacy" for the guarantees and their limits.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from scipy.stats import norm

from shopsense.store import ledger as ledger_table
from shopsense.store.base import Store

MECHANISMS: tuple[str, ...] = ("laplace", "gaussian")
DEFAULT_DELTA = 1e-6


class NoiseMechanism(Protocol):
    """Adds calibrated noise to a vector of counts released together."""

    name: str
    epsilon: float
    delta: float

    def stddev(self, l1: float, l2: float) -> float: ...

    def release(self, counts: np.ndarray, *, l1: float, l2: float,
                rng: np.random.Generator) -> np.ndarray: ...


def _check_budget(epsilon: float, delta: float) -> None:
    if not (isinstance(epsilon, int | float) and math.isfinite(epsilon) and epsilon > 0):
        raise ValueError(f"epsilon must be a finite number > 0, got {epsilon!r}")
    if not 0 <= delta < 1:
        raise ValueError(f"delta must be in [0, 1), got {delta!r}")


@dataclass(frozen=True)
class LaplaceMechanism:
    """Pure epsilon-DP: each count gets Laplace(0, L1 / epsilon) noise."""

    epsilon: float
    name: str = "laplace"
    delta: float = 0.0

    def __post_init__(self) -> None:
        _check_budget(self.epsilon, self.delta)

    def scale(self, l1: float) -> float:
        return l1 / self.epsilon

    def stddev(self, l1: float, l2: float) -> float:
        return math.sqrt(2.0) * self.scale(l1)

    def release(self, counts: np.ndarray, *, l1: float, l2: float,
                rng: np.random.Generator) -> np.ndarray:
        counts = np.asarray(counts, dtype=np.float64)
        return counts + rng.laplace(0.0, self.scale(l1), size=counts.shape)


@dataclass(frozen=True)
class GaussianMechanism:
    """(epsilon, delta)-DP: each count gets N(0, sigma^2), sigma from the analytic calibration."""

    epsilon: float
    delta: float = DEFAULT_DELTA
    name: str = "gaussian"

    def __post_init__(self) -> None:
        _check_budget(self.epsilon, self.delta)
        if self.delta <= 0:
            raise ValueError("the Gaussian mechanism needs delta > 0")

    def stddev(self, l1: float, l2: float) -> float:
        return analytic_gaussian_sigma(self.epsilon, self.delta, l2)

    def release(self, counts: np.ndarray, *, l1: float, l2: float,
                rng: np.random.Generator) -> np.ndarray:
        counts = np.asarray(counts, dtype=np.float64)
        return counts + rng.normal(0.0, self.stddev(l1, l2), size=counts.shape)


def gaussian_delta(epsilon: float, sigma: float, l2: float) -> float:
    """The smallest delta the Gaussian mechanism with `sigma` achieves at `epsilon` (exact)."""
    a = l2 / (2.0 * sigma)
    b = epsilon * sigma / l2
    return float(norm.cdf(a - b) - math.exp(epsilon) * norm.cdf(-a - b))


def analytic_gaussian_sigma(epsilon: float, delta: float, l2: float = 1.0) -> float:
    """Smallest sigma with gaussian_delta(epsilon, sigma, l2) <= delta (bisection, 1e-9 rel.)."""
    _check_budget(epsilon, delta)
    if delta <= 0:
        raise ValueError("delta must be > 0")
    if l2 <= 0:
        return 0.0
    low, high = 1e-6 * l2, l2
    while gaussian_delta(epsilon, high, l2) > delta:
        high *= 2.0
    for _ in range(200):
        mid = 0.5 * (low + high)
        if gaussian_delta(epsilon, mid, l2) > delta:
            low = mid
        else:
            high = mid
        if high - low <= 1e-9 * high:
            break
    return high


def make_mechanism(name: str, epsilon: float, delta: float = DEFAULT_DELTA) -> NoiseMechanism:
    """`"laplace"` or `"gaussian"` at the given budget."""
    if name == "laplace":
        return LaplaceMechanism(epsilon)
    if name == "gaussian":
        return GaussianMechanism(epsilon, delta)
    raise ValueError(f"unknown mechanism {name!r}; known: {', '.join(MECHANISMS)}")


def sensitivities(cap: int, per_key: int) -> tuple[float, float]:
    """(L1, L2) of a histogram where one actor adds <= cap in total and <= per_key to a key."""
    if cap < 1 or per_key < 1:
        raise ValueError("contribution caps must be >= 1")
    per_key = min(per_key, cap)
    return float(cap), math.sqrt(cap * per_key)


def open_key_threshold(mechanism: NoiseMechanism, cap: int, delta: float) -> float:
    """Noisy-count threshold below which a data-derived key (a query string) is suppressed.

    Each actor touches at most `cap` keys, adding 1 to each. The chance that a key held by one
    actor clears the threshold is at most `delta` (Laplace: Wilson et al. 2020; Gaussian: the
    normal tail), so releasing the key set costs `delta` on top of the counts' budget.
    """
    if not 0 < delta < 1:
        raise ValueError("thresholding needs 0 < delta < 1")
    l1, l2 = sensitivities(cap, 1)
    if isinstance(mechanism, LaplaceMechanism):
        return 1.0 + mechanism.scale(l1) * math.log(cap / (2.0 * delta))
    sigma = mechanism.stddev(l1, l2)
    return 1.0 + sigma * float(norm.isf(delta / cap))


@dataclass(frozen=True)
class LedgerEntry:
    seq: int
    at: float
    release: str
    mechanism: str
    epsilon: float
    delta: float
    fingerprint: str
    detail: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "at": self.at, "release": self.release,
                "mechanism": self.mechanism, "epsilon": self.epsilon, "delta": self.delta,
                "fingerprint": self.fingerprint, "detail": self.detail}


class BudgetExceeded(ledger_table.OverBudget):
    """A release would take the shop's spend in the rolling window over its privacy budget."""


DAY_S = 86400.0


class PrivacyLedger:
    """Append-only record of every DP release in the store (table `privacy_ledger`, whose
    SQL lives in store.ledger) and the budget that bounds them: at most `budget` epsilon and
    `delta_budget` delta over any rolling `window_days` (basic sequential composition of
    every release in the window, an upper bound). `budget=None`: unbounded (tests only)."""

    def __init__(self, store: Store, *, budget: float | None = None,
                 delta_budget: float | None = None, window_days: float = 30.0) -> None:
        if budget is not None and budget <= 0:
            raise ValueError(f"budget must be > 0, got {budget}")
        if delta_budget is not None and not 0 < delta_budget < 1:
            raise ValueError(f"delta budget must be in (0, 1), got {delta_budget}")
        if window_days <= 0:
            raise ValueError(f"window_days must be > 0, got {window_days}")
        self.store, self.budget, self.delta_budget = store, budget, delta_budget
        self.window_days = window_days
        ledger_table.ensure(store)

    def window_start(self, now: float | None = None) -> float:
        return (time.time() if now is None else now) - self.window_days * DAY_S

    def spent(self) -> tuple[float, float]:
        """(epsilon, delta) spent in the current rolling window."""
        return ledger_table.spent_since(self.store, self.window_start())

    def spent_all_time(self) -> tuple[float, float]:
        return ledger_table.spent_since(self.store, 0.0)

    def remaining(self) -> float | None:
        return None if self.budget is None else max(0.0, self.budget - self.spent()[0])

    def remaining_delta(self) -> float | None:
        return None if self.delta_budget is None else max(0.0,
                                                          self.delta_budget - self.spent()[1])

    def describe(self) -> dict[str, Any]:
        """The budget as the API and the dashboard state it."""
        eps, delta = self.spent()
        return {"budget": self.budget, "delta_budget": self.delta_budget,
                "window_days": self.window_days, "spent_epsilon": round(eps, 6),
                "spent_delta": delta, "remaining": self.remaining(),
                "remaining_delta": self.remaining_delta(),
                "composition": "basic sequential over the rolling window"}

    def charge(self, release: str, *, mechanism: str, epsilon: float, delta: float,
               fingerprint: str = "", detail: dict[str, Any] | None = None,
               body: dict[str, Any] | None = None) -> int:
        """Record one release, refusing it (`BudgetExceeded`, nothing recorded) if the
        window's epsilon or delta would exceed the budget; returns its seq. The check and
        the insert are one locked transaction (store.ledger)."""
        _check_budget(epsilon, delta)
        row = {"release": release, "mechanism": mechanism, "epsilon": epsilon, "delta": delta,
               "fingerprint": fingerprint, "detail": detail, "body": body}
        try:
            return ledger_table.charge(self.store, row, since=self.window_start(),
                                       max_epsilon=self.budget, max_delta=self.delta_budget)
        except ledger_table.OverBudget as exc:
            raise BudgetExceeded(str(exc)) from None

    def entries(self, limit: int = 100) -> list[LedgerEntry]:
        return [LedgerEntry(r[0], r[1], r[2], r[3], r[4], r[5], r[6], json.loads(r[7]))
                for r in ledger_table.entries(self.store, limit)]

    def cached(self, release: str, fingerprint: str) -> tuple[int, dict[str, Any]] | None:
        """(seq, body) of the newest release with this name and fingerprint (re-publishing it
        is post-processing and costs nothing)."""
        return ledger_table.newest_body(self.store, release, fingerprint)

    def latest(self, release: str) -> tuple[int, dict[str, Any]] | None:
        """(seq, body) of the newest release with this name."""
        return ledger_table.newest_body(self.store, release)
