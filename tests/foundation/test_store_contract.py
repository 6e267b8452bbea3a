"""Contract suite for CatalogStore / EventStore, run over every registered backend."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import postgres_url_or_skip

from shopsense.domain import Event, Product
from shopsense.store import REGISTRY, open_store


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "postgresql":
        url = postgres_url_or_skip()
    else:
        url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'shop.db'}"
    s = open_store(url)
    yield s
    s.close()


def ev(eid: str, t: float, user: str | None = None, session: str | None = None,
       item: str | None = "i1", etype: str = "view") -> Event:
    return Event(event_id=eid, event_type=etype, timestamp=t, user_id=user, session_id=session,
                 item_id=item)


def test_registry_is_explicit() -> None:
    assert {"sqlite", "memory"} <= set(REGISTRY)
    with pytest.raises(ValueError, match="unknown store URL scheme"):
        open_store("nosuch://x")


def test_products_upsert_get_delete(store) -> None:
    a = Product("a", "格力空调", category="家电 > 空调", brand="格力", price=3999.0,
                attributes={"power": "1.5匹"})
    b = Product("b", "Phone", price=999.0)
    assert store.upsert_products([a, b]) == (2, 0)
    assert store.upsert_products([a, b]) == (0, 2)  # unchanged rows are not rewritten
    changed = Product("b", "Phone Pro", price=1299.0)
    assert store.upsert_products([changed]) == (1, 0)
    assert store.get_product("b") == changed
    assert store.get_product("a") == a
    assert store.count_products() == 2
    assert [p.item_id for p in store.iter_products()] == ["a", "b"]
    assert store.delete_products(["a", "zzz"]) == 1
    assert store.get_product("a") is None
    assert store.count_products() == 1


def test_events_dedupe_and_order(store) -> None:
    batch = [ev("e2", 20.0, user="u1"), ev("e1", 10.0, user="u1"), ev("e3", 10.0, user="u2")]
    assert store.add_events(batch) == (3, 0)
    assert store.add_events(batch) == (0, 3)
    ordered = [e.event_id for e in store.iter_events()]
    assert ordered == ["e1", "e3", "e2"]  # by time, ties in arrival order
    assert [e.event_id for e in store.iter_events(actor="u1")] == ["e1", "e2"]
    assert [e.event_id for e in store.iter_events(since=15.0)] == ["e2"]
    assert store.count_events() == 3


def test_iter_events_pages_beyond_one_batch(store) -> None:
    events = [ev(f"e{i}", float(i // 3), user="u") for i in range(25_000)]
    store.add_events(events)
    got = list(store.iter_events())
    assert len(got) == 25_000
    assert len({e.event_id for e in got}) == 25_000
    assert [e.timestamp for e in got] == sorted(e.timestamp for e in got)


def test_identity_stitching_merges_histories(store) -> None:
    store.add_events([ev("a1", 1.0, session="s1"), ev("a2", 2.0, session="s1")])
    # The shopper logs in mid-session: later events carry both ids.
    store.add_events([ev("a3", 3.0, user="u9", session="s1")])
    assert [e.event_id for e in store.iter_events(actor="u9")] == ["a1", "a2", "a3"]
    # Later anonymous events of a linked session are attributed at ingest.
    store.add_events([ev("a4", 4.0, session="s1")])
    assert [e.user_id for e in store.iter_events(actor="s1")] == ["u9"] * 4
    # Explicit link of another device's session (web -> app).
    store.add_events([ev("b1", 5.0, session="s2")])
    assert store.link_session("s2", "u9") == 1
    assert len(list(store.iter_events(actor="u9"))) == 5


def test_forget_user_removes_every_row(store) -> None:
    store.add_events([ev("a1", 1.0, session="s1"), ev("a2", 2.0, user="u1", session="s1"),
                      ev("b1", 3.0, user="u2")])
    removed = store.forget_user("u1")
    assert removed >= 2
    assert [e.event_id for e in store.iter_events()] == ["b1"]
    assert store.is_erased("u1") and not store.is_erased("u2")
    rows = store.execute("SELECT * FROM identity_links")
    assert rows == []


def test_failed_batch_leaves_nothing(store) -> None:
    store.add_events([ev("ok", 1.0, user="u")])
    bad = [ev("new1", 2.0, user="u"), Event(event_id="new2", event_type="view",
                                            timestamp=None, user_id="u")]  # type: ignore[arg-type]
    with pytest.raises(Exception):  # noqa: B017 - NOT NULL violation from the backend
        store.add_events(bad)
    assert [e.event_id for e in store.iter_events()] == ["ok"]
