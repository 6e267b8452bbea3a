"""Two-stage scoring of one request over a very large item table (SASRec at a million items).

Exact scoring reads the whole (n_items, dim) table per request: at 1M items x 64 dims that is
256 MB and ~15 ms of one core, memory-bound. `ItemPartition` splits the table into k-means
lists at training time (an inverted file, as search's vector index does at 1M); a request
scores the lists' centroids, then every item of the `n_probe` best lists exactly. The other
items get their list's centroid score (the mean of their exact scores, as the centroid is
their mean vector), so the request still has a finite score for every item: candidate
sources, the blend's log-softmax normaliser and ranker features read it as before, and only
items far from the shopper's state are approximated. The partition is used above
`SASRecConfig.ivf_min_items`; smaller catalogues keep exact scoring. Recall of the top k
against exact scoring: `recall_at`, benchmarks/recs_million_parts.py `ivf`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class ItemPartition:
    """k-means lists over item vectors: `centroids` (n_lists, dim), `members` (n_items,)
    item indices grouped by list, list l = members[starts[l]:starts[l + 1]], `assign`
    (n_items,) each item's list."""

    centroids: np.ndarray
    members: np.ndarray
    starts: np.ndarray
    assign: np.ndarray
    n_probe: int

    @classmethod
    def build(cls, table: np.ndarray, n_lists: int | None = None, n_probe: int | None = None,
              seed: int = 0, iterations: int = 10) -> ItemPartition:
        """k-means (faiss, one thread) on `table`; ~sqrt(n) lists, 1/32 of them probed."""
        import faiss

        table = np.ascontiguousarray(table, dtype=np.float32)
        n, dim = table.shape
        n_lists = n_lists or max(1, min(n, 2 ** round(math.log2(math.sqrt(n)))))
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        try:
            kmeans = faiss.Kmeans(dim, n_lists, niter=iterations, seed=seed,
                                  max_points_per_centroid=128)
            kmeans.train(table)
            _, assign = kmeans.index.search(table, 1)
        finally:
            faiss.omp_set_num_threads(threads)
        return cls.from_assignment(kmeans.centroids, assign[:, 0],
                                   n_probe or max(1, n_lists // 32))

    @classmethod
    def from_assignment(cls, centroids: np.ndarray, assign: np.ndarray, n_probe: int
                        ) -> ItemPartition:
        assign = np.asarray(assign, dtype=np.int32)
        n_lists = len(centroids)
        if assign.size and (assign.min() < 0 or assign.max() >= n_lists):
            raise ValueError("an item is assigned to a list that does not exist")
        members = np.argsort(assign, kind="stable").astype(np.int64)
        starts = np.zeros(n_lists + 1, dtype=np.int64)
        np.cumsum(np.bincount(assign, minlength=n_lists), out=starts[1:])
        return cls(np.ascontiguousarray(centroids, dtype=np.float32), members, starts, assign,
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
        probed lists, its list's centroid score for every other item."""
        state = np.asarray(state, dtype=np.float32)
        coarse, best = self.best_lists(state, n_probe)
        out = np.take(coarse.astype(np.float64), self.assign)
        for b in best.tolist():
            lo, hi = self.starts[b], self.starts[b + 1]
            out[self.members[lo:hi]] = grouped[lo:hi] @ state
        return out

    def save(self, path: Path) -> None:
        np.savez(path, centroids=self.centroids, assign=self.assign,
                 n_probe=np.array(self.n_probe))

    @classmethod
    def load(cls, path: Path) -> ItemPartition:
        with np.load(path, allow_pickle=False) as saved:
            return cls.from_assignment(saved["centroids"], saved["assign"],
                                       int(saved["n_probe"]))


def recall_at(exact: np.ndarray, approximate: np.ndarray, k: int) -> float:
    """Share of the exact top k (by score) that the approximate scores' top k also holds."""
    want = np.argpartition(-exact, k - 1)[:k]
    got = np.argpartition(-approximate, k - 1)[:k]
    return float(np.isin(want, got).mean())
