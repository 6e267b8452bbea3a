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
import time
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from cachetools import TTLCache

T = TypeVar("T")


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
        self.generation = 0  # bumped by `clear`: a value computed before it is not kept

    def get(self, key: Hashable, count: bool = True) -> Any | None:
        """The value (None if absent); `count=False` (a look before deciding where to
        compute it) leaves the hit and miss counters alone."""
        if not self.enabled:
            return None
        with self._lock:
            value = self._data.get(key)
            if not count:
                return value
            if value is None:
                self.misses += 1
            else:
                self.hits += 1
            return value

    def put(self, key: Hashable, value: Any, generation: int | None = None) -> None:
        """Keep `value`, unless `generation` (read before computing it) is older than the
        last `clear`: a value computed from inputs that changed meanwhile is never cached."""
        if self.enabled:
            with self._lock:
                if generation is not None and generation != self.generation:
                    return
                try:
                    self._data[key] = value
                except ValueError:  # one value larger than the whole budget: not kept
                    pass

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.generation += 1

    def pop(self, key: Hashable) -> None:
        with self._lock:
            self._data.pop(key, None)

    def __len__(self) -> int:
        return len(self._data)

    def stats(self) -> dict[str, int]:
        return {"entries": len(self._data), "hits": self.hits, "misses": self.misses}


class Versioned(Generic[T]):
    """A value rebuilt only when its version changes; `version()` is asked at most every
    `check_s` seconds, so a request costs a clock read, not an I/O."""

    def __init__(self, version: Callable[[], Hashable], load: Callable[[], T],
                 check_s: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._version, self._load, self.check_s, self.clock = version, load, check_s, clock
        self._lock = threading.Lock()
        self._seen: tuple[Hashable, T] | None = None
        self._checked = float("-inf")

    def current(self) -> T:
        seen, now = self._seen, self.clock()
        if seen is not None and now - self._checked < self.check_s:
            return seen[1]
        with self._lock:
            version = self._version()
            if self._seen is None or version != self._seen[0]:
                self._seen = (version, self._load())
            self._checked = now
            return self._seen[1]
