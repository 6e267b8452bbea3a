"""PostgreSQL schema as numbered, idempotent migrations; `meta.schema_version` records the
newest applied. Several replicas may start at once: `migrate` holds an advisory lock."""

from __future__ import annotations

from typing import Any

# Same tables and column meanings as store.sqlite (so analytics SQL runs on both); timestamps
# are DOUBLE PRECISION seconds, ids sort bytewise (COLLATE "C") as they do in SQLite.
MIGRATIONS: list[tuple[int, str]] = [
    (1, """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS products (
  item_id TEXT COLLATE "C" PRIMARY KEY, title TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '', category TEXT NOT NULL DEFAULT '',
  brand TEXT NOT NULL DEFAULT '', price DOUBLE PRECISION, currency TEXT NOT NULL DEFAULT '',
  attributes TEXT NOT NULL DEFAULT '{}', image_url TEXT NOT NULL DEFAULT '',
  available INTEGER NOT NULL DEFAULT 1, created_at DOUBLE PRECISION,
  locale TEXT NOT NULL DEFAULT '', content_hash TEXT NOT NULL,
  updated_at DOUBLE PRECISION NOT NULL);
CREATE TABLE IF NOT EXISTS events (
  seq BIGSERIAL PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, user_id TEXT, session_id TEXT,
  item_id TEXT, event_type TEXT NOT NULL, query TEXT, value DOUBLE PRECISION,
  platform TEXT NOT NULL, timestamp DOUBLE PRECISION NOT NULL);
CREATE INDEX IF NOT EXISTS events_user ON events(user_id, timestamp);
CREATE INDEX IF NOT EXISTS events_session ON events(session_id);
CREATE INDEX IF NOT EXISTS events_anonymous ON events(session_id) WHERE user_id IS NULL;
CREATE INDEX IF NOT EXISTS events_time ON events(timestamp, seq);
CREATE TABLE IF NOT EXISTS identity_links (
  session_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, linked_at DOUBLE PRECISION NOT NULL);
CREATE INDEX IF NOT EXISTS identity_links_user ON identity_links(user_id);
CREATE TABLE IF NOT EXISTS erasures (user_id TEXT PRIMARY KEY,
  erased_at DOUBLE PRECISION NOT NULL);
CREATE TABLE IF NOT EXISTS api_keys (
  key_id TEXT PRIMARY KEY, key_hash TEXT NOT NULL, scope TEXT NOT NULL,
  created_at DOUBLE PRECISION NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS audit_log (
  seq BIGSERIAL PRIMARY KEY, at DOUBLE PRECISION NOT NULL, actor TEXT NOT NULL,
  action TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '{}');
"""),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]
SCHEMA_LOCK_ID = 0x5B0B5E45  # advisory lock key shared by every shopsense replica


def migrate(conn: Any) -> int:
    """Apply the migrations newer than meta.schema_version in one transaction; returns the
    version now in force. Refuses a database written by a newer shopsense."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_ID,))
        conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, "
                     "value TEXT NOT NULL)")
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        current = int(row[0]) if row else 0
        if current > SCHEMA_VERSION:
            raise RuntimeError(f"database schema {current} is newer than this shopsense "
                               f"({SCHEMA_VERSION}); upgrade shopsense")
        for version, sql in MIGRATIONS:
            if version > current:
                for statement in filter(str.strip, sql.split(";")):
                    conn.execute(statement)
        conn.execute("INSERT INTO meta VALUES ('schema_version', %s) ON CONFLICT (key) "
                     "DO UPDATE SET value = excluded.value", (str(SCHEMA_VERSION),))
    return SCHEMA_VERSION


def fresh_schema_url(base_url: str) -> str:
    """A URL whose search_path is a new, empty schema in `base_url`'s database (with the
    pgvector extension in `public`): an isolated store for one test or benchmark."""
    import uuid

    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(7301)")  # one CREATE EXTENSION at a time
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector SCHEMA public")
        conn.execute("SELECT pg_advisory_unlock(7301)")
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base_url else "?"
    return f"{base_url}{sep}options=-csearch_path%3D{schema}%2Cpublic"
