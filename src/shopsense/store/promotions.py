"""Model promotions in the store (table `model_promotions`): every time an operator puts a
trained model version into service (promote) or takes the serving one back to an earlier
version (roll back), who did it, when, from which version and why. Each is also written to the
store's `audit_log`. Replicas sharing the store read the same history.

One implementation for SQLite and PostgreSQL: portable SQL; the PostgreSQL store rewrites the
`?` placeholders and the AUTOINCREMENT key (store/pg_dialect.py).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from shopsense.store.base import Store

TABLE = "model_promotions"
_SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "version TEXT NOT NULL, previous TEXT NOT NULL, action TEXT NOT NULL, actor TEXT NOT NULL, "
    "note TEXT NOT NULL, at REAL NOT NULL)",
)


@dataclass(frozen=True)
class Promotion:
    id: int
    version: str  # the version put into service
    previous: str  # the version that served before
    action: str  # promote | rollback
    actor: str
    note: str
    at: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class PromotionRepository(Protocol):
    def record(self, version: str, previous: str, action: str, actor: str, note: str
               ) -> Promotion: ...
    def history(self, limit: int = 50) -> list[Promotion]: ...
    def latest_for(self, version: str) -> Promotion | None: ...


class StorePromotionRepository:
    """`PromotionRepository` over a shopsense store (SQLite or PostgreSQL)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        with store.transaction() as cur:
            for statement in _SCHEMA:
                cur.execute(statement)

    def record(self, version: str, previous: str, action: str, actor: str, note: str
               ) -> Promotion:
        if action not in ("promote", "rollback"):
            raise ValueError(f"unknown promotion action {action!r}")
        now = time.time()
        with self.store.transaction() as cur:
            cur.execute(f"INSERT INTO {TABLE} (version, previous, action, actor, note, at) "
                        "VALUES (?, ?, ?, ?, ?, ?)", (version, previous, action, actor, note, now))
        saved = self._rows("WHERE at = ? AND actor = ? AND version = ? ORDER BY id DESC LIMIT 1",
                           (now, actor, version))[0]
        self.store.audit(actor, f"models.{action}", {"version": version, "previous": previous,
                                                     "note": note})
        return saved

    def _rows(self, where: str, params: tuple[Any, ...]) -> list[Promotion]:
        rows = self.store.execute(f"SELECT id, version, previous, action, actor, note, at "
                                  f"FROM {TABLE} {where}", params)
        return [Promotion(int(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4]), str(r[5]),
                          float(r[6])) for r in rows]

    def history(self, limit: int = 50) -> list[Promotion]:
        return self._rows("ORDER BY id DESC LIMIT ?", (int(limit),))

    def latest_for(self, version: str) -> Promotion | None:
        found = self._rows("WHERE version = ? ORDER BY id DESC LIMIT 1", (version,))
        return found[0] if found else None


__all__ = ["Promotion", "PromotionRepository", "StorePromotionRepository"]
