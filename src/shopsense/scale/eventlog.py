"""The event log on a Kafka topic (`kafka://host:port/topic`): replicas produce, consumer-group
workers write the store and update online state.

Delivery is at-least-once (offsets are committed only after the store transaction commits);
the effect is exactly-once because the store skips event_ids it already holds and the online
state skips event ids it has already applied. Messages are keyed by actor, so one shopper's
events stay in order on one partition.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any
from urllib.parse import urlsplit

from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from shopsense.domain import Event
from shopsense.store.base import Store

DEFAULT_TOPIC = "shopsense-events"


def parse_kafka_url(url: str) -> tuple[str, str]:
    """(bootstrap servers, topic) of `kafka://host:port[,host:port]/topic`."""
    parts = urlsplit(url)
    if parts.scheme != "kafka" or not parts.netloc:
        raise ValueError(f"event-log URL must look like kafka://host:port/topic, got {url!r}")
    return parts.netloc, parts.path.strip("/") or DEFAULT_TOPIC


def encode(event: Event) -> bytes:
    return json.dumps(asdict(event), ensure_ascii=False, separators=(",", ":")).encode()


def decode(payload: bytes) -> Event:
    return Event(**json.loads(payload))


def ensure_topic(url: str, partitions: int = 6, replication: int = 1,
                 timeout_s: float = 10.0) -> None:
    """Create the topic if it is missing (production: replication 3, min.insync.replicas 2)."""
    bootstrap, topic = parse_kafka_url(url)
    admin = AdminClient({"bootstrap.servers": bootstrap})
    if topic in admin.list_topics(timeout=timeout_s).topics:
        return
    future = admin.create_topics([NewTopic(topic, num_partitions=partitions,
                                           replication_factor=replication)])[topic]
    try:
        future.result(timeout_s)
    except KafkaException as exc:
        if "TOPIC_ALREADY_EXISTS" not in str(exc):
            raise


class KafkaEventLog:
    """Producer side: `append(events)` returns once the broker has acknowledged every event
    (acks=all), or raises; an acknowledged event is the replica's promise to the caller."""

    def __init__(self, url: str, *, timeout_s: float = 10.0,
                 config: dict[str, Any] | None = None) -> None:
        bootstrap, self.topic = parse_kafka_url(url)
        self.timeout_s = timeout_s
        self._producer = Producer({"bootstrap.servers": bootstrap, "acks": "all",
                                   "linger.ms": 2, **(config or {})})
        self._lock = threading.Lock()

    def append(self, events: Sequence[Event]) -> int:
        failures: list[str] = []

        def delivered(err: Any, msg: Any) -> None:
            if err is not None:
                failures.append(str(err))

        with self._lock:
            for e in events:
                self._producer.produce(self.topic, key=(e.actor or e.event_id).encode(),
                                       value=encode(e), on_delivery=delivered)
            left = self._producer.flush(self.timeout_s)
        if failures or left:
            raise RuntimeError(f"event log did not acknowledge {len(failures) + left} of "
                               f"{len(events)} events: {failures[:3]}")
        return len(events)

    def close(self) -> None:
        self._producer.flush(self.timeout_s)


class EventWorker:
    """Consumer side: reads batches, writes them to the store, hands them to `sinks` (online
    state, a replica's caches), then commits the offsets. Workers sharing `group` split the
    partitions; a worker in its own group sees every event (a replica following the log)."""

    def __init__(self, url: str, group: str, store: Store,
                 sinks: Sequence[Callable[[list[Event]], Any]] = (), *,
                 from_start: bool = True, config: dict[str, Any] | None = None) -> None:
        bootstrap, self.topic = parse_kafka_url(url)
        self.store, self.sinks = store, list(sinks)
        self._consumer = Consumer({
            "bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False,
            "auto.offset.reset": "earliest" if from_start else "latest", **(config or {})})
        self._consumer.subscribe([self.topic])
        self._stop = threading.Event()
        self.stats = {"batches": 0, "events": 0, "inserted": 0, "duplicates": 0}

    def run_once(self, max_messages: int = 1000, timeout_s: float = 0.2) -> int:
        """One poll -> store -> sinks -> commit cycle; returns events handled."""
        messages = [m for m in self._consumer.consume(max_messages, timeout_s)
                    if m.error() is None]
        if not messages:
            return 0
        events = [decode(m.value()) for m in messages]
        inserted, duplicates = self.store.add_events(events)
        for sink in self.sinks:
            sink(events)
        self._consumer.commit(asynchronous=False)
        self.stats["batches"] += 1
        self.stats["events"] += len(events)
        self.stats["inserted"] += inserted
        self.stats["duplicates"] += duplicates
        return len(events)

    def run(self) -> None:
        """Loop until `stop()`; an exception leaves offsets uncommitted (redelivered later)."""
        try:
            while not self._stop.is_set():
                self.run_once()
        finally:
            self._consumer.close()

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name=f"event-worker-{self.topic}",
                                  daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        """Leave the group now (only when `run` is not looping in another thread)."""
        self._consumer.close()


class LoggedEventStore:
    """A store whose `add_events` appends to the event log instead of writing the database
    (workers write it); every other call goes to the wrapped store. `add_events` returns
    (acknowledged, 0): duplicates are dropped later, by the workers, through event ids."""

    def __init__(self, store: Store, log: KafkaEventLog) -> None:
        self.inner, self.log = store, log

    def add_events(self, events: Sequence[Event]) -> tuple[int, int]:
        return self.log.append(events), 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
