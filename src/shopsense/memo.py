"""Bounded, expiring, thread-safe memo for the serving surfaces.

Search caches the shopper-independent stages of a query (understood -> retrieved ->
featurised -> filtered -> ranker-scored, with facets) and re-applies the personal stage per
request; recommendations cache one actor's list until that actor does something, the models
or the catalogue change, or the entry expires. Both caches are invalidated by the writes that
change their inputs, so a cached answer is never older than `ttl_s` for drifting inputs
(popularity, freshness, other shoppers' co-visits) and never stale for the shopper's own
events, dismissals, catalogue edits and model swaps.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any

from cachetools import TTLCache


class Memo:
    """`cachetools.TTLCache` behind a lock, with hit/miss counters and selective eviction."""

    def __init__(self, maxsize: int, ttl_s: float,
                 getsizeof: Callable[[Any], float] | None = None) -> None:
        """`maxsize` counts entries, or with `getsizeof` the sum of their sizes (bytes)."""
        self.enabled = maxsize > 0 and ttl_s > 0
        self._data: TTLCache[Hashable, Any] = TTLCache(max(maxsize, 1), max(ttl_s, 1e-6),
                                                       getsizeof=getsizeof)
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> Any | None:
        if not self.enabled:
            return None
        with self._lock:
            value = self._data.get(key)
            if value is None:
                self.misses += 1
            else:
                self.hits += 1
            return value

    def put(self, key: Hashable, value: Any) -> None:
        if self.enabled:
            with self._lock:
                try:
                    self._data[key] = value
                except ValueError:  # one value larger than the whole budget: not kept
                    pass

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def pop(self, key: Hashable) -> None:
        with self._lock:
            self._data.pop(key, None)

    def __len__(self) -> int:
        return len(self._data)

    def stats(self) -> dict[str, int]:
        return {"entries": len(self._data), "hits": self.hits, "misses": self.misses}
