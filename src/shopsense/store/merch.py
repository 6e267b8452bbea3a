"""Merchandising versions in the store (table `merch_versions`): every save of the shop's
merchandising (rules, redirects) is a new numbered version with who saved it, when and why,
so replicas sharing the store serve the same rules, the history is the audit trail, and a
roll back is a new version holding an old body. Each save is also written to the store's
`audit_log`.

One implementation for SQLite and PostgreSQL: the SQL below is portable, and the PostgreSQL
store rewrites the `?` placeholders and the AUTOINCREMENT key (store/pg_dialect.py).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Protocol

from shopsense.store.base import Store

TABLE = "merch_versions"
_SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (version INTEGER PRIMARY KEY AUTOINCREMENT, "
    "body TEXT NOT NULL, actor TEXT NOT NULL, note TEXT NOT NULL, at REAL NOT NULL)",
)


@dataclass(frozen=True)
class MerchVersion:
    version: int
    body: dict[str, Any]
    actor: str
    note: str
    at: float

    def to_dict(self, with_body: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"version": self.version, "actor": self.actor, "note": self.note,
                               "at": self.at}
        if with_body:
            out["body"] = self.body
        return out


class MerchRepository(Protocol):
    def latest(self) -> MerchVersion | None: ...
    def version(self) -> int: ...
    def get(self, version: int) -> MerchVersion | None: ...
    def save(self, body: dict[str, Any], actor: str, note: str) -> MerchVersion: ...
    def history(self, limit: int = 50) -> list[MerchVersion]: ...


class StoreMerchRepository:
    """`MerchRepository` over a shopsense store (SQLite or PostgreSQL)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        with store.transaction() as cur:
            for statement in _SCHEMA:
                cur.execute(statement)

    def version(self) -> int:
        """The newest version number (0 before the first save): cheap, for cache checks."""
        row = self.store.execute(f"SELECT COALESCE(MAX(version), 0) FROM {TABLE}")
        return int(row[0][0]) if row else 0

    def _one(self, where: str, params: tuple[Any, ...]) -> MerchVersion | None:
        rows = self.store.execute(f"SELECT version, body, actor, note, at FROM {TABLE} {where}",
                                  params)
        return _row(rows[0]) if rows else None

    def latest(self) -> MerchVersion | None:
        return self._one("ORDER BY version DESC LIMIT 1", ())

    def get(self, version: int) -> MerchVersion | None:
        return self._one("WHERE version = ?", (int(version),))

    def save(self, body: dict[str, Any], actor: str, note: str) -> MerchVersion:
        now = time.time()
        text = json.dumps(body, ensure_ascii=False, sort_keys=True)
        with self.store.transaction() as cur:
            cur.execute(f"INSERT INTO {TABLE} (body, actor, note, at) VALUES (?, ?, ?, ?)",
                        (text, actor, note, now))
        # this save's row (another replica may have saved meanwhile)
        saved = self._one("WHERE at = ? AND actor = ? AND body = ? ORDER BY version DESC LIMIT 1",
                          (now, actor, text))
        assert saved is not None
        audit = getattr(self.store, "audit", None)
        if callable(audit):
            audit(actor, "merch.save", {"version": saved.version, "note": note})
        return saved

    def history(self, limit: int = 50) -> list[MerchVersion]:
        rows = self.store.execute(f"SELECT version, body, actor, note, at FROM {TABLE} "
                                  "ORDER BY version DESC LIMIT ?", (int(limit),))
        return [_row(r) for r in rows]


def _row(row: tuple[Any, ...]) -> MerchVersion:
    return MerchVersion(int(row[0]), json.loads(row[1]), str(row[2]), str(row[3]), float(row[4]))


__all__ = ["MerchRepository", "MerchVersion", "StoreMerchRepository"]
