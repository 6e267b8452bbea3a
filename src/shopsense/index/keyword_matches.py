"""A query's BM25F matches in a keyword index (index/keyword.py): the rows holding its terms
with their scores, looked up sparsely or densely, and the top-k of any score array."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shopsense.index.rowsets import positions


@dataclass(frozen=True)
class KeywordMatches:
    """The rows holding a query's terms: live rows in ascending order, their BM25F and how
    many distinct query terms each holds. Every other row scores 0 and matches nothing."""

    rows: np.ndarray  # (m,) int64, ascending
    bm25: np.ndarray  # (m,) float32
    matched: np.ndarray  # (m,) int32
    n_rows: int  # rows in the index (live or not)

    @classmethod
    def none(cls, n_rows: int) -> KeywordMatches:
        return cls(np.zeros(0, np.int64), np.zeros(0, np.float32), np.zeros(0, np.int32), n_rows)

    def top(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The `k` best rows by BM25F (positive only), best first, ties by row: (rows, bm25)."""
        at, scores = top_k(self.bm25, k)
        return self.rows[at], scores

    def bm25_of(self, rows: np.ndarray) -> np.ndarray:
        """(len(rows),) BM25F of any rows (0 for rows without a query term)."""
        return self._lookup(self.bm25, rows)

    def matched_of(self, rows: np.ndarray) -> np.ndarray:
        """(len(rows),) distinct query terms each row holds."""
        return self._lookup(self.matched, rows)

    def _lookup(self, values: np.ndarray, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) * 8 > self.n_rows:  # many rows: one scatter beats a binary search each
            dense = np.zeros(self.n_rows, dtype=values.dtype)
            dense[self.rows] = values
            return dense[rows]
        at, found = positions(self.rows, rows)
        return np.where(found, values[at] if len(values) else 0, 0).astype(values.dtype)

    def dense(self) -> tuple[np.ndarray, np.ndarray]:
        """(n_rows,) BM25F and (n_rows,) matched terms of every row."""
        scores = np.zeros(self.n_rows, dtype=np.float32)
        matched = np.zeros(self.n_rows, dtype=np.int32)
        scores[self.rows], matched[self.rows] = self.bm25, self.matched
        return scores, matched


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the `k` largest positive scores, best first (ties: lower index)."""
    positive = np.flatnonzero(scores > 0)
    if positive.size == 0 or k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    vals = scores[positive]
    if positive.size > k:
        threshold = -np.partition(-vals, k - 1)[k - 1]  # the k-th largest value
        keep = vals >= threshold  # every tie at the boundary, so ties resolve by index
        positive, vals = positive[keep], vals[keep]
    order = np.lexsort((positive, -vals))[:k]
    return positive[order], vals[order]
