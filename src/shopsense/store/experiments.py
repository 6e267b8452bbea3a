"""Stored online experiments and who was assigned to which arm.

    experiments (id TEXT PK, name, kind, surface, status, created_at REAL, stopped_at REAL,
                 spec TEXT: the validated definition as JSON, `pipeline.experiments.Spec`)
    experiment_assignments (experiment_id, user_id, arm, timestamp REAL;
                            PRIMARY KEY (experiment_id, user_id))

`user_id` of an assignment is the actor's pseudonym (user, else session) at its first exposure:
the assignment is sticky (a hash of the pseudonym), so the row only records that and when the
shopper entered, which the report counts visitors and outcomes from. Erasure removes a
shopper's rows (`forget`, registered as an erasure holder in privacy/erasure.py); retention
purges old rows (the table is one of `store.sqlite.USER_TABLES`).

`ExperimentRepository` is the protocol; `StoreExperiments` implements it over any store
opened by `open_store` (the SQL is portable: the PostgreSQL store rewrites `?`, REAL and
`INSERT OR IGNORE` itself, store/pg_dialect.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from shopsense.store.base import Store

TABLE = "experiments"
ASSIGNMENTS = "experiment_assignments"
_SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (id TEXT PRIMARY KEY, name TEXT NOT NULL, "
    "kind TEXT NOT NULL, surface TEXT NOT NULL, status TEXT NOT NULL, created_at REAL NOT NULL, "
    "stopped_at REAL, spec TEXT NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS {ASSIGNMENTS} (experiment_id TEXT NOT NULL, "
    "user_id TEXT NOT NULL, arm TEXT NOT NULL, timestamp REAL NOT NULL, "
    "PRIMARY KEY (experiment_id, user_id))",
    f"CREATE INDEX IF NOT EXISTS {ASSIGNMENTS}_user ON {ASSIGNMENTS}(user_id)",
)


@dataclass(frozen=True)
class ExperimentRecord:
    id: str
    name: str
    kind: str  # "ab" | "interleaving"
    surface: str  # "for_you" | "search"
    status: str  # "running" | "stopped"
    created_at: float
    spec: dict[str, Any] = field(default_factory=dict)
    stopped_at: float | None = None


@dataclass(frozen=True)
class Assignment:
    actor: str
    arm: str
    timestamp: float


class ExperimentRepository(Protocol):
    def create(self, record: ExperimentRecord) -> None:
        """Store a new experiment (its id must be new)."""

    def get(self, experiment_id: str) -> ExperimentRecord | None: ...

    def list(self, status: str | None = None) -> list[ExperimentRecord]:
        """Newest first; optionally only "running" or "stopped" ones."""

    def stop(self, experiment_id: str, at: float) -> ExperimentRecord | None:
        """Mark it stopped (idempotent: a second stop keeps the first time)."""

    def assign(self, experiment_id: str, actor: str, arm: str, at: float) -> bool:
        """Record the actor's first exposure; False when it was already recorded."""

    def assignments(self, experiment_id: str) -> list[Assignment]:
        """Every assignment, in order of first exposure."""

    def forget(self, actors: Iterable[str]) -> int:
        """Remove these pseudonyms' assignments in every experiment; returns rows removed."""


class StoreExperiments:
    """`ExperimentRepository` over a shopsense store (SQLite or PostgreSQL)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        register_for_retention()
        with store.transaction() as cur:
            for statement in _SCHEMA:
                cur.execute(statement)

    def create(self, record: ExperimentRecord) -> None:
        if self.get(record.id) is not None:
            raise ValueError(f"experiment {record.id} exists")
        with self.store.transaction() as cur:
            cur.execute(f"INSERT INTO {TABLE} (id, name, kind, surface, status, created_at, "
                        "stopped_at, spec) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (record.id, record.name, record.kind, record.surface, record.status,
                         record.created_at, record.stopped_at,
                         json.dumps(record.spec, ensure_ascii=False, sort_keys=True)))

    def get(self, experiment_id: str) -> ExperimentRecord | None:
        rows = self.store.execute(f"SELECT id, name, kind, surface, status, created_at, "
                                  f"stopped_at, spec FROM {TABLE} WHERE id = ?", (experiment_id,))
        return _record(rows[0]) if rows else None

    def list(self, status: str | None = None) -> list[ExperimentRecord]:
        where, params = ("WHERE status = ?", (status,)) if status else ("", ())
        rows = self.store.execute(f"SELECT id, name, kind, surface, status, created_at, "
                                  f"stopped_at, spec FROM {TABLE} {where} "
                                  "ORDER BY created_at DESC, id", params)
        return [_record(r) for r in rows]

    def stop(self, experiment_id: str, at: float) -> ExperimentRecord | None:
        with self.store.transaction() as cur:
            cur.execute(f"UPDATE {TABLE} SET status = 'stopped', stopped_at = ? "
                        "WHERE id = ? AND status = 'running'", (at, experiment_id))
        return self.get(experiment_id)

    def assign(self, experiment_id: str, actor: str, arm: str, at: float) -> bool:
        with self.store.transaction() as cur:
            cur.execute(f"INSERT OR IGNORE INTO {ASSIGNMENTS} (experiment_id, user_id, arm, "
                        "timestamp) VALUES (?, ?, ?, ?)", (experiment_id, actor, arm, at))
            return bool(max(cur.rowcount, 0))

    def assignments(self, experiment_id: str) -> list[Assignment]:
        rows = self.store.execute(f"SELECT user_id, arm, timestamp FROM {ASSIGNMENTS} "
                                  "WHERE experiment_id = ? ORDER BY timestamp, user_id",
                                  (experiment_id,))
        return [Assignment(str(r[0]), str(r[1]), float(r[2])) for r in rows]

    def forget(self, actors: Iterable[str]) -> int:
        chunk = [a for a in actors if a]
        if not chunk:
            return 0
        removed = 0
        with self.store.transaction() as cur:
            for start in range(0, len(chunk), 500):
                part: Sequence[str] = chunk[start:start + 500]
                cur.execute(f"DELETE FROM {ASSIGNMENTS} WHERE user_id IN "
                            f"({','.join('?' * len(part))})", tuple(part))
                removed += max(cur.rowcount, 0)
        return removed


def register_for_retention() -> None:
    """Assignment rows are shopper data: retention (`store.retention`) and a store's own
    `forget_user` reach them through `USER_TABLES`."""
    from shopsense.store import sqlite

    if ASSIGNMENTS not in sqlite.USER_TABLES:
        sqlite.USER_TABLES.append(ASSIGNMENTS)


def _record(row: Sequence[Any]) -> ExperimentRecord:
    return ExperimentRecord(str(row[0]), str(row[1]), str(row[2]), str(row[3]), str(row[4]),
                            float(row[5]), json.loads(row[7]),
                            float(row[6]) if row[6] is not None else None)
