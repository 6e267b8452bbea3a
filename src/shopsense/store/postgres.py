"""PostgreSQL implementation of CatalogStore and EventStore: the system of record shared by
several stateless API replicas.

Same semantics as store.sqlite (the reference): products upserted by content hash, events
deduplicated by UNIQUE event_id (ON CONFLICT DO NOTHING, so a redelivered batch has no
effect), identity links with back-fill, erasure with one-way tokens, api_keys, audit_log,
meta. Differences, on purpose:

- connections come from a psycopg_pool pool (`?pool_min=1&pool_max=10` in the URL); every
  write method is one transaction on one pooled connection;
- identity links are read inside each transaction, never cached in process, because another
  replica may link or erase a session at any moment;
- `execute` / `transaction()` accept SQLite-flavoured SQL, rewritten by store.pg_dialect;
  `lastrowid` is `lastval()` of the transaction; there is no `create_function`.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg_pool import ConnectionPool

from shopsense.domain import Event, Product
from shopsense.store import rows as shared_rows
from shopsense.store import sqlite as reference
from shopsense.store.pg_dialect import to_postgres
from shopsense.store.pg_schema import SCHEMA_LOCK_ID, SCHEMA_VERSION, migrate

_PRODUCT_COLS = shared_rows.PRODUCT_COLS
_PRODUCT_TYPES = ("text", "text", "text", "text", "text", "float8", "text", "text", "text",
                  "int4", "float8", "text", "text", "float8")
_EVENT_COLS = shared_rows.EVENT_COLS
_EVENT_TYPES = ("text", "text", "text", "text", "text", "text", "float8", "text", "float8")
__all__ = ["SCHEMA_VERSION", "PostgresStore"]


def _unnest(types: Sequence[str]) -> str:
    return ", ".join(f"%s::{t}[]" for t in types)


def _columns(rows: Sequence[Sequence[Any]], width: int,
             types: Sequence[str] = ()) -> list[list[Any]]:
    """Column arrays for unnest; float8 columns made all-float (psycopg refuses an array
    mixing int and float, as a price list of 2999 and 19.9 would)."""
    out = [[r[i] for r in rows] for i in range(width)]
    for i, kind in enumerate(types):
        if kind == "float8":
            out[i] = [None if v is None else float(v) for v in out[i]]
    return out


def split_url(url: str) -> tuple[str, int, int]:
    """(libpq conninfo URL, pool_min, pool_max) from a store URL."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    low, high = int(query.pop("pool_min", 1)), int(query.pop("pool_max", 10))
    if not 1 <= low <= high:
        raise ValueError(f"need 1 <= pool_min <= pool_max in {url!r}")
    return urlunsplit(parts._replace(query=urlencode(query))), low, high


class PostgresStore:
    """CatalogStore + EventStore over one PostgreSQL database (URL `postgresql://...`)."""

    dialect = "postgresql"

    def __init__(self, url: str, *, pool_min: int | None = None,
                 pool_max: int | None = None) -> None:
        conninfo, low, high = split_url(url)
        self.url = url
        self._pool = ConnectionPool(conninfo, min_size=pool_min or low,
                                    max_size=pool_max or high, open=True,
                                    kwargs={"autocommit": True})
        try:
            with self._pool.connection() as conn:
                self.schema_version = migrate(conn)
        except Exception:
            self._pool.close()
            raise

    # -- plumbing -------------------------------------------------------------------------
    def transaction(self) -> _Transaction:
        """`with store.transaction() as cur:` one committed (or rolled back) transaction;
        `cur.execute` takes SQLite-flavoured SQL."""
        return _Transaction(self._pool)

    def close(self) -> None:
        self._pool.close()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement (reads for analytics and admin); returns all rows."""
        with self._pool.connection() as conn:
            cur = conn.execute(to_postgres(sql), tuple(params))
            return cur.fetchall() if cur.description else []

    # -- catalogue ------------------------------------------------------------------------
    def upsert_products(self, products: Sequence[Product]) -> tuple[int, int]:
        latest = {p.item_id: shared_rows.product_row(p) for p in products}
        now = time.time()
        rows = [(*r, hashlib.blake2b(repr(r).encode(), digest_size=16).hexdigest(), now)
                for r in latest.values()]
        cols = (*_PRODUCT_COLS, "content_hash", "updated_at")
        sets = ", ".join(f"{c} = excluded.{c}" for c in cols[1:])
        with self._pool.connection() as conn, conn.transaction():
            cur = conn.execute(
                f"INSERT INTO products ({', '.join(cols)}) SELECT * FROM unnest("
                f"{_unnest(_PRODUCT_TYPES)}) ON CONFLICT (item_id) DO UPDATE SET {sets} "
                "WHERE products.content_hash IS DISTINCT FROM excluded.content_hash",
                _columns(rows, len(cols), _PRODUCT_TYPES))
            written = max(cur.rowcount, 0)
        return written, len(products) - written

    def delete_products(self, item_ids: Iterable[str]) -> int:
        with self._pool.connection() as conn, conn.transaction():
            cur = conn.execute("DELETE FROM products WHERE item_id = ANY(%s)", (list(item_ids),))
            return max(cur.rowcount, 0)

    def get_product(self, item_id: str) -> Product | None:
        return self.get_products([item_id]).get(item_id)

    def get_products(self, item_ids: Sequence[str]) -> dict[str, Product]:
        with self._pool.connection() as conn:
            rows = conn.execute(f"SELECT {', '.join(_PRODUCT_COLS)} FROM products "
                                "WHERE item_id = ANY(%s)", (list(item_ids),)).fetchall()
        return {r[0]: shared_rows.product_from_row(r) for r in rows}

    def iter_products(self) -> Iterator[Product]:
        last = ""
        while True:
            with self._pool.connection() as conn:
                rows = conn.execute(f"SELECT {', '.join(_PRODUCT_COLS)} FROM products WHERE "
                                    "item_id > %s ORDER BY item_id LIMIT 5000",
                                    (last,)).fetchall()
            if not rows:
                return
            yield from (shared_rows.product_from_row(r) for r in rows)
            last = rows[-1][0]

    def count_products(self) -> int:
        return int(self.execute("SELECT COUNT(*) FROM products")[0][0])

    # -- events ---------------------------------------------------------------------------
    def add_events(self, events: Sequence[Event]) -> tuple[int, int]:
        with self._pool.connection() as conn, conn.transaction():
            links, new_links = _resolve_links(conn, events)
            rows = [(e.event_id, e.user_id or (links.get(e.session_id) if e.session_id
                                               else None),
                     e.session_id, e.item_id, e.event_type, e.query, e.value, e.platform,
                     e.timestamp) for e in events]
            cur = conn.execute(
                f"INSERT INTO events ({', '.join(_EVENT_COLS)}) SELECT "
                f"{', '.join(_EVENT_COLS)} FROM unnest({_unnest(_EVENT_TYPES)}) WITH ORDINALITY"
                f" AS b({', '.join(_EVENT_COLS)}, n) ORDER BY n ON CONFLICT (event_id) "
                "DO NOTHING", _columns(rows, len(_EVENT_COLS)))
            inserted = max(cur.rowcount, 0)
            if new_links:  # back-fill anonymous events of newly linked sessions
                conn.execute("UPDATE events e SET user_id = l.u FROM unnest(%s::text[], "
                             "%s::text[]) AS l(s, u) WHERE e.session_id = l.s AND "
                             "e.user_id IS NULL", ([s for s, _ in new_links],
                                                   [u for _, u in new_links]))
        return inserted, len(rows) - inserted

    def iter_events(self, *, since: float | None = None, until: float | None = None,
                    actor: str | None = None) -> Iterator[Event]:
        clauses, params = shared_rows.event_filter(since, until, actor, mark="%s")
        sql = (f"SELECT {', '.join(_EVENT_COLS)}, seq FROM events WHERE {' AND '.join(clauses)}"
               " AND (timestamp, seq) > (%s, %s) ORDER BY timestamp, seq LIMIT 10000")
        last_ts, last_seq = float("-inf"), -1
        while True:
            with self._pool.connection() as conn:
                rows = conn.execute(sql, (*params, last_ts, last_seq)).fetchall()
            if not rows:
                return
            yield from (shared_rows.event_from_row(r) for r in rows)
            last_ts, last_seq = rows[-1][8], rows[-1][9]

    def count_events(self) -> int:
        return int(self.execute("SELECT COUNT(*) FROM events")[0][0])

    def link_session(self, session_id: str, user_id: str) -> int:
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("INSERT INTO identity_links VALUES (%s, %s, %s) ON CONFLICT "
                         "(session_id) DO UPDATE SET user_id = excluded.user_id, "
                         "linked_at = excluded.linked_at", (session_id, user_id, time.time()))
            return conn.execute("UPDATE events SET user_id = %s WHERE session_id = %s AND "
                                "user_id IS NULL", (user_id, session_id)).rowcount

    def forget_user(self, user_id: str) -> int:
        with self._pool.connection() as conn, conn.transaction():
            sessions = [r[0] for r in conn.execute(
                "SELECT session_id FROM identity_links WHERE user_id = %s", (user_id,))]
            removed = conn.execute("DELETE FROM events WHERE user_id = %s OR session_id = "
                                   "ANY(%s)", (user_id, sessions)).rowcount
            removed += conn.execute("DELETE FROM identity_links WHERE user_id = %s",
                                    (user_id,)).rowcount
            for table in reference.USER_TABLES:
                if _table_exists(conn, table):
                    removed += conn.execute(f"DELETE FROM {table} WHERE user_id = %s",
                                            (user_id,)).rowcount
                    if sessions and _has_column(conn, table, "session_id"):
                        removed += conn.execute(f"DELETE FROM {table} WHERE session_id = "
                                                "ANY(%s)", (sessions,)).rowcount
            conn.execute("INSERT INTO erasures VALUES (%s, %s) ON CONFLICT (user_id) DO "
                         "UPDATE SET erased_at = excluded.erased_at",
                         (shared_rows.erasure_token(user_id), time.time()))
        return removed

    def erased_tokens(self) -> set[str]:
        return {r[0] for r in self.execute("SELECT user_id FROM erasures")}

    def is_erased(self, user_id: str) -> bool:
        return bool(self.execute("SELECT 1 FROM erasures WHERE user_id = ?",
                                 (shared_rows.erasure_token(user_id),)))

    def purge_events_before(self, timestamp: float) -> int:
        with self._pool.connection() as conn, conn.transaction():
            return conn.execute("DELETE FROM events WHERE timestamp < %s", (timestamp,)).rowcount

    # -- small state ----------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        rows = self.execute("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        self.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def audit(self, actor: str, action: str, detail: dict[str, Any]) -> None:
        self.execute("INSERT INTO audit_log (at, actor, action, detail) VALUES (?, ?, ?, ?)",
                     (time.time(), actor, action, json.dumps(detail, ensure_ascii=False)))

    def reset_caches(self) -> None:
        """Nothing to forget: identity links are read inside each transaction, never cached."""
        return None

    def checkpoint(self) -> None:
        """Nothing to do: PostgreSQL's dead tuples go with the scheduled `vacuum`."""
        return None

    def vacuum(self) -> None:
        """VACUUM the tables that hold personal data (autocommit; not VACUUM FULL, which
        locks them: run that in a maintenance window if erased bytes must leave the disk)."""
        with self._pool.connection() as conn:
            for table in ("events", "identity_links", "erasures", "products"):
                conn.execute(f"VACUUM {table}")


def _resolve_links(conn: Any, events: Sequence[Event]) -> tuple[dict[str, str],
                                                                list[tuple[str, str]]]:
    """Record the batch's session -> user links; return (all links of the batch's sessions,
    the links this batch created)."""
    pairs = {e.session_id: e.user_id for e in events if e.session_id and e.user_id}
    sessions = sorted({e.session_id for e in events if e.session_id})
    if not sessions:
        return {}, []
    new: list[tuple[str, str]] = []
    if pairs:
        new = [tuple(r) for r in conn.execute(
            "INSERT INTO identity_links SELECT s, u, %s FROM unnest(%s::text[], %s::text[]) "
            "AS p(s, u) ON CONFLICT (session_id) DO NOTHING RETURNING session_id, user_id",
            (time.time(), list(pairs), list(pairs.values()))).fetchall()]
    links = dict(conn.execute("SELECT session_id, user_id FROM identity_links WHERE "
                              "session_id = ANY(%s)", (sessions,)).fetchall())
    return links, new


def _has_column(conn: Any, table: str, column: str) -> bool:
    return conn.execute("SELECT 1 FROM information_schema.columns WHERE table_name = %s AND "
                        "column_name = %s", (table, column)).fetchone() is not None


def _table_exists(conn: Any, table: str) -> bool:
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()[0]


class _Cursor:
    """The slice of sqlite3.Cursor that callers of `transaction()` use."""

    def __init__(self, conn: Any) -> None:
        self._conn, self._cur = conn, conn.cursor()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _Cursor:
        if sql.lstrip()[:6].upper() == "CREATE":
            # `CREATE ... IF NOT EXISTS` is not safe against itself: two replicas starting at
            # once both pass the check and one fails on the catalogue's unique index. The
            # migrations' advisory lock (held to the end of this transaction) serialises them.
            self._cur.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_ID,))
        self._cur.execute(to_postgres(sql), tuple(params))
        return self

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> _Cursor:
        self._cur.executemany(to_postgres(sql), [tuple(r) for r in rows])
        return self

    @property
    def rowcount(self) -> int:
        return self._cur.rowcount

    @property
    def lastrowid(self) -> int | None:
        try:  # in a savepoint: lastval() fails when no sequence was used
            with self._conn.transaction():
                return int(self._conn.execute("SELECT lastval()").fetchone()[0])
        except psycopg.errors.ObjectNotInPrerequisiteState:
            return None

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._cur.fetchone()

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._cur.fetchall()

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self._cur)


class _Transaction:
    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    def __enter__(self) -> _Cursor:
        self._conn_cm = self._pool.connection()
        conn = self._conn_cm.__enter__()
        self._tx = conn.transaction()
        self._tx.__enter__()
        return _Cursor(conn)

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            self._tx.__exit__(exc_type, exc, tb)
        finally:
            self._conn_cm.__exit__(exc_type, exc, tb)
