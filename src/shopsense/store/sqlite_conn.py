"""The SQLite store's connection helpers: its write transaction, and a second connection
that pollers read on."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from typing import Any


class Transaction:
    """`BEGIN IMMEDIATE` ... `COMMIT` (`ROLLBACK` on an exception) under the store's lock."""

    def __init__(self, conn: sqlite3.Connection, lock: threading.RLock) -> None:
        self._conn, self._lock = conn, lock

    def __enter__(self) -> sqlite3.Cursor:
        self._lock.acquire()
        self._conn.execute("BEGIN IMMEDIATE")
        return self._conn.cursor()

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            self._conn.execute("ROLLBACK" if exc_type else "COMMIT")
        finally:
            self._lock.release()


class PollReader:
    """Read queries on a connection of their own, opened on first use: what a poller (the
    change-feed follower, every 100 ms) runs, so a request's write never waits for a poll to
    give the store's shared connection back (a WAL reader and the writer do not block each
    other; each query is its own read transaction, so checkpoints are not held back)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def __call__(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            if self._conn is None:
                self._conn = sqlite3.connect(self.path, check_same_thread=False,
                                             isolation_level=None)
                self._conn.execute("PRAGMA busy_timeout=30000")
            return self._conn.execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
