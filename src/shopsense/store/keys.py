"""API keys in the store (table `api_keys`, created with the store's schema): hashed keys with
a scope, revoked by flag. `KeyRepository` is the protocol; `StoreKeys` runs the portable SQL
on either backend (the PostgreSQL store rewrites the `?` placeholders: pg_dialect.py)."""

from __future__ import annotations

from typing import Protocol

from shopsense.store.base import SqlStore


class KeyRepository(Protocol):
    def add(self, key_id: str, key_hash: str, scope: str, created_at: float) -> None: ...

    def revoke(self, key_id: str) -> bool:
        """Mark the key revoked; False when no key has this id."""
        ...

    def active(self, key_id: str) -> tuple[str, str] | None:
        """(key hash, scope) of an unrevoked key, else None."""
        ...


class StoreKeys:
    """`KeyRepository` over a SQLite or PostgreSQL store."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store

    def add(self, key_id: str, key_hash: str, scope: str, created_at: float) -> None:
        with self.store.transaction() as cur:
            cur.execute("INSERT INTO api_keys (key_id, key_hash, scope, created_at) "
                        "VALUES (?, ?, ?, ?)", (key_id, key_hash, scope, created_at))

    def revoke(self, key_id: str) -> bool:
        with self.store.transaction() as cur:
            changed = cur.execute("UPDATE api_keys SET revoked = 1 WHERE key_id = ?",
                                  (key_id,)).rowcount
        return changed > 0

    def active(self, key_id: str) -> tuple[str, str] | None:
        rows = self.store.execute(
            "SELECT key_hash, scope FROM api_keys WHERE key_id = ? AND revoked = 0", (key_id,))
        return (str(rows[0][0]), str(rows[0][1])) if rows else None


__all__ = ["KeyRepository", "StoreKeys"]
