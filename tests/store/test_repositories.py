"""Contract suite for the repositories in store/ (keys, counts, behaviour reads, the web
impression log, pseudonym re-keying), run over a SQLite file and over PostgreSQL (the
`store` fixture of tests/conftest.py; the PostgreSQL half skips without a server)."""

from __future__ import annotations

import pytest

from shopsense.domain import Event, Product
from shopsense.store.behaviour import ROW_QUERIES, StoreBehaviour
from shopsense.store.keys import StoreKeys
from shopsense.store.pseudonyms import StorePseudonyms
from shopsense.store.stats import StoreStats
from shopsense.store.web_impressions import StoreWebImpressions

DAY = 86_400.0
T0 = 1_790_000_000.0 - (1_790_000_000.0 % DAY)


def ev(eid: str, t: float, etype: str = "view", *, user: str | None = None,
       session: str | None = None, item: str | None = "a", query: str | None = None) -> Event:
    return Event(event_id=eid, event_type=etype, timestamp=t, user_id=user, session_id=session,
                 item_id=item, query=query)


@pytest.fixture
def filled(store):
    store.upsert_products([
        Product("a", "格力空调", category="家电 > 空调", brand="格力", price=2999.0),
        Product("b", "美的空调", category="家电 > 空调", brand="美的", price=1999.0,
                available=False),
        Product("c", "Running shoe", category="运动 > 跑鞋", brand="", price=399.0)])
    store.add_events([
        ev("e1", T0 + 10, "search", user="u1", session="s1", item=None, query=" 空调 "),
        ev("e2", T0 + 20, "view", user="u1", session="s1", item="a"),
        ev("e3", T0 + 30, "cart", user="u1", session="s1", item="a"),
        ev("e4", T0 + DAY + 5, "view", session="g1", item="c"),
        ev("e5", T0 + DAY + 9, "view", session="g1", item="b"),
        ev("e6", T0 + 2 * DAY, "purchase", user="u2", session="s2", item="b")])
    return store


def test_keys_add_find_and_revoke(store) -> None:
    keys = StoreKeys(store)
    assert keys.active("k1") is None
    keys.add("k1", "h1", "search", 100.0)
    keys.add("k2", "h2", "admin", 101.0)
    assert keys.active("k1") == ("h1", "search") and keys.active("k2") == ("h2", "admin")
    assert keys.revoke("k1") is True
    assert keys.active("k1") is None and keys.active("k2") == ("h2", "admin")
    assert keys.revoke("nope") is False
    assert StoreKeys(store).active("k2") == ("h2", "admin")  # another replica sees it


def test_counts_of_events_and_products(filled) -> None:
    stats = StoreStats(filled)
    assert stats.events_by_type() == {"search": 1, "view": 3, "cart": 1, "purchase": 1}
    assert stats.event_summary() == (6, 2, 3, T0 + 10, T0 + 2 * DAY)
    count, available, updated = stats.product_summary()
    assert (count, available) == (3, 2) and updated > 0
    assert stats.events_after(T0 + 30) == 3 and stats.events_after(T0 + 2 * DAY) == 0
    assert stats.actors_between(T0, T0 + DAY) == 1
    assert stats.actors_between(T0, T0 + 3 * DAY) == 3  # u1, g1 (anonymous), u2
    before = stats.change_marks()
    filled.add_events([ev("e7", T0 + 3 * DAY, user="u3")])
    assert stats.change_marks() != before and stats.change_marks()[1] == before[1]


def test_empty_store_counts(store) -> None:
    stats = StoreStats(store)
    assert stats.events_by_type() == {}
    assert stats.event_summary() == (0, 0, 0, None, None)
    assert stats.product_summary() == (0, 0, None)
    assert StoreBehaviour(store).newest_event_time(T0) is None


def test_behaviour_rows_and_capped_counts(filled) -> None:
    reads = StoreBehaviour(filled)
    assert reads.newest_event_time(T0 + DAY + 6) == T0 + DAY + 5
    assert reads.newest_event_time(1e12) == T0 + 2 * DAY
    day0 = int(T0 // DAY)
    active = dict(reads.capped_counts("active_daily", T0, T0 + 3 * DAY, cap=10))
    assert {int(float(k)): n for k, n in active.items()} == {day0: 1, day0 + 1: 1, day0 + 2: 1}
    assert dict(reads.capped_counts("brand_share", T0, T0 + 3 * DAY, cap=10)) == {
        "格力": 1, "美的": 2}  # u1 on a; g1 and u2 on b; c has no brand
    assert dict(reads.capped_counts("brand_share", T0, T0 + 3 * DAY, cap=1)) in (
        {"格力": 1, "美的": 1}, {"格力": 1, "美的": 2})  # g1 keeps one row of one key
    assert dict(reads.capped_counts("top_queries", T0, T0 + DAY, cap=5)) == {"空调": 1}
    searches = list(reads.rows("searches", T0, T0 + 3 * DAY))
    assert [(a, q) for a, q, _ in searches] == [("u1", " 空调 ")]
    assert sorted(reads.categories()) == ["家电 > 空调", "运动 > 跑鞋"]
    assert reads.brands() == sorted(["格力", "美的"])
    assert set(ROW_QUERIES) >= {"funnel_daily", "searches", "surface_ctr"}


def test_every_row_query_runs_on_the_backend(filled) -> None:
    StoreWebImpressions(filled)  # surface_ctr reads the impression log
    reads = StoreBehaviour(filled)
    for name in ROW_QUERIES:
        assert isinstance(reads.capped_counts(name, T0, T0 + 3 * DAY, cap=3), list), name


def test_web_impressions_are_stitched_counted_and_erased(filled) -> None:
    log = StoreWebImpressions(filled)
    assert not log.has_rows() and log.change_mark() == (0, 0)
    row = ("imp1", None, "anon", "trending", "a", 0, None, None, T0 + 50)
    assert log.add([row, (*row[:4], "b", 1, *row[6:])]) == 2
    assert log.add([("imp2", "u9", "anon", "search", "c", 0, "shoe", 1, T0 + 60)],
                   stitch=("u9", "anon")) == 1
    assert log.has_rows() and log.change_mark()[0] == 3
    assert filled.execute("SELECT DISTINCT user_id FROM web_impressions") == [("u9",)]
    counts = dict(StoreBehaviour(filled).capped_counts("surface_ctr", T0, T0 + DAY, cap=5))
    assert counts == {"trending|not_clicked": 1, "search|not_clicked": 1}
    filled.forget_user("u9")
    assert not log.has_rows()


def test_rekey_rewrites_every_pseudonym_in_one_step(filled) -> None:
    filled.link_session("s9", "u1")
    rewritten = StorePseudonyms(filled).rekey(lambda v: v[:1] + "X" + v[1:], generation=2)
    assert rewritten == (6, 3)  # s1 -> u1 and s2 -> u2 were linked by their events
    actors = {(e.user_id, e.session_id) for e in filled.iter_events()}
    assert ("uX1", "sX1") in actors and (None, "gX1") in actors
    assert all((u or "?X")[1] == "X" and (s or "?X")[1] == "X" for u, s in actors)
    assert sorted(filled.execute("SELECT session_id, user_id FROM identity_links")) == [
        ("sX1", "uX1"), ("sX2", "uX2"), ("sX9", "uX1")]
    assert filled.get_meta("secret_generation") == "2"
    assert filled.get_meta("models_stale") == "1"
