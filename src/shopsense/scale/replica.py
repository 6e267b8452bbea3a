"""Turns one `Shop` into a stateless replica of a scaled-out deployment.

With `kafka_url` set, accepted events go to the event log (the HTTP answer waits for the
broker's acknowledgement) and a follower in the replica's own consumer group reads every event
back: it writes the store (idempotent by event id, so the follower and the writer workers can
both do it), then refreshes the replica's caches and serving models. An event posted to replica
A therefore reaches replica B's recommendations after one produce + one poll. With `redis_url`
set, rate limits and the shared online state live in Redis.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from shopsense.domain import Event
from shopsense.pipeline.shop import Shop
from shopsense.scale.eventlog import EventWorker, KafkaEventLog, LoggedEventStore, ensure_topic
from shopsense.scale.online import MemoryOnlineState, open_online_state, open_rate_limiter
from shopsense.scale.settings import ScaleSettings


class _RecentIds:
    """Bounded set of event ids this replica has already handed to its listeners."""

    def __init__(self, capacity: int = 200_000) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def add_new(self, events: Sequence[Event]) -> list[Event]:
        """The events not seen before, remembering them."""
        with self._lock:
            new = [e for e in events if e.event_id not in self._ids]
            for e in new:
                self._ids[e.event_id] = None
            while len(self._ids) > self._capacity:
                self._ids.popitem(last=False)
        return new


@dataclass
class Replica:
    """What `scale_out` attached: the limiter to serve with, the online state, the follower."""

    limiter: Any
    state: Any
    follower: EventWorker | None = None
    erasures: Any = None
    catalogue: Any = None  # StoreFollower of the shared store's change feed
    threads: list[threading.Thread] = field(default_factory=list)

    def stop(self) -> None:
        if self.follower is not None:
            self.follower.stop()
        if self.catalogue is not None:
            self.catalogue.stop()
        if self.erasures is not None:
            self.erasures.close()
        for thread in self.threads:
            thread.join(timeout=5.0)


def scale_out(shop: Shop, cfg: ScaleSettings, *, rate_per_s: float) -> Replica:
    """Attach the configured engines to `shop` (call once, before serving)."""
    state = (open_online_state(cfg.redis_url, prefix=cfg.key_prefix) if cfg.redis_url
             else MemoryOnlineState())
    limiter = open_rate_limiter(cfg.redis_url or "memory://", rate_per_s,
                                prefix=cfg.key_prefix)
    replica = Replica(limiter=limiter, state=state)
    # a product another replica adds or deletes reaches this one's catalogue and indexes
    from shopsense.pipeline.follow import StoreFollower

    shop.publish_changes = True
    replica.catalogue = StoreFollower(shop, follow_events=False)
    replica.threads.append(replica.catalogue.start())
    shop.erasure_listeners.append(state.forget)
    if cfg.redis_url:
        replica.erasures = _share_erasures(shop, cfg)
    if not cfg.kafka_url:
        shop.listeners.append(state.observe)
        return replica
    ensure_topic(cfg.kafka_url, partitions=cfg.kafka_partitions)
    seen = _RecentIds()

    def remember_own(events: list[Event]) -> None:  # Shop calls it right after the broker ack
        seen.add_new(events)

    shop.listeners.insert(0, remember_own)
    shop.store = LoggedEventStore(shop.store, KafkaEventLog(cfg.kafka_url))

    def follow(events: list[Event]) -> None:
        state.observe(events)  # idempotent by event id
        foreign = seen.add_new(events)  # posted to another replica
        if foreign:
            for listener in list(shop.listeners):
                if listener is not remember_own:
                    listener(foreign)
        # last: the store and the models hold them now, so whatever is recomputed sees them
        refresh_profiles(shop, events)

    follower = EventWorker(cfg.kafka_url, f"{cfg.writer_group}-replica-{uuid.uuid4().hex[:8]}",
                           shop.store.inner, [follow], from_start=False,
                           config=dict(cfg.consumer_config))
    replica.follower = follower
    replica.threads.append(follower.start())
    return replica


def _share_erasures(shop: Shop, cfg: ScaleSettings) -> Any:
    """Erasures on this replica are announced; erasures elsewhere reach this one's caches."""
    from shopsense.scale.redis_state import RedisErasureBus

    bus = RedisErasureBus(cfg.redis_url, prefix=cfg.key_prefix)
    local = list(shop.erasure_listeners)

    def forget_here(pseudonym: str) -> None:
        shop.drop_profiles()
        shop.invalidate_all()
        for listener in local:
            listener(pseudonym)

    shop.erasure_listeners.append(bus.publish)
    bus.subscribe(forget_here)
    return bus


def refresh_profiles(shop: Shop, events: Sequence[Event]) -> None:
    """Drop the cached profiles and answers of these events' actors (kept per replica); the
    events join their held event lists."""
    shop.note_events(events)
