"""Re-keying stored pseudonyms (secret rotation, privacy.rekey): every user / session
pseudonym in `events` and `identity_links` is mapped to its new form in ONE transaction.

The mapping is computed by the caller (so the key never reaches the database) and applied
through a temporary table, so the same SQL runs on SQLite and PostgreSQL; the same
transaction records the new secret generation and marks the models stale in `meta`.
`PseudonymRepository` is the protocol; `StorePseudonyms` implements it over either backend.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from shopsense.store.base import SqlStore

_PSEUDONYMS = ("SELECT user_id FROM events WHERE user_id IS NOT NULL UNION "
               "SELECT session_id FROM events WHERE session_id IS NOT NULL UNION "
               "SELECT user_id FROM identity_links UNION SELECT session_id FROM identity_links")


class PseudonymRepository(Protocol):
    def rekey(self, new_form: Callable[[str], str], generation: int) -> tuple[int, int]:
        """Replace every stored pseudonym `v` with `new_form(v)` and set
        `meta.secret_generation = generation` and `meta.models_stale = 1`, all in one
        transaction. Returns (event rows rewritten, identity-link rows rewritten)."""
        ...


class StorePseudonyms:
    """`PseudonymRepository` over a SQLite or PostgreSQL store."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store

    def rekey(self, new_form: Callable[[str], str], generation: int) -> tuple[int, int]:
        with self.store.transaction() as cur:
            old = [row[0] for row in cur.execute(_PSEUDONYMS).fetchall()]
            cur.execute("CREATE TEMPORARY TABLE rekey_map (old TEXT PRIMARY KEY, "
                        "new TEXT NOT NULL)")
            cur.executemany("INSERT INTO rekey_map VALUES (?, ?)",
                            [(v, new_form(v)) for v in old])
            counts = []
            for table in ("events", "identity_links"):
                counts.append(cur.execute(
                    f"UPDATE {table} SET "
                    f"user_id = (SELECT new FROM rekey_map WHERE old = {table}.user_id), "
                    f"session_id = (SELECT new FROM rekey_map WHERE old = {table}.session_id) "
                    "WHERE user_id IS NOT NULL OR session_id IS NOT NULL").rowcount)
            cur.execute("DROP TABLE rekey_map")
            cur.execute("INSERT OR REPLACE INTO meta VALUES ('secret_generation', ?)",
                        (str(generation),))
            cur.execute("INSERT OR REPLACE INTO meta VALUES ('models_stale', '1')")
        return counts[0], counts[1]


__all__ = ["PseudonymRepository", "StorePseudonyms"]
