"""For-you lists one server process computed after a shopper's event, for its siblings on the
same store to adopt instead of recomputing them (pipeline/recompute.py).

One row per published list, in the portable SQL of `store.feed` (SQLite; PostgreSQL through
its dialect):

    seq        INTEGER PK   publication order (what a sibling's follower reads after)
    user_id    TEXT         the actor's pseudonym (user, else session): erased with the shopper
    session_id TEXT         the same pseudonym (an anonymous session's list goes with the
                            sessions linked to an erased user)
    timestamp  REAL         when it was published; rows live `KEEP_S` (and retention reaches them)
    event_seq  INTEGER      the events the publisher had applied when it computed the list
    change_seq INTEGER      the change-feed position (catalogue edits, erasures) it had applied
    models     TEXT         the serving models' version
    rules      TEXT         a digest of the standing rules it used
    body       TEXT         the answer, JSON
    origin     TEXT         the publishing process (it does not adopt its own)

The table is one of `store.sqlite.USER_TABLES`: a store's `forget_user` and retention reach it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shopsense.store.base import Store

TABLE = "shared_answers"
KEEP_S = 60.0  # siblings read a row within a poll (100 ms); the rest is slack
_DDL = (f"CREATE TABLE IF NOT EXISTS {TABLE} (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
        "user_id TEXT NOT NULL, session_id TEXT, timestamp REAL NOT NULL, "
        "event_seq INTEGER NOT NULL, change_seq INTEGER NOT NULL, models TEXT NOT NULL, "
        "rules TEXT NOT NULL, body TEXT NOT NULL, origin TEXT NOT NULL)")
_COLS = "seq, user_id, event_seq, change_seq, models, rules, body, origin, timestamp"


@dataclass(frozen=True, slots=True)
class SharedAnswer:
    seq: int
    actor: str
    event_seq: int
    change_seq: int
    models: str
    rules: str
    body: dict[str, Any]
    origin: str
    at: float = 0.0  # when published (unix seconds)


class SharedAnswers:
    """The repository over any store that speaks `transaction()` / `execute()`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        register_for_retention()
        with store.transaction() as cur:
            cur.execute(_DDL)

    def publish(self, answers: Sequence[SharedAnswer]) -> None:
        """Append lists (their `seq` is given by the store) in one statement committed on its
        own: on SQLite the write lock is then held only inside it, never while the publishing
        thread waits for the GIL (the sibling's event writes would sleep meanwhile)."""
        now = time.time()
        rows = [(a.actor, a.actor, now, a.event_seq, a.change_seq, a.models, a.rules,
                 json.dumps(a.body, ensure_ascii=False, separators=(",", ":")), a.origin)
                for a in answers]
        marks = ", ".join("(?, ?, ?, ?, ?, ?, ?, ?, ?)" for _ in rows)
        self.store.execute(
            f"INSERT INTO {TABLE} (user_id, session_id, timestamp, event_seq, change_seq, "
            f"models, rules, body, origin) VALUES {marks}", [v for r in rows for v in r])

    def drop(self, actors: Sequence[str]) -> None:
        """Remove the lists of these actors (a shopper erased while their list was written)."""
        marks = ", ".join("?" for _ in actors)
        self.store.execute(f"DELETE FROM {TABLE} WHERE user_id IN ({marks})", list(actors))

    def after(self, seq: int, limit: int = 500) -> list[SharedAnswer]:
        """Lists published after `seq`, oldest first."""
        read = getattr(self.store, "read", self.store.execute)  # the poller's connection
        rows = read(f"SELECT {_COLS} FROM {TABLE} WHERE seq > ? ORDER BY seq LIMIT ?",
                    (seq, limit))
        return [SharedAnswer(int(r[0]), str(r[1]), int(r[2]), int(r[3]), str(r[4]), str(r[5]),
                             json.loads(r[6]), str(r[7]), float(r[8])) for r in rows]

    def last(self) -> int:
        return int(self.store.execute(f"SELECT COALESCE(MAX(seq), 0) FROM {TABLE}")[0][0])

    def purge(self, older_than_s: float = KEEP_S) -> None:
        """Delete rows older than `older_than_s` (one statement, as `publish`)."""
        self.store.execute(f"DELETE FROM {TABLE} WHERE timestamp < ?",
                           (time.time() - older_than_s,))


def register_for_retention() -> None:
    """Shopper data: retention and a store's `forget_user` reach it through `USER_TABLES`."""
    from shopsense.store import sqlite

    if TABLE not in sqlite.USER_TABLES:
        sqlite.USER_TABLES.append(TABLE)
