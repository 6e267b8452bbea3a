"""Counts over the store's catalogue and events for status pages, the CLI and release
fingerprints: read-only, portable SQL (SQLite and PostgreSQL run the same text).

`StatsRepository` is the protocol; `StoreStats` implements it over either backend.
"""

from __future__ import annotations

from typing import Any, Protocol

from shopsense.store.base import SqlStore


class StatsRepository(Protocol):
    def events_by_type(self) -> dict[str, int]: ...

    def event_summary(self) -> tuple[int, int, int, float | None, float | None]:
        """(events, distinct users, distinct sessions, first timestamp, last timestamp)."""
        ...

    def product_summary(self) -> tuple[int, int, float | None]:
        """(products, available products, newest updated_at)."""
        ...

    def events_after(self, timestamp: float) -> int: ...

    def actors_between(self, start: float, end: float) -> int:
        """Distinct actors (user, else session) with an event in [start, end)."""
        ...

    def change_marks(self) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        """((events, max seq, max timestamp), (products, max updated_at)): changes whenever
        events or products change."""
        ...


class StoreStats:
    """`StatsRepository` over a SQLite or PostgreSQL store."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store

    def events_by_type(self) -> dict[str, int]:
        rows = self.store.execute("SELECT event_type, COUNT(*) FROM events GROUP BY event_type")
        return {str(k): int(v) for k, v in rows}

    def event_summary(self) -> tuple[int, int, int, float | None, float | None]:
        row = self.store.execute(
            "SELECT COUNT(*), COUNT(DISTINCT user_id), COUNT(DISTINCT session_id), "
            "MIN(timestamp), MAX(timestamp) FROM events")[0]
        return int(row[0]), int(row[1]), int(row[2]), row[3], row[4]

    def product_summary(self) -> tuple[int, int, float | None]:
        row = self.store.execute(
            "SELECT COUNT(*), SUM(available), MAX(updated_at) FROM products")[0]
        return int(row[0]), int(row[1] or 0), row[2]

    def events_after(self, timestamp: float) -> int:
        return int(self.store.execute("SELECT COUNT(*) FROM events WHERE timestamp > ?",
                                      (timestamp,))[0][0])

    def actors_between(self, start: float, end: float) -> int:
        return int(self.store.execute(
            "SELECT COUNT(DISTINCT COALESCE(user_id, session_id)) FROM events "
            "WHERE timestamp >= ? AND timestamp < ?", (start, end))[0][0])

    def change_marks(self) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        ev = self.store.execute("SELECT COUNT(*), COALESCE(MAX(seq), 0), "
                                "COALESCE(MAX(timestamp), 0) FROM events")[0]
        pr = self.store.execute("SELECT COUNT(*), COALESCE(MAX(updated_at), 0) FROM products")[0]
        return tuple(ev), tuple(pr)


__all__ = ["StatsRepository", "StoreStats"]
