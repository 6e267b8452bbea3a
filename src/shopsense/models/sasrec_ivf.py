"""Two-stage scoring of one request over a very large item table (SASRec at a million items).

Exact scoring reads the whole (n_items, dim) table per request: at 1M items x 64 dims that is
256 MB and ~15 ms of one core, memory-bound. `ItemPartition` splits the item directions into k-means
lists at training time (an inverted file, as search's vector index does at 1M); a request
scores the lists' centroids, then every item of the `n_probe` best lists exactly (a quarter
of the lists by default: the exact top 10's recall was 0.93 on a trained 1M-item table,
benchmarks/README.md). The other items get their list's mean score (the score of the list's
mean vector), so the request still has a finite score for every item: candidate
sources, the blend's log-softmax normaliser and ranker features read it as before, and only
items far from the shopper's state are approximated. The partition is used from
`SASRecConfig.ivf_min_items` items when that is set (0, the default: exact scoring at every
size, as the recall above costs quality for 1.2-1.7x less CPU at 1M items). Recall of the top k
against exact scoring: `recall_at`, benchmarks/recs_million_parts.py `recall`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class ItemPartition:
    """k-means lists over item directions: `centroids` (n_lists, dim) rank the lists for a
    state, `means` (n_lists, dim) are the lists' mean item vectors (a list's mean score),
    `members` (n_items,) item indices grouped by list, list l = members[starts[l]:starts[l +
    1]], `assign` (n_items,) each item's list."""

    centroids: np.ndarray
    means: np.ndarray
    members: np.ndarray
    starts: np.ndarray
    assign: np.ndarray
    n_probe: int

    @classmethod
    def build(cls, table: np.ndarray, n_lists: int | None = None, n_probe: int | None = None,
              seed: int = 0, iterations: int = 10) -> ItemPartition:
        """k-means (faiss, one thread) on the unit directions of `table` (a list of items
        pointing the same way holds a state's best items whatever their norms; k-means on the
        raw vectors left 0.37 of the exact top 10 in the best 64 of 1,024 lists of a trained
        1M table, on directions 0.65); ~sqrt(n) lists, a quarter of them probed."""
        import faiss

        table = np.ascontiguousarray(table, dtype=np.float32)
        n, dim = table.shape
        unit = table / np.maximum(np.linalg.norm(table, axis=1, keepdims=True), 1e-12)
        n_lists = n_lists or max(1, min(n, 2 ** round(math.log2(math.sqrt(n)))))
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        try:
            kmeans = faiss.Kmeans(dim, n_lists, niter=iterations, seed=seed,
                                  max_points_per_centroid=128)
            kmeans.train(unit)
            _, assign = kmeans.index.search(unit, 1)
        finally:
            faiss.omp_set_num_threads(threads)
        assign = assign[:, 0].astype(np.int32)
        means = np.zeros((n_lists, dim), dtype=np.float64)
        np.add.at(means, assign, table)
        means /= np.maximum(np.bincount(assign, minlength=n_lists), 1)[:, None]
        return cls.from_assignment(kmeans.centroids, means, assign,
                                   n_probe or max(1, n_lists // 4))

    @classmethod
    def from_assignment(cls, centroids: np.ndarray, means: np.ndarray, assign: np.ndarray,
                        n_probe: int) -> ItemPartition:
        assign = np.asarray(assign, dtype=np.int32)
        n_lists = len(centroids)
        if assign.size and (assign.min() < 0 or assign.max() >= n_lists):
            raise ValueError("an item is assigned to a list that does not exist")
        members = np.argsort(assign, kind="stable").astype(np.int64)
        starts = np.zeros(n_lists + 1, dtype=np.int64)
        np.cumsum(np.bincount(assign, minlength=n_lists), out=starts[1:])
        return cls(np.ascontiguousarray(centroids, dtype=np.float32),
                   np.ascontiguousarray(means, dtype=np.float32), members, starts, assign,
                   max(1, min(int(n_probe), n_lists)))

    def best_lists(self, state: np.ndarray, n_probe: int | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
        """(centroid scores of every list, the `n_probe` best lists)."""
        coarse = self.centroids @ np.asarray(state, dtype=np.float32)
        probe = min(n_probe or self.n_probe, len(coarse))
        best = np.argpartition(-coarse, probe - 1)[:probe] if probe < len(coarse) \
            else np.arange(len(coarse))
        return coarse, best

    def grouped(self, table: np.ndarray) -> np.ndarray:
        """`table`'s rows in list order (each list contiguous: a probe reads its rows in
        one sequential pass; gathering scattered rows is ~3x slower at 1M items)."""
        return np.ascontiguousarray(table[self.members], dtype=np.float32)

    def scores(self, state: np.ndarray, grouped: np.ndarray, n_probe: int | None = None
               ) -> np.ndarray:
        """(n_items,) float64: the exact score (`grouped` rows . state) of every item of the
        probed lists, its list's mean score for every other item."""
        state = np.asarray(state, dtype=np.float32)
        _, best = self.best_lists(state, n_probe)
        out = np.take((self.means @ state).astype(np.float64), self.assign)
        for b in best.tolist():
            lo, hi = self.starts[b], self.starts[b + 1]
            out[self.members[lo:hi]] = grouped[lo:hi] @ state
        return out

    def save(self, path: Path) -> None:
        np.savez(path, centroids=self.centroids, means=self.means, assign=self.assign,
                 n_probe=np.array(self.n_probe))

    @classmethod
    def load(cls, path: Path) -> ItemPartition:
        with np.load(path, allow_pickle=False) as saved:
            return cls.from_assignment(saved["centroids"], saved["means"], saved["assign"],
                                       int(saved["n_probe"]))


def recall_at(exact: np.ndarray, approximate: np.ndarray, k: int) -> float:
    """Share of the exact top k (by score) that the approximate scores' top k also holds."""
    want = np.argpartition(-exact, k - 1)[:k]
    got = np.argpartition(-approximate, k - 1)[:k]
    return float(np.isin(want, got).mean())
