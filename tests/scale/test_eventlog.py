"""The Kafka event log on a loopback Tansu broker: acknowledged events reach the PostgreSQL
store and the Redis online state exactly once, even when a worker dies before committing."""

from __future__ import annotations

import time
import uuid

import pytest

pytest.importorskip("confluent_kafka", reason="confluent-kafka (scale extra) not installed")
pytest.importorskip("psycopg_pool", reason="psycopg-pool (scale extra) not installed")

from shopsense.domain import Event
from shopsense.scale.eventlog import (
    EventWorker,
    KafkaEventLog,
    LoggedEventStore,
    decode,
    encode,
    ensure_topic,
    parse_kafka_url,
)
from shopsense.scale.online import open_online_state
from shopsense.store import open_store

FAST_GROUP = {"session.timeout.ms": "2000", "max.poll.interval.ms": "3000",
              "heartbeat.interval.ms": "300"}  # Tansu joins a group after ~the rebalance timeout


def ev(eid: str, item: str, t: float, user: str = "u1") -> Event:
    return Event(event_id=eid, event_type="view", timestamp=t, user_id=user, item_id=item,
                 platform="web")


def drain(worker: EventWorker, want: int, timeout_s: float = 20.0) -> int:
    got, deadline = 0, time.monotonic() + timeout_s
    while got < want and time.monotonic() < deadline:
        got += worker.run_once(timeout_s=0.2)
    return got


def test_url_and_codec() -> None:
    assert parse_kafka_url("kafka://a:1,b:2/ev") == ("a:1,b:2", "ev")
    assert parse_kafka_url("kafka://a:1")[1] == "shopsense-events"
    with pytest.raises(ValueError):
        parse_kafka_url("redis://a:1/x")
    e = Event("e1", "rate", 1.5, "u", "s", "i", "空调", 4.0, "app")
    assert decode(encode(e)) == e


def test_worker_writes_store_and_state_exactly_once(kafka_url: str, pg_url: str,
                                                    redis_url: str, prefix: str) -> None:
    url = f"{kafka_url}/{prefix}"
    ensure_topic(url, partitions=2)
    store = open_store(pg_url)
    state = open_online_state(redis_url, prefix=prefix)
    logged = LoggedEventStore(store, KafkaEventLog(url))
    batch = [ev("a", "i1", 1.0), ev("b", "i2", 2.0), ev("c", "i3", 3.0, user="u2")]
    assert logged.add_events(batch) == (3, 0)
    assert logged.add_events(batch[:1]) == (1, 0)  # a client retry: same event id again
    assert store.count_events() == 0  # the replica only produced

    # A worker that writes the store, then dies before its sinks and the offset commit.
    def crash(events: list[Event]) -> None:
        raise RuntimeError("killed")

    doomed = EventWorker(url, f"{prefix}-writers", store, [crash], config=FAST_GROUP)
    with pytest.raises(RuntimeError):
        drain(doomed, 4)
    doomed.close()
    assert store.count_events() == 3

    survivor = EventWorker(url, f"{prefix}-writers", store, [state.observe], config=FAST_GROUP)
    assert drain(survivor, 4) == 4  # redelivered: nothing was committed
    survivor.close()
    assert survivor.stats["inserted"] == 0 and survivor.stats["duplicates"] == 4
    assert [e.event_id for e in store.iter_events()] == ["a", "b", "c"]
    assert state.recent_items("u1") == ["i2", "i1"]
    assert state.covisits("i1") == [("i2", 1.0)]  # counted once despite redelivery
    store.close()


def test_acknowledged_means_on_the_broker(kafka_url: str, prefix: str) -> None:
    url = f"{kafka_url}/{prefix}"
    ensure_topic(url, partitions=1)
    log = KafkaEventLog(url)
    ids = [uuid.uuid4().hex for _ in range(200)]
    assert log.append([ev(i, "x", float(n)) for n, i in enumerate(ids)]) == 200
    reader = EventWorker(url, f"{prefix}-audit", _NullStore(), config=FAST_GROUP)
    seen: list[str] = []
    reader.sinks.append(lambda events: seen.extend(e.event_id for e in events))
    drain(reader, 200)
    reader.close()
    assert seen == ids  # one partition: in order, none lost


class _NullStore:
    def add_events(self, events: list[Event]) -> tuple[int, int]:
        return len(events), 0
