"""Online state shared across API replicas: recent session items, dismissals, co-visitation
counters and rate limits — in process by default, in Redis when `redis://` is configured.

Both implementations have the same interface (`OnlineState`, `RateLimiter`-shaped `allow`), and
the same contract suite runs over both. Observing an event is idempotent by event_id (a marker
key set in the same atomic Lua script as the update), so a redelivered Kafka message changes
nothing: the exactly-once effect the event log relies on.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from shopsense.domain import Event
from shopsense.scale.window import COVISIT_WINDOW, RECENT_ITEMS, SEEN_TTL_S

__all__ = ["COVISIT_WINDOW", "RECENT_ITEMS", "SEEN_TTL_S", "MemoryOnlineState", "OnlineState",
           "open_online_state", "open_rate_limiter"]


class OnlineState(Protocol):
    def observe(self, events: Sequence[Event]) -> int:
        """Apply events not seen before (by event_id); returns how many were new."""
        ...

    def recent_items(self, actor: str, n: int = 20) -> list[str]:
        """Newest first."""
        ...

    def dismissed(self, actor: str) -> dict[str, float]:
        """item_id -> when it was dismissed (undo events, value -1, take it back)."""
        ...

    def covisits(self, item_id: str, k: int = 20) -> list[tuple[str, float]]:
        """Items seen by the same actors right before/after `item_id`, by count."""
        ...

    def forget(self, actor: str) -> None: ...


def _is_undo(e: Event) -> bool:
    return e.event_type == "dismiss" and e.value == -1.0


class MemoryOnlineState:
    """OnlineState in one process (the embedded default)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: set[str] = set()
        self._recent: dict[str, deque[str]] = defaultdict(lambda: deque(maxlen=RECENT_ITEMS))
        self._dismissed: dict[str, dict[str, float]] = defaultdict(dict)
        self._covisit: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))

    def observe(self, events: Sequence[Event]) -> int:
        new = 0
        with self._lock:
            for e in events:
                if e.event_id in self._seen:
                    continue
                self._seen.add(e.event_id)
                new += 1
                actor = e.actor
                if not actor or not e.item_id:
                    continue
                if e.event_type == "dismiss":
                    if _is_undo(e):
                        self._dismissed[actor].pop(e.item_id, None)
                    else:
                        self._dismissed[actor][e.item_id] = e.timestamp
                    continue
                recent = self._recent[actor]
                for other in list(recent)[-COVISIT_WINDOW:]:
                    if other != e.item_id:
                        self._covisit[e.item_id][other] += 1.0
                        self._covisit[other][e.item_id] += 1.0
                recent.append(e.item_id)
        return new

    def recent_items(self, actor: str, n: int = 20) -> list[str]:
        with self._lock:
            return list(reversed(self._recent.get(actor, ())))[:n]

    def dismissed(self, actor: str) -> dict[str, float]:
        with self._lock:
            return dict(self._dismissed.get(actor, {}))

    def covisits(self, item_id: str, k: int = 20) -> list[tuple[str, float]]:
        with self._lock:
            row = self._covisit.get(item_id, {})
            return sorted(row.items(), key=lambda kv: (-kv[1], kv[0]))[:k]

    def forget(self, actor: str) -> None:
        with self._lock:
            self._recent.pop(actor, None)
            self._dismissed.pop(actor, None)


class MemoryRateLimiter:
    """Token bucket per key in process (same arithmetic as api.limits.RateLimiter)."""

    def __init__(self, rate_per_s: float, burst: float | None = None) -> None:
        if rate_per_s <= 0:
            raise ValueError("rate_per_s must be > 0")
        self.rate, self.burst = rate_per_s, burst if burst is not None else 2 * rate_per_s
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, cost: float = 1.0) -> tuple[bool, float]:
        """(allowed, seconds until a token is available)."""
        now = time.time()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + max(0.0, now - last) * self.rate)
            ok = tokens >= cost
            self._buckets[key] = (tokens - cost if ok else tokens, now)
        return (True, 0.0) if ok else (False, (cost - tokens) / self.rate)


def open_online_state(url: str, *, prefix: str = "shopsense") -> Any:
    """`memory://` (default) or `redis://host:port/db`."""
    factory = STATE_REGISTRY.get(url.split("://", 1)[0])
    if factory is None:
        raise ValueError(f"unknown online-state URL {url!r}; known: {sorted(STATE_REGISTRY)}")
    return factory(url, prefix)


def open_rate_limiter(url: str, rate_per_s: float, burst: float | None = None, *,
                      prefix: str = "shopsense") -> Any:
    """A limiter with `allow(key, cost) -> (allowed, wait_s)`, shared by replicas on Redis."""
    if url.startswith("redis://"):
        from shopsense.scale.redis_state import RedisRateLimiter

        return RedisRateLimiter(url, rate_per_s, burst, prefix=prefix)
    if url.startswith("memory://"):
        return MemoryRateLimiter(rate_per_s, burst)
    raise ValueError(f"unknown rate-limiter URL {url!r}")


def _redis_state(url: str, prefix: str) -> Any:
    from shopsense.scale.redis_state import RedisOnlineState  # optional extra: redis

    return RedisOnlineState(url, prefix=prefix)


STATE_REGISTRY: dict[str, Callable[[str, str], Any]] = {
    "memory": lambda url, prefix: MemoryOnlineState(),
    "redis": _redis_state,
}
