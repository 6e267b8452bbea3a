"""The change feed's cursor hands out every change once, also when a lower sequence number
commits after a higher one (PostgreSQL: two replicas editing the catalogue at once), and gives
up a number that never comes (a rolled-back insert, a purged notice) after a grace period. Run
over a SQLite file and PostgreSQL (the `store` fixture); the late commit is written with its
number, as the late transaction would."""

from __future__ import annotations

import json
import time

from shopsense.store import feed


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _insert(store, seq: int, item: str) -> None:
    with store.transaction() as cur:
        cur.execute("INSERT INTO changes (seq, at, kind, detail) VALUES (?, ?, ?, ?)",
                    (seq, time.time(), "catalog_upsert", json.dumps({"items": [item]})))


def _drain(cursor: feed.ChangeCursor) -> list[int]:
    got = []
    for seq, _, _ in cursor.pending():
        got.append(seq)
        cursor.mark(seq)
    cursor.advance()
    return got


def test_a_late_commit_of_a_lower_number_is_still_handed_out(store) -> None:
    feed.ensure_feed(store)
    clock = Clock()
    cursor = feed.ChangeCursor(store, feed.last_change(store), gap_grace_s=5.0, clock=clock)
    base = cursor.low
    _insert(store, base + 1, "a")
    _insert(store, base + 3, "c")  # committed before base + 2
    assert _drain(cursor) == [base + 1, base + 3]
    assert cursor.low == base + 1  # waits at the gap
    clock.now = 2.0
    _insert(store, base + 2, "b")  # the late transaction commits
    assert _drain(cursor) == [base + 2]
    assert cursor.low == base + 3 and cursor.read == set()
    assert _drain(cursor) == []  # nothing twice


def test_a_number_that_never_comes_is_given_up_after_the_grace(store) -> None:
    feed.ensure_feed(store)
    clock = Clock()
    cursor = feed.ChangeCursor(store, feed.last_change(store), gap_grace_s=5.0, clock=clock)
    base = cursor.low
    _insert(store, base + 2, "b")  # base + 1 was rolled back
    assert _drain(cursor) == [base + 2] and cursor.low == base
    clock.now = 4.0
    assert _drain(cursor) == [] and cursor.low == base
    clock.now = 5.5
    assert _drain(cursor) == [] and cursor.low == base + 2
    _insert(store, base + 3, "c")
    assert _drain(cursor) == [base + 3] and cursor.low == base + 3


def test_a_change_whose_apply_failed_is_handed_out_again(store) -> None:
    feed.ensure_feed(store)
    cursor = feed.ChangeCursor(store, feed.last_change(store))
    seq = feed.publish(store, "catalog_delete", {"items": ["x"]})
    assert [c[0] for c in cursor.pending()] == [seq]  # read, but not marked (apply raised)
    assert [c[0] for c in cursor.pending()] == [seq]
    cursor.mark(seq)
    assert cursor.pending() == [] and cursor.low == seq
