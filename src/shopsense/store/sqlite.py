"""SQLite (WAL) implementation of CatalogStore and EventStore: the embedded default.

One database file holds the catalogue, events, identity links, erasure tombstones, API keys,
the audit log and small key/value state. Every write method commits one transaction before
it returns, so a killed process leaves whole batches or nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shopsense.domain import Event, Product
from shopsense.store.rows import (
    EVENT_COLS,
    EVENT_FIELDS,
    PRODUCT_COLS,
    chunks,
    erasure_token,
    event_filter,
    event_from_row,
    product_from_row,
    product_row,
)
from shopsense.store.sqlite_conn import PollReader, Transaction
from shopsense.store.sqlite_schema import (
    DEFERRABLE_INDEX_SQL,
    DEFERRABLE_INDEXES,
    SCHEMA,
    SCHEMA_VERSION,
    process_alive,
)

_LINK_CACHE_LIMIT = 100_000  # session -> user links the writer keeps in memory (~20 MB)
# Tables (besides events / identity_links) whose rows belong to one shopper: erased with them,
# by `user_id` and, where the table has a `session_id` column, by every session linked to the
# user (anonymous rows of a session linked later). Declared here, not on first use, so a CLI
# erasure reaches the same tables as the server's (web_impressions: analytics.impressions;
# impressions: store.impressions; shared_answers: store.shared_answers).
USER_TABLES: list[str] = ["web_impressions", "impressions", "shared_answers"]
# Secondary indexes a bulk load defers: once a load has added DEFER_INDEXES_MIN_ROWS events
# and at least DEFER_INDEXES_FRACTION of the table it started on, they are dropped and
# rebuilt (sorted, one pass each) when it ends; a killed load leaves them to the next open,
# which recreates them unless the loader named in meta is still alive (an open beside a
# running load must not rebuild them under it; a pid since reused only delays the rebuild
# to a later open). Ingest itself reads none of them;
# `events_anonymous` is kept: the identity back-fill finds a session's anonymous events
# through it.
_LOADER_KEY = "bulk_load_pid"  # meta row naming the process whose load deferred the indexes
DEFER_INDEXES_MIN_ROWS = 50_000
DEFER_INDEXES_FRACTION = 0.25
BULK_CHECKPOINT_PAGES = 16_384  # WAL checkpointed every ~64 MiB during a bulk load
_ONE_STATEMENT_ROWS = 1000  # event batches up to this many in one statement (9k variables)


class SqliteStore:
    """CatalogStore + EventStore over one SQLite file (or `:memory:`)."""

    dialect = "sqlite"

    def __init__(self, path: str, *, synchronous: str = "FULL") -> None:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._synchronous = synchronous
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(f"PRAGMA synchronous={synchronous}")
        self._conn.execute("PRAGMA busy_timeout=30000")
        # Index pages of a growing events table must stay cached, or inserts into the
        # random-keyed event_id index slow down with table size (measured: 2 MB default).
        self._conn.execute("PRAGMA cache_size=-65536")  # 64 MiB
        self._conn.execute("PRAGMA temp_store=MEMORY")
        self._conn.execute("PRAGMA foreign_keys=ON")
        # deleted rows are overwritten with zeros in their pages (and freed pages zeroed), so
        # an erasure or a retention purge needs a WAL checkpoint, not a VACUUM, to leave no
        # trace in the file (docs/PRIVACY.md)
        self._conn.execute("PRAGMA secure_delete=ON")
        self._create_schema()
        self._conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                           (str(SCHEMA_VERSION),))
        self._links: dict[str, str] = {}
        self._bulk: _BulkLoad | None = None
        # a poller's reads (store.feed) on a connection of their own
        self.read = PollReader(path) if path != ":memory:" else self.execute

    # -- plumbing -------------------------------------------------------------------------
    def transaction(self) -> Transaction:
        return Transaction(self._conn, self._lock)

    @contextlib.contextmanager
    def bulk_writes(self) -> Iterator[None]:
        """Bulk file ingest: commits are not fsynced one by one (WAL, synchronous=NORMAL),
        the WAL is checkpointed in large steps, and a load that is big relative to the table
        defers the secondary event indexes (see DEFERRABLE_INDEXES) until it ends; meanwhile
        other processes' reads by user / session / time scan the table.

        A killed process still leaves whole batches (the crash test kills -9 mid-ingest);
        only an OS crash or power loss can drop the last batches, and re-running the same
        ingest restores them (idempotent). Events accepted over HTTP always use FULL."""
        with self._lock:
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute(f"PRAGMA wal_autocheckpoint={BULK_CHECKPOINT_PAGES}")
            self._bulk = _BulkLoad()
        try:
            yield
        finally:
            with self._lock:
                bulk, self._bulk = self._bulk, None
                try:
                    if bulk is not None and bulk.indexes_dropped:
                        self._restore_indexes()
                finally:
                    self._conn.execute(f"PRAGMA synchronous={self._synchronous}")
                    self._conn.execute("PRAGMA wal_autocheckpoint=1000")
                    self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _create_schema(self) -> None:
        """CREATE TABLE / INDEX IF NOT EXISTS, and the indexes a killed bulk load deferred."""
        self._conn.executescript(SCHEMA)
        marker = self._conn.execute("SELECT value FROM meta WHERE key = ?",
                                    (_LOADER_KEY,)).fetchone()
        if marker is None or not process_alive(int(marker[0])):
            self._restore_indexes(clear_marker=marker is not None)

    def _restore_indexes(self, *, clear_marker: bool = True) -> None:
        """Build the deferrable indexes that are missing, then clear the loader marker. The
        sort spills to temporary files (a one-off raw-SQLite run on a 3M-row table: peak RSS
        310 MB with temp_store=MEMORY, 145 MB with FILE, growing with the table only in the
        first case); queries keep their small temporary b-trees in memory."""
        self._conn.execute("PRAGMA temp_store=FILE")
        try:
            for sql in DEFERRABLE_INDEX_SQL.values():
                self._conn.execute(sql)  # autocommit: each index is built whole or not at all
            if clear_marker:
                self._conn.execute("DELETE FROM meta WHERE key = ?", (_LOADER_KEY,))
        finally:
            self._conn.execute("PRAGMA temp_store=MEMORY")

    def _maybe_defer_indexes(self, inserted: int) -> None:
        bulk = self._bulk
        if bulk is None or bulk.indexes_dropped:
            return
        bulk.added += inserted
        if bulk.added < DEFER_INDEXES_MIN_ROWS:
            return
        if bulk.table_rows is None:  # counted once, when the load first gets big
            bulk.table_rows = self.count_events() - bulk.added
        if bulk.added >= DEFER_INDEXES_FRACTION * bulk.table_rows:
            with self.transaction() as cur:
                cur.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                            (_LOADER_KEY, str(os.getpid())))
                for name in DEFERRABLE_INDEXES:
                    cur.execute(f"DROP INDEX IF EXISTS {name}")
            bulk.indexes_dropped = True

    def close(self) -> None:
        with self._lock:
            self._conn.close()
        if isinstance(self.read, PollReader):
            self.read.close()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one read query (for analytics and admin); returns all rows."""
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    # -- catalogue ------------------------------------------------------------------------
    def upsert_products(self, products: Sequence[Product]) -> tuple[int, int]:
        rows = [product_row(p) for p in products]
        hashes = [hashlib.blake2b(repr(r).encode(), digest_size=16).hexdigest() for r in rows]
        now = time.time()
        with self.transaction() as cur:
            existing = _existing_hashes(cur, [r[0] for r in rows])
            fresh = [(*r, h, now) for r, h in zip(rows, hashes, strict=True)
                     if existing.get(r[0]) != h]
            cur.executemany(
                f"INSERT INTO products ({', '.join(PRODUCT_COLS)}, content_hash, updated_at) "
                f"VALUES ({', '.join('?' * (len(PRODUCT_COLS) + 2))}) ON CONFLICT(item_id) DO "
                "UPDATE SET " + ", ".join(f"{c}=excluded.{c}" for c in
                                          (*PRODUCT_COLS[1:], "content_hash", "updated_at")),
                fresh)
        return len(fresh), len(rows) - len(fresh)

    def delete_products(self, item_ids: Iterable[str]) -> int:
        ids = [(i,) for i in item_ids]
        with self.transaction() as cur:
            cur.executemany("DELETE FROM products WHERE item_id = ?", ids)
            return cur.rowcount if cur.rowcount >= 0 else 0

    def get_product(self, item_id: str) -> Product | None:
        return self.get_products([item_id]).get(item_id)

    def get_products(self, item_ids: Sequence[str]) -> dict[str, Product]:
        out: dict[str, Product] = {}
        cols = ", ".join(PRODUCT_COLS)
        with self._lock:
            for chunk in chunks(list(item_ids), 500):
                sql = f"SELECT {cols} FROM products WHERE item_id IN ({','.join('?' * len(chunk))})"
                for row in self._conn.execute(sql, chunk):
                    out[row[0]] = product_from_row(row)
        return out

    def iter_products(self) -> Iterator[Product]:
        cols = ", ".join(PRODUCT_COLS)
        last = ""
        while True:
            with self._lock:
                rows = self._conn.execute(
                    f"SELECT {cols} FROM products WHERE item_id > ? ORDER BY item_id LIMIT 5000",
                    (last,)).fetchall()
            if not rows:
                return
            yield from (product_from_row(r) for r in rows)
            last = rows[-1][0]

    def count_products(self) -> int:
        return int(self.execute("SELECT COUNT(*) FROM products")[0][0])

    # -- events ---------------------------------------------------------------------------
    def add_events(self, events: Sequence[Event]) -> tuple[int, int]:
        return self.add_event_rows([(e.event_id, e.event_type, e.timestamp, e.user_id,
                                     e.session_id, e.item_id, e.query, e.value, e.platform)
                                    for e in events])

    def add_event_rows(self, rows: Sequence[tuple[Any, ...]]) -> tuple[int, int]:
        """`add_events` for validated events as tuples in `Event` field order (the bulk
        ingest path, which builds no Event objects); same atomicity and dedupe. A small batch
        naming no session is one INSERT committed alone: the write lock is held only inside it,
        never while this thread waits for the GIL (a sibling's write sleeps meanwhile)."""
        if 0 < len(rows) <= _ONE_STATEMENT_ROWS and self._bulk is None and not any(r[4] for r in rows):
            marks = ", ".join(f"({', '.join('?' * len(EVENT_FIELDS))})" for _ in rows)
            with self._lock:
                before = self._conn.total_changes
                self._conn.execute(f"INSERT INTO events ({', '.join(EVENT_FIELDS)}) VALUES "
                                   f"{marks} ON CONFLICT(event_id) DO NOTHING",
                                   [v for r in rows for v in r])
                inserted = self._conn.total_changes - before
            return inserted, len(rows) - inserted
        with self.transaction() as cur:
            new_links = self._collect_links(cur, rows)
            links = self._links
            rows = [r if r[3] else (*r[:3], links.get(r[4]) if r[4] else None, *r[4:])
                    for r in rows]  # anonymous events of linked sessions: stitched at ingest
            before = self._conn.total_changes
            cur.executemany(
                f"INSERT INTO events ({', '.join(EVENT_FIELDS)}) "
                f"VALUES ({', '.join('?' * len(EVENT_FIELDS))}) "
                "ON CONFLICT(event_id) DO NOTHING", rows)
            inserted = self._conn.total_changes - before
            if new_links:  # back-fill anonymous events of newly linked sessions
                cur.executemany("UPDATE events SET user_id = ? WHERE session_id = ? "
                                "AND user_id IS NULL", [(u, s) for s, u in new_links])
        self._maybe_defer_indexes(inserted)
        return inserted, len(rows) - inserted

    def _collect_links(self, cur: sqlite3.Cursor,
                       rows: Sequence[tuple[Any, ...]]) -> list[tuple[str, str]]:
        """Record session -> user links seen in this batch (rows in Event field order:
        user at 3, session at 4); return the newly created ones."""
        if len(self._links) > _LINK_CACHE_LIMIT:  # before the lookups this batch relies on
            self._links.clear()
        pairs = {r[4]: r[3] for r in rows if r[4] and r[3]}
        anon = {r[4] for r in rows if r[4] and not r[3]}
        unknown = [s for s in pairs.keys() | anon if s not in self._links]
        for chunk in chunks(unknown, 500):
            sql = f"SELECT session_id, user_id FROM identity_links WHERE session_id IN ({','.join('?' * len(chunk))})"
            self._links.update(dict(cur.execute(sql, chunk).fetchall()))
        new = [(s, u) for s, u in pairs.items() if s not in self._links]
        now = time.time()
        cur.executemany("INSERT OR IGNORE INTO identity_links VALUES (?, ?, ?)",
                        [(s, u, now) for s, u in new])
        self._links.update(new)
        return new

    def iter_events(self, *, since: float | None = None, until: float | None = None,
                    actor: str | None = None) -> Iterator[Event]:
        clauses, params = event_filter(since, until, actor)
        cols = ", ".join(EVENT_COLS)
        last_ts, last_seq = float("-inf"), -1
        while True:
            with self._lock:
                rows = self._conn.execute(
                    f"SELECT {cols}, seq FROM events WHERE {' AND '.join(clauses)} AND "
                    "(timestamp > ? OR (timestamp = ? AND seq > ?)) ORDER BY timestamp, seq "
                    "LIMIT 10000", (*params, last_ts, last_ts, last_seq)).fetchall()
            if not rows:
                return
            yield from (event_from_row(r) for r in rows)
            last_ts, last_seq = rows[-1][8], rows[-1][9]

    def count_events(self) -> int:
        return int(self.execute("SELECT COUNT(*) FROM events")[0][0])

    def link_session(self, session_id: str, user_id: str) -> int:
        with self.transaction() as cur:
            cur.execute("INSERT INTO identity_links VALUES (?, ?, ?) ON CONFLICT(session_id) "
                        "DO UPDATE SET user_id = excluded.user_id, linked_at = excluded.linked_at",
                        (session_id, user_id, time.time()))
            cur.execute("UPDATE events SET user_id = ? WHERE session_id = ? AND user_id IS NULL",
                        (user_id, session_id))
            moved = cur.rowcount
        self._links[session_id] = user_id
        return moved

    def forget_user(self, user_id: str) -> int:
        with self.transaction() as cur:
            sessions = [r[0] for r in cur.execute(
                "SELECT session_id FROM identity_links WHERE user_id = ?", (user_id,))]
            removed = cur.execute("DELETE FROM events WHERE user_id = ?", (user_id,)).rowcount
            for chunk in chunks(sessions, 500):
                marks = ",".join("?" * len(chunk))
                removed += cur.execute(f"DELETE FROM events WHERE session_id IN ({marks})",
                                       chunk).rowcount
            removed += cur.execute("DELETE FROM identity_links WHERE user_id = ?",
                                   (user_id,)).rowcount
            for table in USER_TABLES:  # registered by components; created on first use
                columns = {r[1] for r in cur.execute(f"PRAGMA table_info({table})")}
                if "user_id" in columns:
                    removed += cur.execute(f"DELETE FROM {table} WHERE user_id = ?",
                                           (user_id,)).rowcount
                for chunk in chunks(sessions if "session_id" in columns else [], 500):
                    marks = ",".join("?" * len(chunk))
                    removed += cur.execute(f"DELETE FROM {table} WHERE session_id IN ({marks})",
                                           chunk).rowcount
            cur.execute("INSERT OR REPLACE INTO erasures VALUES (?, ?)",
                        (erasure_token(user_id), time.time()))
        for s in sessions:
            self._links.pop(s, None)
        return removed

    def checkpoint(self) -> None:
        """Copy the WAL into the file and truncate it: deleted rows (zeroed in their pages,
        `secure_delete`) then leave no copy in old WAL frames. Cheap next to VACUUM."""
        with self._lock:
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def erased_tokens(self) -> set[str]:
        """Tokens (`erasure_token(pseudonym)`) of erased users, for models trained before."""
        return {r[0] for r in self.execute("SELECT user_id FROM erasures")}

    def is_erased(self, user_id: str) -> bool:
        return bool(self.execute("SELECT 1 FROM erasures WHERE user_id = ?",
                                 (erasure_token(user_id),)))

    def purge_events_before(self, timestamp: float) -> int:
        with self.transaction() as cur:
            return cur.execute("DELETE FROM events WHERE timestamp < ?", (timestamp,)).rowcount

    # -- small state ----------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        rows = self.execute("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as cur:
            cur.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def audit(self, actor: str, action: str, detail: dict[str, Any]) -> None:
        with self.transaction() as cur:
            cur.execute("INSERT INTO audit_log (at, actor, action, detail) VALUES (?, ?, ?, ?)",
                        (time.time(), actor, action, json.dumps(detail, ensure_ascii=False)))

    def reset_caches(self) -> None:
        """Forget the in-process session -> user link cache (after pseudonyms were rewritten
        in the database)."""
        with self._lock:
            self._links.clear()

    def vacuum(self) -> None:
        """Rewrite the file so erased rows leave no trace in free pages or the WAL."""
        with self._lock:
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._conn.execute("VACUUM")
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


@dataclass(slots=True)
class _BulkLoad:
    added: int = 0  # events inserted since the load began
    table_rows: int | None = None  # events stored before it, counted once it gets big
    indexes_dropped: bool = False


def _existing_hashes(cur: sqlite3.Cursor, item_ids: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for chunk in chunks(item_ids, 500):
        sql = f"SELECT item_id, content_hash FROM products WHERE item_id IN ({','.join('?' * len(chunk))})"
        out.update(dict(cur.execute(sql, chunk).fetchall()))
    return out
