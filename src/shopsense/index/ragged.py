"""Rows of integer arrays of any length (a title's term ids, its trigrams), read many at once.

Rows are appended one at a time (catalogue additions) and read by the few hundred a query
(its candidates). `gather` answers from a packed copy, one flat array and each row's offset
and length, so a read is one vectorised gather instead of a Python pass over the rows; the
copy is made again on the first read after rows were appended (an edit of the catalogue, which
empties the query caches too).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np


class Ragged:
    """A list of 1-d integer arrays with a packed, vectorised `gather`."""

    def __init__(self, rows: Iterable[np.ndarray] = ()) -> None:
        self.rows_: list[np.ndarray] = list(rows)
        self._packed: tuple[int, np.ndarray, np.ndarray, np.ndarray] | None = None

    @classmethod
    def from_flat(cls, flat: np.ndarray, lengths: np.ndarray) -> Ragged:
        """The rows `flat` holds end to end, `lengths[i]` entries for row i (views of it)."""
        bounds = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        out = cls(flat[a:b] for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(),
                                            strict=True))
        out._packed = (len(out.rows_), flat, bounds[:-1], np.asarray(lengths, np.int64))
        return out

    def append(self, row: np.ndarray) -> None:
        self.rows_.append(row)

    def __len__(self) -> int:
        return len(self.rows_)

    def __getitem__(self, i: int) -> np.ndarray:
        return self.rows_[i]

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter(self.rows_)

    def gather(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(flat, lengths): the arrays of `rows` concatenated in that order, and each one's
        length (int64)."""
        packed = self._packed
        if packed is None or packed[0] != len(self.rows_):
            lengths = np.fromiter((len(r) for r in self.rows_), dtype=np.int64,
                                  count=len(self.rows_))
            flat = np.concatenate(self.rows_) if self.rows_ else np.zeros(0, np.int32)
            starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
            packed = self._packed = (len(lengths), flat, starts, lengths)
        _, flat, starts, all_lengths = packed
        rows = np.asarray(rows, dtype=np.int64)
        lengths = all_lengths[rows]
        ends = np.cumsum(lengths)
        pos = np.arange(int(ends[-1]) if len(ends) else 0) + np.repeat(
            starts[rows] - (ends - lengths), lengths)
        return flat[pos], lengths
