"""Replicas starting at once each create the side tables they need (the change feed, the
privacy ledger, merchandising rules, shared answers, a pgvector table). `CREATE TABLE IF NOT
EXISTS` alone is not safe against itself in PostgreSQL: two sessions both pass the check and one
fails on the catalogue's unique index (CI stop 28). Every store-side CREATE takes the schema lock.
"""

from __future__ import annotations

import threading

import pytest

from shopsense.store import feed, ledger, open_store

pytest.importorskip("psycopg")


def _all_at_once(n: int, work) -> list[BaseException]:
    barrier, errors = threading.Barrier(n), []

    def run() -> None:
        try:
            barrier.wait()
            work()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@pytest.mark.parametrize("round_", range(3))
def test_side_tables_created_by_many_replicas_at_once(pg_url: str, round_: int) -> None:
    stores = [open_store(pg_url) for _ in range(6)]
    try:
        turn = iter(range(6))
        lock = threading.Lock()

        def create() -> None:
            with lock:
                store = stores[next(turn)]
            feed.ensure_feed(store)
            ledger.ensure(store)

        assert _all_at_once(6, create) == []
        # Created once, usable by all.
        seq = feed.publish(stores[0], "forget", {"users": ["u1"]})
        assert [c[0] for c in feed.changes_after(stores[5], 0)] == [seq]
    finally:
        for s in stores:
            s.close()


def test_pgvector_table_opened_by_many_replicas_at_once(pg_url: str) -> None:
    from shopsense.store.pgvector import PgVectorTable

    tables: list[PgVectorTable] = []
    lock = threading.Lock()

    def open_table() -> None:
        t = PgVectorTable(pg_url, 4, "vec_race", ef_search=40, pool_max=2)
        with lock:
            tables.append(t)

    try:
        assert _all_at_once(5, open_table) == []
        assert len(tables) == 5
    finally:
        for t in tables:
            t.close()
