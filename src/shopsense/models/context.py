"""What a recommendation request knows: who asks, what they just looked at, where they are.

Every candidate source accepts a `RecContext` (or a bare item id, or a list of item ids, which
`as_context` turns into one).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class RecContext:
    """`recent_items` is oldest first (the newest is last)."""

    user_id: str | None = None
    recent_items: tuple[str, ...] = ()
    category: str | None = None  # limit to this category path (and its children)
    now: float | None = None  # unix seconds; None = the newest event seen in training


def as_context(query: Any) -> RecContext:
    """RecContext | item id | sequence of item ids -> RecContext."""
    if isinstance(query, RecContext):
        return query
    if isinstance(query, str):
        return RecContext(recent_items=(query,))
    if isinstance(query, Sequence):
        return RecContext(recent_items=tuple(str(q) for q in query))
    raise TypeError(f"cannot read a recommendation context from {type(query).__name__}")


BLOCK = 1024  # top_indices: block maxima bound the top k of a long score vector


def top_indices(scores: np.ndarray, k: int, banned: Collection[int] = ()) -> np.ndarray:
    """Indices of the `k` highest finite, positive-or-any scores, best first, skipping `banned`.

    Ties break by the lower index (deterministic). `scores` is not modified.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if k <= 0 or scores.size == 0:
        return np.zeros(0, dtype=np.int64)
    chosen = _top_by_blocks(scores, k, banned) if scores.size >= 64 * BLOCK else None
    return _top_of_finite(scores, k, banned) if chosen is None else chosen


def _top_of_finite(scores: np.ndarray, k: int, banned: Collection[int]) -> np.ndarray:
    finite = np.flatnonzero(_allowed_finite(scores, banned))
    if finite.size == 0:
        return np.zeros(0, dtype=np.int64)
    k = min(k, finite.size)
    values = scores[finite]
    part = np.argpartition(-values, k - 1)[:k] if k < finite.size else np.arange(finite.size)
    chosen = finite[part]
    order = np.lexsort((chosen, -scores[chosen]))
    return chosen[order]


def as_indices(banned: Collection[int]) -> np.ndarray:
    """`banned` as an int64 array (an integer array is taken as it is)."""
    if isinstance(banned, np.ndarray):
        return banned.astype(np.int64, copy=False)
    return np.fromiter(banned, dtype=np.int64, count=len(banned))


def _allowed_finite(scores: np.ndarray, banned: Collection[int]) -> np.ndarray:
    """Mask of the finite scores that are not banned: one pass, and the banned indices
    cleared in the mask (no copy of the scores, no membership test of every index)."""
    mask = np.isfinite(scores)
    if len(banned):
        ban = as_indices(banned)
        mask[ban[(ban >= 0) & (ban < mask.size)]] = False
    return mask


def _top_by_blocks(scores: np.ndarray, k: int, banned: Collection[int]) -> np.ndarray | None:
    """The exact top k of a long vector in one pass over it and a second over the few
    blocks that may hold it (a million items: one request's SASRec or blend scores). The (k + |banned|)-th largest of the blocks' maxima
    is a lower bound of the k-th largest allowed finite score (the maxima are distinct items),
    so every item of the top k scores at least that; None (sort every finite score) when
    fewer than k allowed finite items reach the bound (mostly non-finite scores)."""
    whole = scores.size - scores.size % BLOCK
    maxima = scores[:whole].reshape(-1, BLOCK).max(axis=1)
    if whole < scores.size:
        maxima = np.append(maxima, scores[whole:].max())
    need = k + len(banned)
    if need >= maxima.size:
        return None
    bound = np.partition(maxima, maxima.size - need)[maxima.size - need]
    if not np.isfinite(bound):
        return None
    chosen = _at_least(scores, maxima, bound)
    keep = np.isfinite(scores[chosen])
    if len(banned):
        keep &= ~np.isin(chosen, as_indices(banned))
    chosen = chosen[keep]
    if chosen.size < k:
        return None
    return chosen[np.lexsort((chosen, -scores[chosen]))[:k]]


def _at_least(scores: np.ndarray, maxima: np.ndarray, bound: float) -> np.ndarray:
    """Ascending indices of the scores >= `bound`, read only in the blocks whose maximum
    may reach it (>= bound, or NaN: a NaN maximum hides the block's finite scores)."""
    blocks = np.flatnonzero(~(maxima < bound))
    if 4 * blocks.size >= maxima.size:
        return np.flatnonzero(scores >= bound)
    whole = scores.size // BLOCK
    full = blocks[blocks < whole]
    flat = np.flatnonzero(scores[:whole * BLOCK].reshape(-1, BLOCK)[full] >= bound)
    found = full[flat // BLOCK] * BLOCK + flat % BLOCK
    if full.size < blocks.size:  # the short last block
        tail = np.flatnonzero(scores[whole * BLOCK:] >= bound) + whole * BLOCK
        found = np.concatenate([found, tail])
    return found


def recency_weights(n: int, decay: float = 0.7) -> np.ndarray:
    """Weights for n recent items, oldest first: the newest gets 1, each older one x decay."""
    return decay ** np.arange(n - 1, -1, -1, dtype=np.float64)
