"""Which searches are cheap now: those whose query stage (the shopper-independent part of a
search: understanding, retrieval, features, the ranker's scores, facets) sits in the engine's
stage cache. The API answers those on the event loop and sends every other search to the
expensive lane (one at a time, off the loop: api/deps.py `run_expensive`), so a cheap query
never queues behind cold ones, whatever their length (benchmarks/README.md, Abuse).

A key names a search as a request asks it (the typed query, its filters, whether it is read,
the reading parts the shopper removed); sort, page, size and shopper do not change the stage.
A key is noted once its search has been answered (its stage is then cached) and counts as warm
for the stage cache's time to live; the engine forgets every key when its stage cache is
cleared (any catalogue or model write), and a key noted by a search that ran across such a
clear is not kept."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

MAX_KEYS = 50_000  # then the notes restart (a few MB at most)


def search_key(query: str, params: Mapping[str, Any] | None = None, understand: bool = True,
               drops: Sequence[str] = ()) -> tuple[Any, ...]:
    """The key of a search: empty filters (None, [], {}) are left out, so a plain search is
    `(query, (), understand, ())` however its caller spells "no filter"."""
    given = tuple(sorted((name, repr(value)) for name, value in (params or {}).items()
                         if value not in (None, [], {}, ())))
    return (query, given, bool(understand), tuple(drops))


class WarmKeys:
    """Keys of searches whose stage is cached, each with when it was noted."""

    def __init__(self, ttl_s: float, enabled: bool = True) -> None:
        self.ttl_s = ttl_s
        self.enabled = enabled and ttl_s > 0
        self.generation = 0
        self._noted: dict[tuple[Any, ...], float] = {}
        self._lock = threading.Lock()

    def fresh(self, key: tuple[Any, ...]) -> bool:
        when = self._noted.get(key)
        return when is not None and time.monotonic() - when < self.ttl_s

    def note(self, key: tuple[Any, ...], generation: int) -> None:
        """`generation`: `self.generation` read before the search ran."""
        if not self.enabled:
            return
        with self._lock:
            if generation != self.generation:
                return
            if len(self._noted) >= MAX_KEYS:
                self._noted.clear()
            self._noted[key] = time.monotonic()

    def clear(self) -> None:
        with self._lock:
            self.generation += 1
            self._noted.clear()

    def __len__(self) -> int:
        return len(self._noted)
