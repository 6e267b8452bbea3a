"""Logged impressions: which list an answer (`request_id`) showed, at which positions, with the
serving policy's probability of each, and which positions were clicked.

One row per displayed list, not per item, so a shop logging 10M items shown a day stays well
under 1 GB a day (docs/FORMATS.md gives the measured bytes per impression):

    request_id TEXT PK  16 hex characters (64 random bits), as the answer carried it
    timestamp  REAL     when the list was shown (unix seconds); retention purges by it
    user_id    TEXT     the actor's pseudonym (user, else session): erased with the shopper
    surface    TEXT     search | for_you | similar | bought_together | trending | next | ...
    arm        TEXT     experiment arm, NULL outside experiments
    policy     TEXT     how the list was drawn: "greedy" or "eps=<e>;pool=<m>"
    items      TEXT     item ids in display order, joined by U+001F
    propensity BLOB     float32 little-endian per position; NULL = every position 1 (greedy)
    clicks     TEXT     clicked positions, comma-separated ('' = none)

`ImpressionRepository` is the protocol; `SqliteImpressions` and `PostgresImpressions` differ
only in the binary column type (the PostgreSQL store rewrites `?` and REAL itself).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from shopsense.store.base import Store

TABLE = "impressions"
SEP = "\x1f"
MAX_POSITIONS = 100


@dataclass(frozen=True, slots=True)
class ImpressionRecord:
    request_id: str
    timestamp: float
    actor: str
    surface: str
    items: tuple[str, ...]
    propensities: tuple[float, ...] = ()  # empty = 1.0 at every position
    policy: str = "greedy"
    arm: str | None = None
    clicks: frozenset[int] = field(default_factory=frozenset)

    def propensity(self, position: int) -> float:
        return self.propensities[position] if self.propensities else 1.0


class ImpressionRepository(Protocol):
    def add(self, records: Sequence[ImpressionRecord]) -> int:
        """Store lists (a request id already stored is ignored); returns the number added."""

    def mark_click(self, request_id: str, item_id: str) -> int | None:
        """Record a click on `item_id` in the list `request_id`; its position, or None when
        the list or the item in it is unknown."""

    def iter(self, *, since: float | None = None, until: float | None = None,
             surface: str | None = None) -> Iterator[ImpressionRecord]: ...

    def count(self) -> int: ...


class SqliteImpressions:
    """The repository over a store's `transaction()` / `execute()` (SQLite flavour)."""

    BLOB = "BLOB"

    def __init__(self, store: Store) -> None:
        self.store = store
        register_for_erasure()
        with store.transaction() as cur:
            cur.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (request_id TEXT PRIMARY KEY, "
                        "timestamp REAL NOT NULL, user_id TEXT, surface TEXT NOT NULL, arm TEXT, "
                        f"policy TEXT NOT NULL, items TEXT NOT NULL, propensity {self.BLOB}, "
                        "clicks TEXT NOT NULL DEFAULT '')")

    def add(self, records: Sequence[ImpressionRecord]) -> int:
        rows = [_row(r) for r in records]
        added = 0
        with self.store.transaction() as cur:
            for row in rows:
                cur.execute(f"INSERT OR IGNORE INTO {TABLE} (request_id, timestamp, user_id, surface, "
                            "arm, policy, items, propensity, clicks) VALUES "
                            "(?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
                added += max(cur.rowcount, 0)
        return added

    def mark_click(self, request_id: str, item_id: str) -> int | None:
        with self.store.transaction() as cur:
            row = cur.execute(f"SELECT items, clicks FROM {TABLE} WHERE request_id = ?",
                              (request_id,)).fetchone()
            if row is None:
                return None
            items = str(row[0]).split(SEP)
            if item_id not in items:
                return None
            position = items.index(item_id)
            clicked = _clicks(str(row[1])) | {position}
            cur.execute(f"UPDATE {TABLE} SET clicks = ? WHERE request_id = ?",
                        (",".join(map(str, sorted(clicked))), request_id))
        return position

    def iter(self, *, since: float | None = None, until: float | None = None,
             surface: str | None = None) -> Iterator[ImpressionRecord]:
        where, params = ["timestamp >= ?", "timestamp < ?"], [since or 0.0, until or 1e18]
        if surface is not None:
            where.append("surface = ?")
            params.append(surface)
        rows = self.store.execute(
            f"SELECT request_id, timestamp, user_id, surface, arm, policy, items, propensity, clicks "
            f"FROM {TABLE} WHERE {' AND '.join(where)} ORDER BY timestamp", params)
        for r in rows:
            yield ImpressionRecord(str(r[0]), float(r[1]), r[2] or "", str(r[3]),
                                   tuple(str(r[6]).split(SEP)) if r[6] else (),
                                   _unpack(r[7]), str(r[5]), r[4], frozenset(_clicks(r[8])))

    def count(self) -> int:
        return int(self.store.execute(f"SELECT COUNT(*) FROM {TABLE}")[0][0])


class PostgresImpressions(SqliteImpressions):
    BLOB = "BYTEA"


def impressions_of(store: Store) -> ImpressionRepository:
    """The repository for a store opened by `open_store` (SQLite or PostgreSQL)."""
    from shopsense.store.sqlite import SqliteStore

    return SqliteImpressions(store) if isinstance(store, SqliteStore) else \
        PostgresImpressions(store)


def register_for_erasure() -> None:
    """Declared in `store.sqlite.USER_TABLES` (erasure and retention reach it); kept for a
    store module that did not declare it."""
    from shopsense.store import sqlite

    if TABLE not in sqlite.USER_TABLES:
        sqlite.USER_TABLES.append(TABLE)


def _row(r: ImpressionRecord) -> tuple[Any, ...]:
    if not r.items or len(r.items) > MAX_POSITIONS:
        raise ValueError(f"an impression shows 1 to {MAX_POSITIONS} items")
    if any(SEP in i for i in r.items):
        raise ValueError("item ids may not contain U+001F")
    if r.propensities and len(r.propensities) != len(r.items):
        raise ValueError("one propensity per position")
    if any(not 0.0 < p <= 1.0 for p in r.propensities):
        raise ValueError("propensities must be in (0, 1]")
    blob = np.asarray(r.propensities, dtype="<f4").tobytes() if r.propensities and any(
        p < 1.0 for p in r.propensities) else None
    return (r.request_id, r.timestamp, r.actor or None, r.surface, r.arm, r.policy,
            SEP.join(r.items), blob, ",".join(map(str, sorted(r.clicks))))


def _unpack(blob: Any) -> tuple[float, ...]:
    if blob is None:
        return ()
    return tuple(float(x) for x in np.frombuffer(bytes(blob), dtype="<f4"))


def _clicks(text: Any) -> set[int]:
    return {int(x) for x in str(text or "").split(",") if x}
