"""The storefront's impression log (table `web_impressions`): one row per item a page
displayed (surface, position, query, total results), pseudonyms only. Anonymous rows are
back-filled with the user id when a session is linked, as events are; the table is in
`store.sqlite.USER_TABLES`, so erasure and retention reach it.

`WebImpressionRepository` is the protocol; `StoreWebImpressions` runs the portable SQL on
either backend (the PostgreSQL store rewrites AUTOINCREMENT, REAL and `?`: pg_dialect.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from shopsense.store.base import SqlStore
from shopsense.store.behaviour import WEB_IMPRESSIONS as TABLE

_SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
    "impression_id TEXT NOT NULL, user_id TEXT, session_id TEXT, surface TEXT NOT NULL, "
    "item_id TEXT, position INTEGER NOT NULL, query TEXT, total INTEGER, timestamp REAL NOT NULL)",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_session ON {TABLE}(session_id, timestamp)",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_user ON {TABLE}(user_id)",
)
# (impression_id, user_id, session_id, surface, item_id, position, query, total, timestamp)
Row = tuple[Any, ...]


class WebImpressionRepository(Protocol):
    def add(self, rows: Sequence[Row], *, stitch: tuple[str, str] | None = None) -> int:
        """Store rows in one transaction; `stitch=(user_id, session_id)` also gives that
        session's earlier anonymous rows the user id. Returns the rows written."""
        ...

    def has_rows(self) -> bool: ...

    def change_mark(self) -> tuple[Any, ...]:
        """(rows, newest seq): changes whenever a row is added."""
        ...


class StoreWebImpressions:
    """`WebImpressionRepository` over a SQLite or PostgreSQL store (creates the table)."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        _register_for_erasure()
        with store.transaction() as cur:
            for statement in _SCHEMA:
                cur.execute(statement)

    def add(self, rows: Sequence[Row], *, stitch: tuple[str, str] | None = None) -> int:
        with self.store.transaction() as cur:
            cur.executemany(f"INSERT INTO {TABLE} (impression_id, user_id, session_id, surface, "
                            "item_id, position, query, total, timestamp) VALUES "
                            "(?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            if stitch is not None:
                cur.execute(f"UPDATE {TABLE} SET user_id = ? WHERE session_id = ? AND "
                            "user_id IS NULL", stitch)
        return len(rows)

    def has_rows(self) -> bool:
        return bool(self.store.execute(f"SELECT 1 FROM {TABLE} LIMIT 1"))

    def change_mark(self) -> tuple[Any, ...]:
        return tuple(self.store.execute(f"SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM {TABLE}")[0])


def _register_for_erasure() -> None:
    from shopsense.store import sqlite

    if TABLE not in sqlite.USER_TABLES:
        sqlite.USER_TABLES.append(TABLE)


__all__ = ["TABLE", "StoreWebImpressions", "WebImpressionRepository"]
