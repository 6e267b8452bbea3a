"""SQLite-flavoured SQL from other layers (API keys, the privacy ledger, analytics) runs on the
PostgreSQL store through store.pg_dialect; migrations are idempotent and refuse newer schemas."""

from __future__ import annotations

import pytest

pytest.importorskip("psycopg_pool", reason="psycopg-pool (scale extra) not installed")

from shopsense.api.keys import KeyRing, create_key, revoke_key
from shopsense.privacy.dp import PrivacyLedger
from shopsense.store import open_store
from shopsense.store.pg_dialect import to_postgres
from shopsense.store.pg_schema import SCHEMA_VERSION


def test_rewrites() -> None:
    assert to_postgres("SELECT * FROM t WHERE a = ? AND b LIKE '%?%'") == \
        "SELECT * FROM t WHERE a = %s AND b LIKE '%%?%%'"
    assert to_postgres("INSERT OR IGNORE INTO t VALUES (?)") == \
        "INSERT INTO t VALUES (%s) ON CONFLICT DO NOTHING"
    assert to_postgres("INSERT OR REPLACE INTO meta VALUES (?, ?)").endswith(
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value")
    ddl = to_postgres("CREATE TABLE x (seq INTEGER PRIMARY KEY AUTOINCREMENT, at REAL)")
    assert "BIGSERIAL PRIMARY KEY" in ddl and "DOUBLE PRECISION" in ddl
    with pytest.raises(NotImplementedError):
        to_postgres("INSERT OR REPLACE INTO products VALUES (?)")


def test_keys_ledger_and_meta_on_postgres(pg_url: str) -> None:
    store = open_store(pg_url)
    key = create_key(store, "search")
    ring = KeyRing(store)
    key_id, scope = ring.scope_of(key)
    assert scope == "search"
    assert revoke_key(store, key_id) and KeyRing(store).scope_of(key) is None
    ledger = PrivacyLedger(store, budget=1.0)
    first = ledger.charge("weekly", mechanism="laplace", epsilon=0.4, delta=0.0)
    second = ledger.charge("weekly", mechanism="laplace", epsilon=0.4, delta=0.0)
    assert second == first + 1  # lastrowid through lastval()
    assert ledger.spent() == pytest.approx((0.8, 0.0))
    assert [e.seq for e in ledger.entries()] == [second, first]
    store.set_meta("models_stale", "1")
    store.set_meta("models_stale", "0")
    assert store.get_meta("models_stale") == "0"
    assert store.execute("SELECT action FROM audit_log ORDER BY seq") == \
        [("create_key",), ("revoke_key",)]
    store.close()


def test_migrations_idempotent_and_guarded(pg_url: str) -> None:
    first = open_store(pg_url)
    second = open_store(pg_url)  # a second replica starting on the same database
    assert second.get_meta("schema_version") == str(SCHEMA_VERSION)
    first.set_meta("schema_version", str(SCHEMA_VERSION + 1))
    with pytest.raises(RuntimeError, match="newer"):
        open_store(pg_url)
    first.close()
    second.close()
