"""Redis implementations of the shared online state and rate limiter (see scale.online).

Every update is one Lua script, so it is atomic on the server: two replicas observing the same
event, or a redelivered Kafka message, apply it once (marker key `seen:<event_id>` with a TTL).
Keys (prefix `shopsense:`): recent:<actor> (list, newest first), dismissed:<actor> (hash
item -> time), covisit:<item> (sorted set), seen:<event_id>, rl:<key> (token bucket hash);
channel erasures (pub/sub) tells replicas to forget a shopper.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import redis

from shopsense.domain import Event
from shopsense.scale.window import COVISIT_WINDOW, RECENT_ITEMS, SEEN_TTL_S

# KEYS: seen, recent, dismissed; ARGV: item, kind (view|dismiss|undo), ts, prefix, window,
# recent_max, ttl. Returns 1 when the event was new.
_OBSERVE = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', tonumber(ARGV[7])) == false then return 0 end
local item = ARGV[1]
if item == '' then return 1 end
if ARGV[2] == 'dismiss' then redis.call('HSET', KEYS[3], item, ARGV[3]) return 1 end
if ARGV[2] == 'undo' then redis.call('HDEL', KEYS[3], item) return 1 end
local prev = redis.call('LRANGE', KEYS[2], 0, tonumber(ARGV[5]) - 1)
for _, other in ipairs(prev) do
  if other ~= item then
    redis.call('ZINCRBY', ARGV[4] .. 'covisit:' .. item, 1, other)
    redis.call('ZINCRBY', ARGV[4] .. 'covisit:' .. other, 1, item)
  end
end
redis.call('LPUSH', KEYS[2], item)
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[6]) - 1)
return 1
"""
# KEYS: bucket; ARGV: rate, burst, cost, now. Returns {allowed, wait * 1e6}.
_TOKEN_BUCKET = """
local rate, burst, cost, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]),
  tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(state[1]) or burst, tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local allowed = 0
if tokens >= cost then tokens = tokens - cost allowed = 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
if allowed == 1 then return {1, 0} end
return {0, math.floor((cost - tokens) / rate * 1e6)}
"""


def _kind(e: Event) -> str:
    if e.event_type == "dismiss":
        return "undo" if e.value == -1.0 else "dismiss"
    return "view"


class RedisOnlineState:
    """OnlineState shared by every replica that points at the same Redis."""

    def __init__(self, url: str, *, prefix: str = "shopsense") -> None:
        self._redis = redis.Redis.from_url(url, decode_responses=True)
        self._p = prefix + ":"
        self._observe = self._redis.register_script(_OBSERVE)

    def observe(self, events: Sequence[Event]) -> int:
        pipe = self._redis.pipeline(transaction=False)
        for e in events:
            actor = e.actor or ""
            item = e.item_id if actor else ""
            self._observe(keys=[f"{self._p}seen:{e.event_id}", f"{self._p}recent:{actor}",
                                f"{self._p}dismissed:{actor}"],
                          args=[item or "", _kind(e), e.timestamp, self._p, COVISIT_WINDOW,
                                RECENT_ITEMS, SEEN_TTL_S], client=pipe)
        return int(sum(pipe.execute()))

    def recent_items(self, actor: str, n: int = 20) -> list[str]:
        return list(self._redis.lrange(f"{self._p}recent:{actor}", 0, n - 1))

    def dismissed(self, actor: str) -> dict[str, float]:
        raw = self._redis.hgetall(f"{self._p}dismissed:{actor}")
        return {item: float(t) for item, t in raw.items()}

    def covisits(self, item_id: str, k: int = 20) -> list[tuple[str, float]]:
        rows = self._redis.zrange(f"{self._p}covisit:{item_id}", 0, -1, desc=True,
                                  withscores=True)
        return sorted(((m, float(s)) for m, s in rows), key=lambda kv: (-kv[1], kv[0]))[:k]

    def forget(self, actor: str) -> None:
        self._redis.delete(f"{self._p}recent:{actor}", f"{self._p}dismissed:{actor}")

    def close(self) -> None:
        self._redis.close()


class RedisRateLimiter:
    """Token bucket per key in Redis: the limit holds across all replicas together."""

    def __init__(self, url: str, rate_per_s: float, burst: float | None = None, *,
                 prefix: str = "shopsense") -> None:
        if rate_per_s <= 0:
            raise ValueError("rate_per_s must be > 0")
        self.rate, self.burst = rate_per_s, burst if burst is not None else 2 * rate_per_s
        self._redis = redis.Redis.from_url(url, decode_responses=True)
        self._p = prefix + ":rl:"
        self._bucket = self._redis.register_script(_TOKEN_BUCKET)

    def allow(self, key: str, cost: float = 1.0) -> tuple[bool, float]:
        """(allowed, seconds until a token is available)."""
        ok, wait_us = self._bucket(keys=[self._p + key],
                                   args=[self.rate, self.burst, cost, time.time()])
        return bool(ok), int(wait_us) / 1e6


class RedisErasureBus:
    """Tells every replica that a shopper was erased (Redis pub/sub), so each drops the
    pseudonym from its in-process caches and models at once, not at its next restart.
    Messages are `<sender id> <pseudonym>`; a replica ignores its own."""

    def __init__(self, url: str, *, prefix: str = "shopsense", sender: str = "") -> None:
        import uuid

        self._redis = redis.Redis.from_url(url, decode_responses=True)
        self.channel = f"{prefix}:erasures"
        self.sender = sender or uuid.uuid4().hex[:12]
        self._pubsub: Any = None
        self._thread: Any = None

    def publish(self, pseudonym: str) -> int:
        """Announce an erasure; returns how many subscribers received it."""
        return int(self._redis.publish(self.channel, f"{self.sender} {pseudonym}"))

    def subscribe(self, on_erasure: Callable[[str], None]) -> None:
        """Call `on_erasure(pseudonym)` for erasures announced by other replicas."""

        def handle(message: dict[str, Any]) -> None:
            sender, _, pseudonym = str(message["data"]).partition(" ")
            if sender != self.sender and pseudonym:
                on_erasure(pseudonym)

        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        self._pubsub.subscribe(**{self.channel: handle})
        self._thread = self._pubsub.run_in_thread(sleep_time=0.05, daemon=True)

    def close(self) -> None:
        if self._thread is not None:
            self._thread.stop()
            self._thread.join(timeout=2.0)
        if self._pubsub is not None:
            self._pubsub.close()
        self._redis.close()
