"""The store's side of retention and scheduled maintenance, in the portable SQL that the
embedded store and PostgreSQL (store.pg_dialect) both run:

- `purge_user_rows_before(store, ts)`: rows of the shopper tables (`USER_TABLES`, e.g. the
  storefront's web impressions) older than `ts`;
- `claim(store, name, interval_s)`: a schedule kept in `meta`, so that of N processes on one
  store (workers, replicas) one runs a periodic job per interval;
- `last_run(store, name)`.
"""

from __future__ import annotations

import json
import time
from typing import Any

from shopsense.store.base import Store
from shopsense.store.sqlite import USER_TABLES


def _has_timestamp(store: Store, table: str) -> bool:
    try:
        store.execute(f"SELECT timestamp FROM {table} LIMIT 1")
    except Exception:  # the table does not exist (yet) or has no timestamp: nothing to purge
        return False
    return True


def purge_user_rows_before(store: Store, timestamp: float) -> dict[str, int]:
    """Delete rows older than `timestamp` from every shopper table that has a `timestamp`
    column; returns rows removed by table."""
    removed = {}
    for table in USER_TABLES:
        if _has_timestamp(store, table):
            with store.transaction() as cur:
                removed[table] = int(cur.execute(f"DELETE FROM {table} WHERE timestamp < ?",
                                                 (timestamp,)).rowcount)
    return removed


def claim(store: Store, name: str, interval_s: float, *, now: float | None = None,
          first_due: bool = True) -> bool:
    """True (and the run recorded as started now) when job `name` last ran more than
    `interval_s` ago. `first_due=False`: a job never run is scheduled one interval from now."""
    now = time.time() if now is None else now
    key = f"schedule:{name}"
    seen = last_run(store, name)  # a read first: most checks find the job not due
    if seen is not None and now - float(seen.get("started", 0.0)) < interval_s:
        return False
    with store.transaction() as cur:
        row = cur.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        started = json.loads(row[0]).get("started", 0.0) if row else None
        if started is None and not first_due:
            cur.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                        (key, json.dumps({"started": now})))
            return False
        if started is not None and now - float(started) < interval_s:
            return False
        cur.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                    (key, json.dumps({"started": now})))
        return True


def record(store: Store, name: str, detail: dict[str, Any]) -> None:
    """What the last run of job `name` did (shown on /readyz and the dashboard)."""
    key = f"schedule:{name}"
    with store.transaction() as cur:
        row = cur.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        state = json.loads(row[0]) if row else {"started": time.time()}
        state.update(finished=time.time(), **detail)
        cur.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(state)))


def last_run(store: Store, name: str) -> dict[str, Any] | None:
    rows = store.execute("SELECT value FROM meta WHERE key = ?", (f"schedule:{name}",))
    return json.loads(rows[0][0]) if rows else None
