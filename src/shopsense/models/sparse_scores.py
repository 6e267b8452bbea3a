"""One request's scores held for a candidate set, not as a catalogue-long vector.

At a million items a for-you request that writes every source's scores over every item does
~10 ms of dense float64 work before it ranks anything (benchmarks/README.md, 1M items). A
source that knows its best few thousand items (SASRec's quantised scan, models.sasrec_scan;
co-visits, which score only the items the shopper's anchors co-occur with) hands on a
`SparseRow` instead: the candidates' scores, and for any other item either a constant
(`fill`: -inf where the source proposes nothing, 0 for a co-visit share) or its exact score
computed on demand (`rest`: SASRec's product with those rows only). Readers index it like the
dense vector (`row[i]`, `row[indices]`), take its top k (`top`), or, where they need every
item (a category filter that bans most candidates), ask for the dense vector (`dense`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field

import numpy as np

Rest = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class SparseRow:
    """`size` items; `index` (ascending, unique) holds `values` (float64); any other item
    scores `rest(indices)` when `rest` is set, else `fill`. `normaliser`: for SASRec logits,
    the log-softmax normaliser over every item (estimated: models.sasrec_scan)."""

    size: int
    index: np.ndarray
    values: np.ndarray
    fill: float = -np.inf
    rest: Rest | None = field(default=None, compare=False)
    normaliser: float = float("nan")

    @classmethod
    def of(cls, size: int, index: np.ndarray, values: np.ndarray, **kw: object) -> SparseRow:
        """Sorts `index` (unique indices) and `values` with it."""
        index = np.asarray(index, dtype=np.int64)
        order = np.argsort(index, kind="stable")
        return cls(size, index[order], np.asarray(values, dtype=np.float64)[order], **kw)

    def __len__(self) -> int:
        return self.size

    @property
    def shape(self) -> tuple[int]:
        return (self.size,)

    def __array__(self, dtype: object = None, copy: object = None) -> np.ndarray:
        """`np.asarray(row)`: the dense vector (not numpy's item-by-item read of it)."""
        out = self.dense()
        return out if dtype is None else out.astype(dtype)

    def __getitem__(self, key: int | np.ndarray | list[int]) -> float | np.ndarray:
        if np.ndim(key) == 0:
            return float(self.at(np.array([int(key)]))[0])  # type: ignore[arg-type]
        return self.at(np.asarray(key, dtype=np.int64))

    def at(self, wanted: np.ndarray) -> np.ndarray:
        """float64 scores of the items `wanted` (any order, repeats allowed)."""
        wanted = np.asarray(wanted, dtype=np.int64)
        out = np.full(wanted.size, self.fill, dtype=np.float64)
        if self.index.size:
            pos = np.minimum(np.searchsorted(self.index, wanted), self.index.size - 1)
            hit = self.index[pos] == wanted
        else:
            pos, hit = np.zeros(wanted.size, dtype=np.int64), np.zeros(wanted.size, dtype=bool)
        out[hit] = self.values[pos[hit]]
        if self.rest is not None and not hit.all():
            out[~hit] = self.rest(wanted[~hit])
        return out

    def dense(self) -> np.ndarray:
        """The (size,) float64 vector (a catalogue-long pass: the rare fallback)."""
        if self.rest is None:
            out = np.full(self.size, self.fill, dtype=np.float64)
        else:
            out = np.asarray(self.rest(np.arange(self.size)), dtype=np.float64)
        out[self.index] = self.values
        return out

    def top(self, k: int, banned: Collection[int] = ()) -> np.ndarray:
        """`models.context.top_indices` of this row: the `k` best allowed finite items, ties
        by the lower index. Read from the candidates when they hold k allowed finite items
        and the rest cannot beat them (`fill` -inf, or `rest`: the candidates are the
        source's best by construction); else from the dense vector."""
        from shopsense.models.context import as_indices, top_indices

        ban = as_indices(banned) if len(banned) \
            else np.zeros(0, dtype=np.int64)
        if k <= 0:
            return np.zeros(0, dtype=np.int64)
        out_of_set = self.size > self.index.size
        if out_of_set and self.rest is None and np.isfinite(self.fill):
            return top_indices(self.dense(), k, banned)  # a finite fill may be in the top k
        skip = np.flatnonzero(np.isin(self.index, ban)) if ban.size else ban
        chosen = top_indices(self.values, k, skip)
        if chosen.size < k and out_of_set and self.rest is not None:
            return top_indices(self.dense(), k, banned)
        return self.index[chosen]
