"""SQLite schema of the store (store/sqlite.py): the tables every store has, created with
CREATE ... IF NOT EXISTS on open, and the secondary event indexes a bulk load may defer.
The PostgreSQL schema (store/pg_schema.py) has the same tables and column meanings."""

from __future__ import annotations

import os

SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS products (
  item_id TEXT PRIMARY KEY, title TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',
  category TEXT NOT NULL DEFAULT '', brand TEXT NOT NULL DEFAULT '', price REAL,
  currency TEXT NOT NULL DEFAULT '', attributes TEXT NOT NULL DEFAULT '{}',
  image_url TEXT NOT NULL DEFAULT '', available INTEGER NOT NULL DEFAULT 1,
  created_at REAL, locale TEXT NOT NULL DEFAULT '', content_hash TEXT NOT NULL,
  updated_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE,
  user_id TEXT, session_id TEXT, item_id TEXT, event_type TEXT NOT NULL, query TEXT,
  value REAL, platform TEXT NOT NULL, timestamp REAL NOT NULL);
CREATE INDEX IF NOT EXISTS events_anonymous ON events(session_id) WHERE user_id IS NULL;
CREATE TABLE IF NOT EXISTS identity_links (
  session_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, linked_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS erasures (user_id TEXT PRIMARY KEY, erased_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS api_keys (
  key_id TEXT PRIMARY KEY, key_hash TEXT NOT NULL, scope TEXT NOT NULL,
  created_at REAL NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS audit_log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, actor TEXT NOT NULL,
  action TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '{}');
"""
# The secondary indexes a bulk load may drop and rebuild (see store.sqlite.bulk_writes).
DEFERRABLE_INDEX_SQL = {
    "events_user": "CREATE INDEX IF NOT EXISTS events_user ON events(user_id, timestamp)",
    "events_session": "CREATE INDEX IF NOT EXISTS events_session ON events(session_id)",
    "events_time": "CREATE INDEX IF NOT EXISTS events_time ON events(timestamp)",
    "identity_links_user": "CREATE INDEX IF NOT EXISTS identity_links_user "
                           "ON identity_links(user_id)",
}
DEFERRABLE_INDEXES = tuple(DEFERRABLE_INDEX_SQL)


def process_alive(pid: int) -> bool:
    """Whether the process that deferred the indexes (its pid in meta) still runs."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True
