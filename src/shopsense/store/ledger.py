"""The privacy ledger's table (`privacy_ledger`): every differentially private release with
its epsilon and delta, in the portable SQL that SQLite and PostgreSQL both run.

`charge` checks the budget and records the release in ONE transaction that no other process
can interleave with: on SQLite the transaction is `BEGIN IMMEDIATE` (one writer per file); on
PostgreSQL it first takes a transaction-scoped advisory lock (`pg_advisory_xact_lock`), so two
replicas releasing at once cannot both pass the check before either inserts.
"""

from __future__ import annotations

import json
import time
from typing import Any

from shopsense.store.base import Store

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS privacy_ledger (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
    "at REAL NOT NULL, release TEXT NOT NULL, mechanism TEXT NOT NULL, epsilon REAL NOT NULL, "
    "delta REAL NOT NULL, fingerprint TEXT NOT NULL DEFAULT '', "
    "detail TEXT NOT NULL DEFAULT '{}', body TEXT NOT NULL DEFAULT '')",
    "CREATE INDEX IF NOT EXISTS privacy_ledger_release ON privacy_ledger(release, fingerprint)",
    "CREATE INDEX IF NOT EXISTS privacy_ledger_at ON privacy_ledger(at)",
)
_LOCK_KEY = 0x5353_4C44  # "SSLD": the advisory lock that serialises ledger charges


class OverBudget(RuntimeError):
    """The release would take the spend in the window over the budget."""


def ensure(store: Store) -> None:
    with store.transaction() as cur:
        for statement in _SCHEMA:
            cur.execute(statement)


def spent_since(store: Store, since: float) -> tuple[float, float]:
    row = store.execute("SELECT COALESCE(SUM(epsilon), 0), COALESCE(SUM(delta), 0) "
                        "FROM privacy_ledger WHERE at >= ?", (since,))[0]
    return float(row[0]), float(row[1])


def charge(store: Store, row: dict[str, Any], *, since: float, max_epsilon: float | None,
           max_delta: float | None) -> int:
    """Insert `row` (release, mechanism, epsilon, delta, fingerprint, detail, body) unless
    the releases since `since` plus this one exceed `max_epsilon` or `max_delta` (then
    `OverBudget`, nothing written). Returns the new entry's seq."""
    with store.transaction() as cur:
        if getattr(store, "dialect", "sqlite") == "postgresql":
            cur.execute("SELECT pg_advisory_xact_lock(?)", (_LOCK_KEY,))
        eps, delta = cur.execute("SELECT COALESCE(SUM(epsilon), 0), COALESCE(SUM(delta), 0) "
                                 "FROM privacy_ledger WHERE at >= ?", (since,)).fetchone()
        if max_epsilon is not None and eps + row["epsilon"] > max_epsilon + 1e-12:
            raise OverBudget(f"release needs epsilon {row['epsilon']:g}; spent {eps:g} of the "
                             f"budget {max_epsilon:g} in the window")
        if max_delta is not None and delta + row["delta"] > max_delta * (1 + 1e-9):
            raise OverBudget(f"release needs delta {row['delta']:.3g}; spent {delta:.3g} of "
                             f"the budget {max_delta:.3g} in the window")
        cur.execute("INSERT INTO privacy_ledger (at, release, mechanism, epsilon, delta, "
                    "fingerprint, detail, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (time.time(), row["release"], row["mechanism"], row["epsilon"],
                     row["delta"], row.get("fingerprint", ""),
                     json.dumps(row.get("detail") or {}, ensure_ascii=False),
                     json.dumps(row["body"], ensure_ascii=False)
                     if row.get("body") is not None else ""))
        return int(cur.lastrowid or 0)


def entries(store: Store, limit: int) -> list[tuple[Any, ...]]:
    return store.execute("SELECT seq, at, release, mechanism, epsilon, delta, fingerprint, "
                         "detail FROM privacy_ledger ORDER BY seq DESC LIMIT ?", (limit,))


def newest_body(store: Store, release: str, fingerprint: str | None = None,
                since: float = 0.0) -> tuple[int, dict[str, Any]] | None:
    """(seq, body) of the newest recorded release with this name (and fingerprint), at or
    after `since`."""
    sql = ("SELECT seq, body FROM privacy_ledger WHERE release = ? AND body != '' "
           "AND at >= ?")
    params: tuple[Any, ...] = (release, since)
    if fingerprint is not None:
        sql, params = sql + " AND fingerprint = ?", (*params, fingerprint)
    rows = store.execute(sql + " ORDER BY seq DESC LIMIT 1", params)
    return (int(rows[0][0]), json.loads(rows[0][1])) if rows else None
