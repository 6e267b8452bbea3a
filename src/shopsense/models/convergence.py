"""When has a model stopped learning? The validation curve decides, not a stopwatch.

`Convergence` follows the per-epoch validation metric: an epoch that does not beat the best by
a relative `min_delta` is stale, and `patience` stale epochs in a row mean the curve has
flattened (converged). A CPU budget may end training first; then `summary()` says so and
extrapolates the curve (a saturating exponential in CPU-seconds, fitted by least squares) to
what twice and four times the budget would give, and to its plateau.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np


class Convergence:
    """Tracks the best epoch and whether the validation curve has flattened."""

    def __init__(self, patience: int, min_delta: float = 0.01) -> None:
        if patience < 1:
            raise ValueError("patience must be >= 1")
        if min_delta < 0:
            raise ValueError("min_delta must be >= 0")
        self.patience, self.min_delta = patience, min_delta
        self.best, self.best_epoch, self.stale = -math.inf, 0, 0

    def update(self, epoch: int, value: float) -> bool:
        """Record an epoch's metric; True when it is the new best (its weights are kept)."""
        improved = value > self.best
        margin = self.min_delta * abs(self.best) if math.isfinite(self.best) else 0.0
        if improved and value > self.best + margin:
            self.stale = 0
        else:
            self.stale += 1
        if improved:
            self.best, self.best_epoch = value, epoch
        return improved

    @property
    def flattened(self) -> bool:
        """`patience` stale epochs in a row, once the curve has left zero: a metric still at
        0 (a million-item model's first epochs) has not started to learn, it has not
        converged."""
        return self.stale >= self.patience and self.best > 0


def extrapolate(cpu_seconds: Sequence[float], values: Sequence[float],
                horizons: Sequence[float]) -> dict[str, float] | None:
    """Fit v(t) = a - b * exp(-t / tau) to the curve; predictions at `horizons` (CPU-seconds)
    and the plateau `a`. None with fewer than three points or a curve that does not rise."""
    t, v = np.asarray(cpu_seconds, dtype=np.float64), np.asarray(values, dtype=np.float64)
    if len(t) < 3 or not np.all(np.isfinite(v)) or v[-1] <= v[0] or t[-1] <= 0:
        return None
    best: tuple[float, float, float, float] | None = None
    for tau in t[-1] * np.geomspace(0.05, 20.0, 60):
        design = np.stack([np.ones_like(t), -np.exp(-t / tau)], axis=1)
        (a, b), *_ = np.linalg.lstsq(design, v, rcond=None)
        if b <= 0:
            continue
        sse = float(np.sum((design @ np.array([a, b]) - v) ** 2))
        if best is None or sse < best[0]:
            best = (sse, float(a), float(b), float(tau))
    if best is None:
        return None
    _, a, b, tau = best
    out = {f"at_{int(h)}_cpu_s": round(a - b * math.exp(-h / tau), 5) for h in horizons}
    out["plateau"] = round(a, 5)
    out["tau_cpu_s"] = round(tau, 1)
    return out


def summary(history: Sequence[dict[str, float]], tracker: Convergence, *, budget_s: float,
            stopped_by: str) -> dict[str, Any]:
    """What the curve says: converged or stopped by the budget (with an extrapolation)."""
    curve = [(row["cpu_seconds"], row["valid_ndcg@10"]) for row in history
             if "valid_ndcg@10" in row]
    out: dict[str, Any] = {"converged": tracker.flattened, "stopped_by": stopped_by,
                           "epochs": len(history), "best_epoch": tracker.best_epoch,
                           "best_valid_ndcg@10": round(tracker.best, 5) if curve else None,
                           "budget_cpu_s": budget_s,
                           "curve": [[round(c, 1), round(v, 5)] for c, v in curve]}
    if curve and not tracker.flattened:
        used = curve[-1][0]
        out["extrapolated"] = extrapolate([c for c, _ in curve], [v for _, v in curve],
                                          (2 * used, 4 * used))
    return out
