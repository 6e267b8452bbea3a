"""What sibling server processes read to stay in step: the events table in `seq` order and a
small `changes` table (catalogue edits and erasures), in any store that speaks the
`transaction()` / `execute()` SQL of the embedded store (SQLite; PostgreSQL via its dialect).

`pipeline.follow.StoreFollower` polls both. Events need no extra writes: their `seq` is the
order SQLite committed them in (one writer at a time). A `forget` change names the erased
pseudonyms so siblings can drop what they hold in memory; it is deleted after
`FORGET_NOTICE_S` and the file vacuumed (docs/PRIVACY.md).
"""

from __future__ import annotations

import json
import time
from typing import Any

from shopsense.domain import Event
from shopsense.store.base import Store
from shopsense.store.rows import EVENT_COLS as _EVENT_COLS
from shopsense.store.rows import event_from_row as _event_from_row

FORGET_NOTICE_S = 60.0
_DDL = ("CREATE TABLE IF NOT EXISTS changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
        "at REAL NOT NULL, kind TEXT NOT NULL, detail TEXT NOT NULL)")
KINDS = ("catalog_upsert", "catalog_delete", "forget")


def ensure_feed(store: Store) -> None:
    with store.transaction() as cur:
        cur.execute(_DDL)


def publish(store: Store, kind: str, detail: dict[str, Any]) -> int:
    """Append one change; returns its sequence number."""
    if kind not in KINDS:
        raise ValueError(f"unknown change kind {kind!r}")
    with store.transaction() as cur:
        cur.execute("INSERT INTO changes (at, kind, detail) VALUES (?, ?, ?)",
                    (time.time(), kind, json.dumps(detail, ensure_ascii=False)))
        return int(cur.lastrowid)


def _read(store: Store) -> Any:
    """The store's poller connection where it has one (SQLite: `SqliteStore.read`)."""
    return getattr(store, "read", store.execute)


def changes_after(store: Store, seq: int, limit: int = 1000) -> list[tuple[int, str, dict]]:
    rows = _read(store)("SELECT seq, kind, detail FROM changes WHERE seq > ? ORDER BY seq "
                         "LIMIT ?", (seq, limit))
    return [(int(s), k, json.loads(d)) for s, k, d in rows]


def last_change(store: Store) -> int:
    return int(store.execute("SELECT COALESCE(MAX(seq), 0) FROM changes")[0][0])


class ChangeCursor:
    """Hands out each change once, in `seq` order, also when a lower `seq` commits after a
    higher one (PostgreSQL hands out sequence numbers at insert, not at commit: two replicas
    editing at once can commit 11 before 10, and a reader that went past 11 would never see 10).
    It re-reads from its low-water mark, remembers what it read above it, and waits
    `gap_grace_s` for a missing number before taking it as a rolled-back insert or a purged
    notice."""

    def __init__(self, store: Store, start: int, gap_grace_s: float = 5.0,
                 clock: Any = time.monotonic) -> None:
        self.store, self.low, self.gap_grace_s, self.clock = store, start, gap_grace_s, clock
        self.read: set[int] = set()  # above `low`
        self._gaps: dict[int, float] = {}  # a missing number -> when first missed

    def pending(self) -> list[tuple[int, str, dict]]:
        """The changes not yet `mark`ed, oldest first."""
        return [c for c in changes_after(self.store, self.low) if c[0] not in self.read]

    def mark(self, seq: int) -> None:
        """`seq` is applied; the low-water mark moves over every number done or given up."""
        self.read.add(seq)
        self.advance()

    def advance(self) -> None:
        now, top = self.clock(), max(self.read, default=self.low)
        while self.low < top:
            nxt = self.low + 1
            if nxt in self.read:
                self.read.discard(nxt)
            elif now - self._gaps.setdefault(nxt, now) < self.gap_grace_s:
                return
            self._gaps.pop(nxt, None)
            self.low = nxt


def purge(store: Store, kind: str, older_than_s: float) -> int:
    """Delete `kind` changes older than `older_than_s`; returns how many went."""
    with store.transaction() as cur:
        return int(cur.execute("DELETE FROM changes WHERE kind = ? AND at < ?",
                               (kind, time.time() - older_than_s)).rowcount)


def events_after(store: Store, seq: int, limit: int = 5000) -> list[tuple[int, Event]]:
    """Events with `seq` above `seq`, oldest first (at most `limit`)."""
    rows = _read(store)(f"SELECT {', '.join(_EVENT_COLS)}, seq FROM events WHERE seq > ? "
                         "ORDER BY seq LIMIT ?", (seq, limit))
    return [(int(r[-1]), _event_from_row(r)) for r in rows]


def recent_actors(store: Store, n: int, scan: int = 500_000, page: int = 5000) -> list[str]:
    """The `n` actors (user, else session) who acted most recently, newest first, from at
    most the last `scan` events (paged backwards by seq: cheap however long the log)."""
    found: dict[str, None] = {}
    before, seen = last_event_seq(store) + 1, 0
    while len(found) < n and seen < scan:
        rows = store.execute("SELECT user_id, session_id, seq FROM events WHERE seq < ? "
                             "ORDER BY seq DESC LIMIT ?", (before, min(page, scan - seen)))
        if not rows:
            break
        for user_id, session_id, _ in rows:
            actor = user_id or session_id
            if actor and len(found) < n:
                found.setdefault(actor)
        before, seen = int(rows[-1][2]), seen + len(rows)
    return list(found)


def last_event_seq(store: Store) -> int:
    return int(store.execute("SELECT COALESCE(MAX(seq), 0) FROM events")[0][0])


def replay(store: Store, observe: Any, after: int, upto: int | None = None) -> int:
    """Hand events with `after < seq <= upto` (all newer ones when `upto` is None) to
    `observe(events)` in batches, oldest first. Returns how many."""
    done, seq = 0, after
    while upto is None or seq < upto:
        batch = [(s, e) for s, e in events_after(store, seq) if upto is None or s <= upto]
        if not batch:
            break
        observe([e for _, e in batch])
        seq, done = batch[-1][0], done + len(batch)
    return done
