"""Ranking metrics: the one module every evaluation, training-time validation and the LTR guard
calls (search and recommendation evaluations, SASRec's early stopping, the co-visit blend weight,
the recommendation ranker's choice, the search ranker's guard).

Three shapes, all vectorised with numpy:

- leave-one-out: a top list per user (B, depth) and one target each -> `target_ranks`, then
  `hits_from_ranks` / `ndcg_from_ranks` per user;
- grouped candidates: scores and gains of many queries concatenated, with group sizes ->
  `grouped_ndcg` per group (graded gains; ties keep input order);
- one ranked list of ids with a gains mapping (judged search queries) -> `ndcg_at_k`,
  `recall_at_k`, `mrr_at_k`.

Per-unit values (users, queries) are kept so `summarise` can give every metric its mean and a
95 % percentile-bootstrap interval (`ndcg@10`, `ndcg@10_ci`). Values are in [0, 1]; unjudged ids
count as gain 0; a unit with nothing relevant scores 0.

This module imports nothing from shopsense, so any layer may use it (tests/test_architecture.py
lists it as a leaf).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def discounts(k: int) -> np.ndarray:
    """1 / log2(rank + 2) for ranks 0..k-1."""
    return 1.0 / np.log2(np.arange(k, dtype=np.float64) + 2.0)


# -- leave-one-out: one relevant item per unit ----------------------------------------------
def target_ranks(top: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """0-based position of each row's target in its top list (B, depth); -1 when absent."""
    top = np.asarray(top)
    match = top == np.asarray(targets).reshape(-1, 1)
    found = match.any(axis=1)
    return np.where(found, match.argmax(axis=1), -1).astype(np.int64)


def hits_from_ranks(ranks: np.ndarray, k: int) -> np.ndarray:
    """Per unit: 1 when the target is in the top k."""
    ranks = np.asarray(ranks)
    return ((ranks >= 0) & (ranks < k)).astype(np.float64)


def ndcg_from_ranks(ranks: np.ndarray, k: int) -> np.ndarray:
    """Per unit nDCG@k with one relevant item: 1 / log2(rank + 2) inside the top k, else 0."""
    ranks = np.asarray(ranks)
    inside = (ranks >= 0) & (ranks < k)
    return np.where(inside, 1.0 / np.log2(np.maximum(ranks, 0) + 2.0), 0.0)


def loo_metrics(ranks: np.ndarray, ks: Sequence[int]) -> dict[str, np.ndarray]:
    """`hr@k` and `ndcg@k` per unit for every k."""
    out: dict[str, np.ndarray] = {}
    for k in ks:
        out[f"hr@{k}"] = hits_from_ranks(ranks, k)
        out[f"ndcg@{k}"] = ndcg_from_ranks(ranks, k)
    return out


# -- grouped candidates (rankers) -----------------------------------------------------------
def grouped_ndcg(scores: np.ndarray, gains: np.ndarray, sizes: np.ndarray, k: int = 10
                 ) -> np.ndarray:
    """nDCG@k of each group when its candidates are ordered by score (ties: input order).
    `scores` and `gains` are the groups' rows concatenated; `sizes` the rows per group."""
    scores = np.asarray(scores, dtype=np.float64)
    gains = np.asarray(gains, dtype=np.float64)
    sizes = np.asarray(sizes, dtype=np.int64)
    if scores.shape != gains.shape or int(sizes.sum()) != scores.size:
        raise ValueError("scores, gains and group sizes do not agree")
    if sizes.size == 0:
        return np.zeros(0)
    group = np.repeat(np.arange(sizes.size), sizes)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    dcg = _group_dcg(np.lexsort((-scores, group)), gains, group, starts, sizes.size, k)
    ideal = _group_dcg(np.lexsort((-gains, group)), gains, group, starts, sizes.size, k)
    return np.divide(dcg, ideal, out=np.zeros_like(dcg), where=ideal > 0)


def _group_dcg(order: np.ndarray, gains: np.ndarray, group: np.ndarray, starts: np.ndarray,
               n_groups: int, k: int) -> np.ndarray:
    g = group[order]  # lexsort keeps groups contiguous and in order
    position = np.arange(order.size) - starts[g]
    keep = position < k
    weight = gains[order][keep] / np.log2(position[keep] + 2.0)
    return np.bincount(g[keep], weights=weight, minlength=n_groups)


def mean_with_misses(per_group: np.ndarray, n_units: int) -> float:
    """Mean over `n_units` when some units have no group at all (they count 0)."""
    return float(np.sum(per_group) / max(n_units, 1))


# -- one judged list of ids -----------------------------------------------------------------
def _gains_of(ranked: Sequence[str], gains: Mapping[str, float], k: int) -> np.ndarray:
    return np.fromiter((gains.get(item, 0.0) for item in ranked[:k]), dtype=np.float64)


def dcg_at_k(ranked: Sequence[str], gains: Mapping[str, float], k: int) -> float:
    top = _gains_of(ranked, gains, k)
    return float(top @ discounts(top.size))


def ndcg_at_k(ranked: Sequence[str], gains: Mapping[str, float], k: int) -> float:
    """Normalised DCG with linear gains; 0 when nothing relevant exists."""
    ideal = np.sort(np.fromiter((g for g in gains.values() if g > 0), dtype=np.float64))[::-1][:k]
    ideal_dcg = float(ideal @ discounts(ideal.size))
    return dcg_at_k(ranked, gains, k) / ideal_dcg if ideal_dcg > 0 else 0.0


def recall_at_k(ranked: Sequence[str], gains: Mapping[str, float], k: int) -> float:
    relevant = {item for item, g in gains.items() if g > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def mrr_at_k(ranked: Sequence[str], gains: Mapping[str, float], k: int) -> float:
    hits = np.flatnonzero(_gains_of(ranked, gains, k) > 0)
    return 1.0 / (hits[0] + 1) if hits.size else 0.0


# -- summaries and intervals ----------------------------------------------------------------
def percentile_ms(latencies_s: Sequence[float], q: float) -> float:
    if not latencies_s:
        return 0.0
    return float(np.percentile(np.asarray(latencies_s) * 1000.0, q))


def bootstrap_means(values: np.ndarray, *, n_resamples: int = 1000, seed: int = 0,
                    chunk_cells: int = 4_000_000) -> np.ndarray:
    """Means of `n_resamples` resamples with replacement of the rows of `values` (units x
    metrics); (n_resamples, metrics). Drawn in chunks so 20k units x 1000 stay small."""
    arr = np.asarray(values, dtype=np.float64)
    arr = arr.reshape(arr.shape[0], -1)
    rng = np.random.default_rng(seed)
    per_chunk = max(1, chunk_cells // max(arr.shape[0], 1))
    out = np.empty((n_resamples, arr.shape[1]))
    for start in range(0, n_resamples, per_chunk):
        n = min(per_chunk, n_resamples - start)
        idx = rng.integers(0, arr.shape[0], size=(n, arr.shape[0]))
        out[start:start + n] = arr[idx].mean(axis=1)
    return out


def bootstrap_ci(values: Sequence[float], *, n_resamples: int = 1000, alpha: float = 0.05,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean over units (queries or users)."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        return (0.0, 0.0)
    means = bootstrap_means(arr, n_resamples=n_resamples, seed=seed)[:, 0]
    return (float(np.quantile(means, alpha / 2)), float(np.quantile(means, 1 - alpha / 2)))


def summarise(per_unit: Mapping[str, np.ndarray], *, n_resamples: int = 1000, seed: int = 0,
              digits: int = 5) -> dict[str, float | list[float]]:
    """Mean of every per-unit metric and its 95 % bootstrap interval under `<name>_ci`; one
    resampling of the units serves every metric (the intervals are paired)."""
    names = list(per_unit)
    if not names:
        return {}
    table = np.column_stack([np.asarray(per_unit[n], dtype=np.float64) for n in names])
    out: dict[str, float | list[float]] = {}
    if table.shape[0] == 0:
        for name in names:
            out[name], out[f"{name}_ci"] = 0.0, [0.0, 0.0]
        return out
    means = bootstrap_means(table, n_resamples=n_resamples, seed=seed)
    low, high = np.quantile(means, [0.025, 0.975], axis=0)
    for j, name in enumerate(names):
        out[name] = round(float(table[:, j].mean()), digits)
        out[f"{name}_ci"] = [round(float(low[j]), digits), round(float(high[j]), digits)]
    return out
