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


def top_indices(scores: np.ndarray, k: int, banned: Collection[int] = ()) -> np.ndarray:
    """Indices of the `k` highest finite, positive-or-any scores, best first, skipping `banned`.

    Ties break by the lower index (deterministic).
    """
    scores = np.array(scores, dtype=np.float64, copy=True)
    if len(banned):
        scores[np.fromiter(banned, dtype=np.int64)] = -np.inf
    finite = np.flatnonzero(np.isfinite(scores))
    if finite.size == 0 or k <= 0:
        return np.zeros(0, dtype=np.int64)
    k = min(k, finite.size)
    values = scores[finite]
    part = np.argpartition(-values, k - 1)[:k] if k < finite.size else np.arange(finite.size)
    chosen = finite[part]
    order = np.lexsort((chosen, -scores[chosen]))
    return chosen[order]


def recency_weights(n: int, decay: float = 0.7) -> np.ndarray:
    """Weights for n recent items, oldest first: the newest gets 1, each older one x decay."""
    return decay ** np.arange(n - 1, -1, -1, dtype=np.float64)
