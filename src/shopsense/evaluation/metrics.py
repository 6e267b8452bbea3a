"""Ranking metrics shared by every evaluation (search, recommendations, the report).

All functions take a ranked list of ids and the gains of the relevant ones; unjudged ids
count as gain 0. Values are in [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np


def dcg_at_k(ranked: Sequence[str], gains: Mapping[str, float], k: int) -> float:
    return sum(
        gains.get(item, 0.0) / math.log2(rank + 2) for rank, item in enumerate(ranked[:k])
    )


def ndcg_at_k(ranked: Sequence[str], gains: Mapping[str, float], k: int) -> float:
    """Normalised DCG with linear gains; 0 when nothing relevant exists."""
    ideal = sorted((g for g in gains.values() if g > 0), reverse=True)[:k]
    ideal_dcg = sum(g / math.log2(rank + 2) for rank, g in enumerate(ideal))
    return dcg_at_k(ranked, gains, k) / ideal_dcg if ideal_dcg > 0 else 0.0


def recall_at_k(ranked: Sequence[str], gains: Mapping[str, float], k: int) -> float:
    relevant = {item for item, g in gains.items() if g > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def mrr_at_k(ranked: Sequence[str], gains: Mapping[str, float], k: int) -> float:
    for rank, item in enumerate(ranked[:k]):
        if gains.get(item, 0.0) > 0:
            return 1.0 / (rank + 1)
    return 0.0


def hit_rate_at_k(ranked: Sequence[str], target: str, k: int) -> float:
    return 1.0 if target in ranked[:k] else 0.0


def ndcg_single_at_k(ranked: Sequence[str], target: str, k: int) -> float:
    """nDCG for one held-out item (leave-one-out evaluation)."""
    for rank, item in enumerate(ranked[:k]):
        if item == target:
            return 1.0 / math.log2(rank + 2)
    return 0.0


def percentile_ms(latencies_s: Sequence[float], q: float) -> float:
    if not latencies_s:
        return 0.0
    return float(np.percentile(np.asarray(latencies_s) * 1000.0, q))


def bootstrap_ci(values: Sequence[float], *, n_resamples: int = 1000, alpha: float = 0.05,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean over units (queries or users)."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        return (0.0, 0.0)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, arr.size, size=(n_resamples, arr.size))
    means = arr[idx].mean(axis=1)
    return (float(np.quantile(means, alpha / 2)), float(np.quantile(means, 1 - alpha / 2)))
