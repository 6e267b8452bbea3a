"""Contract suite for the shared online state and rate limiter, over memory and Redis."""

from __future__ import annotations

import time

import pytest

from shopsense.domain import Event
from shopsense.scale.online import open_online_state, open_rate_limiter


@pytest.fixture(params=["memory", "redis"])
def state_url(request: pytest.FixtureRequest) -> str:
    if request.param == "memory":
        return "memory://"
    pytest.importorskip("redis", reason="redis-py (scale extra) not installed")
    return request.getfixturevalue("redis_url")


def ev(eid: str, item: str, t: float, actor: str = "u1", etype: str = "view",
       value: float | None = None) -> Event:
    return Event(event_id=eid, event_type=etype, timestamp=t, user_id=actor, item_id=item,
                 value=value)


def test_observe_is_idempotent_by_event_id(state_url: str, prefix: str) -> None:
    state = open_online_state(state_url, prefix=prefix)
    batch = [ev("e1", "a", 1.0), ev("e2", "b", 2.0), ev("e3", "c", 3.0)]
    assert state.observe(batch) == 3
    assert state.observe(batch) == 0  # redelivery changes nothing
    assert state.recent_items("u1") == ["c", "b", "a"]
    assert state.covisits("b") == [("a", 1.0), ("c", 1.0)]
    assert state.covisits("a") == [("b", 1.0), ("c", 1.0)]


def test_covisits_count_across_actors(state_url: str, prefix: str) -> None:
    state = open_online_state(state_url, prefix=prefix)
    state.observe([ev("x1", "a", 1.0, "u1"), ev("x2", "b", 2.0, "u1"),
                   ev("y1", "a", 1.0, "u2"), ev("y2", "b", 2.0, "u2"),
                   ev("z1", "a", 1.0, "u3"), ev("z2", "d", 2.0, "u3")])
    assert state.covisits("a") == [("b", 2.0), ("d", 1.0)]
    assert state.covisits("a", k=1) == [("b", 2.0)]
    assert state.recent_items("u2", n=1) == ["b"]


def test_dismiss_undo_and_forget(state_url: str, prefix: str) -> None:
    state = open_online_state(state_url, prefix=prefix)
    state.observe([ev("d1", "a", 5.0, etype="dismiss"), ev("d2", "b", 6.0, etype="dismiss"),
                   ev("v1", "c", 7.0)])
    assert state.dismissed("u1") == {"a": 5.0, "b": 6.0}
    state.observe([ev("d3", "a", 8.0, etype="dismiss", value=-1.0)])
    assert state.dismissed("u1") == {"b": 6.0}
    state.forget("u1")
    assert state.dismissed("u1") == {} and state.recent_items("u1") == []


def test_two_clients_share_state(redis_url: str, prefix: str) -> None:
    pytest.importorskip("redis", reason="redis-py (scale extra) not installed")
    replica_a = open_online_state(redis_url, prefix=prefix)
    replica_b = open_online_state(redis_url, prefix=prefix)
    replica_a.observe([ev("s1", "a", 1.0, "shopper")])
    assert replica_b.observe([ev("s1", "a", 1.0, "shopper"), ev("s2", "b", 2.0, "shopper")]) == 1
    assert replica_a.recent_items("shopper") == ["b", "a"]


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_rate_limiter_bucket(backend: str, request: pytest.FixtureRequest, prefix: str) -> None:
    if backend == "redis":
        pytest.importorskip("redis", reason="redis-py (scale extra) not installed")
    url = "memory://" if backend == "memory" else request.getfixturevalue("redis_url")
    limiter = open_rate_limiter(url, rate_per_s=5.0, burst=3.0, prefix=prefix)
    assert [limiter.allow("k")[0] for _ in range(4)] == [True, True, True, False]
    ok, wait = limiter.allow("k")
    assert not ok and 0.0 < wait <= 0.2 + 1e-6
    assert limiter.allow("other")[0]  # buckets are per key
    time.sleep(0.25)
    assert limiter.allow("k")[0]


def test_rate_limit_is_shared_by_replicas(redis_url: str, prefix: str) -> None:
    pytest.importorskip("redis", reason="redis-py (scale extra) not installed")
    a = open_rate_limiter(redis_url, rate_per_s=1.0, burst=4.0, prefix=prefix)
    b = open_rate_limiter(redis_url, rate_per_s=1.0, burst=4.0, prefix=prefix)
    results = [limiter.allow("key")[0] for limiter in (a, b, a, b, a, b)]
    assert results == [True, True, True, True, False, False]


def test_erasure_reaches_other_replicas(redis_url: str, prefix: str) -> None:
    pytest.importorskip("redis", reason="redis-py (scale extra) not installed")
    from shopsense.scale.redis_state import RedisErasureBus

    got_a: list[str] = []
    got_b: list[str] = []
    a, b = RedisErasureBus(redis_url, prefix=prefix), RedisErasureBus(redis_url, prefix=prefix)
    a.subscribe(got_a.append)
    b.subscribe(got_b.append)
    try:
        deadline = time.monotonic() + 5
        while a.publish("u_erased") < 2 and time.monotonic() < deadline:
            time.sleep(0.05)  # until both subscriptions are live
        while not got_b and time.monotonic() < deadline:
            time.sleep(0.01)
        assert got_b[:1] == ["u_erased"]
        assert got_a == []  # a replica does not hear its own announcement
    finally:
        a.close()
        b.close()
