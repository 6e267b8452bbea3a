"""SQLite bulk loads: secondary event indexes are deferred only when the load is big relative
to the table, rebuilt when it ends, and restored by the next open after a kill -9."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

import shopsense.store.sqlite as sqlite_store
from shopsense.domain import Event
from shopsense.store import open_store
from shopsense.store.sqlite import DEFERRABLE_INDEXES, SqliteStore

_MARKER = "SELECT value FROM meta WHERE key = 'bulk_load_pid'"


def _indexes(store: SqliteStore) -> set[str]:
    return {r[0] for r in store.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' "
        "AND sql IS NOT NULL")}


def _views(start: int, n: int, **ids: str) -> list[Event]:
    return [Event(event_id=f"e{i}", event_type="view", timestamp=float(i), item_id=f"i{i % 9}",
                  **ids) for i in range(start, start + n)]


def test_big_load_defers_indexes_and_rebuilds_them(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(sqlite_store, "DEFER_INDEXES_MIN_ROWS", 100)
    store = open_store(f"sqlite:///{tmp_path / 'shop.db'}")
    full = _indexes(store)
    assert set(DEFERRABLE_INDEXES) <= full and "events_anonymous" in full
    with store.bulk_writes():
        store.add_events(_views(0, 60, session_id="s1"))  # anonymous so far
        assert _indexes(store) == full  # 60 rows: below the minimum
        store.add_events(_views(60, 60, user_id="u1", session_id="s2"))
        deferred = _indexes(store)
        assert deferred == full - set(DEFERRABLE_INDEXES)  # events_anonymous kept
        beside = open_store(f"sqlite:///{tmp_path / 'shop.db'}")  # e.g. `shopsense stats`
        assert _indexes(beside) == deferred  # a live loader's indexes are not rebuilt under it
        beside.close()
        store.add_events(_views(120, 5, user_id="u2", session_id="s1"))  # s1 logs in
        assert store.add_events(_views(0, 125)) == (0, 125)  # dedupe needs no deferred index
    assert _indexes(store) == full
    assert store.execute(_MARKER) == []
    assert [e.event_id for e in store.iter_events(actor="u2")] == [f"e{i}" for i in
                                                                   (*range(60), *range(120, 125))]
    assert len(list(store.iter_events(actor="s2"))) == 60
    assert store.execute("PRAGMA integrity_check") == [("ok",)]


def test_small_load_into_a_big_table_keeps_indexes(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(sqlite_store, "DEFER_INDEXES_MIN_ROWS", 100)
    store = open_store(f"sqlite:///{tmp_path / 'shop.db'}")
    store.add_events(_views(0, 1000, user_id="u1"))
    full = _indexes(store)
    with store.bulk_writes():
        for start in range(1000, 1240, 40):  # 240 rows < 25% of the 1000 already stored
            store.add_events(_views(start, 40, user_id="u2"))
            assert _indexes(store) == full
    assert store.count_events() == 1240


def test_indexes_are_rebuilt_when_the_load_fails(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(sqlite_store, "DEFER_INDEXES_MIN_ROWS", 10)
    store = open_store(f"sqlite:///{tmp_path / 'shop.db'}")
    full = _indexes(store)
    with pytest.raises(RuntimeError, match="reader failed"), store.bulk_writes():
        store.add_events(_views(0, 20, user_id="u1"))
        assert _indexes(store) != full
        raise RuntimeError("reader failed")
    assert _indexes(store) == full


_KILLED_LOAD = """
import os, signal, sys
import shopsense.store.sqlite as sqlite_store
from shopsense.domain import Event
sqlite_store.DEFER_INDEXES_MIN_ROWS = 1000
store = sqlite_store.SqliteStore(sys.argv[1])
with store.bulk_writes():
    for start in range(0, 3000, 500):
        store.add_events([Event(event_id=f"e{i}", event_type="view", timestamp=float(i),
                                user_id=f"u{i % 7}", item_id="i1") for i in range(start, start + 500)])
        if start == 1000:
            print(len(store.execute("SELECT name FROM sqlite_master WHERE type = 'index' "
                                    "AND name = 'events_user'")), flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
"""


def test_killed_bulk_load_leaves_a_store_the_next_open_repairs(tmp_path: Path) -> None:
    db = tmp_path / "shop.db"
    proc = subprocess.run([sys.executable, "-c", _KILLED_LOAD, str(db)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert proc.stdout.strip() == "0"  # killed while the user index was deferred
    store = open_store(f"sqlite:///{db}")  # the next open restores the deferred indexes
    assert set(DEFERRABLE_INDEXES) <= _indexes(store)
    assert store.execute(_MARKER) == []  # the dead loader's marker is cleared
    assert store.count_events() == 1500  # whole batches only
    assert store.execute("PRAGMA integrity_check") == [("ok",)]
    rerun = [Event(event_id=f"e{i}", event_type="view", timestamp=float(i), user_id=f"u{i % 7}",
                   item_id="i1") for i in range(3000)]
    assert store.add_events(rerun) == (1500, 1500)
    assert len(list(store.iter_events(actor="u3"))) == len(range(3, 3000, 7))
