"""Right to erasure: remove a shopper's events and everything derived from them.

"Derived" covers: events (by user and by linked sessions), identity links, rows of any table
registered in store.sqlite.USER_TABLES, online state held by a running service (it listens
for erasures), and trained models — a one-way token of the pseudonym is tombstoned in `erasures`, models exclude
tombstoned users at serving time and drop them at the next retrain. The database file is
vacuumed so the deleted rows leave no trace in free pages or the WAL.
"""

from __future__ import annotations

from typing import Any

from shopsense.config import Settings
from shopsense.ids import Pseudonymizer
from shopsense.store.sqlite import erasure_token


def forget_user(cfg: Settings, store: Any, raw_id: str, *, actor: str) -> dict[str, Any]:
    pseudonym = Pseudonymizer.from_home(cfg.home).user(raw_id)
    removed = store.forget_user(pseudonym)
    token = erasure_token(pseudonym)
    store.audit(actor, "erase_user", {"token": token, "rows_removed": removed})
    store.vacuum()
    return {"erasure_token": token, "rows_removed": removed, "erased": True}
