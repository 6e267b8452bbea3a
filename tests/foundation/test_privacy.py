"""Pseudonymisation from the first byte, and erasure that leaves no trace."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

from shopsense.ids import Pseudonymizer, ensure_secret, is_pseudonym

RAW_USERS = ["alice.zhang@example.com", "13800138000", "bob-raw-id-42"]
RAW_SESSION = "sess-raw-0042"


def _cli(home: Path, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "shopsense.cli", "--home", str(home), *args,
                          "--json"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def _all_bytes(home: Path) -> bytes:
    return b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file())


def _feed(tmp_path: Path) -> Path:
    rows = []
    for i, user in enumerate(RAW_USERS):
        for j in range(5):
            rows.append({"user_id": user, "session_id": f"{RAW_SESSION}-{i}", "item_id": f"i{j}",
                         "event_type": "view", "timestamp": 1_700_000_000 + 10 * i + j})
    rows.append({"user_id": "x", "item_id": "i1", "event_type": "bogus", "timestamp": 1})
    rows.append({"user_id": RAW_USERS[0], "event_type": "view", "timestamp": 1})  # no item
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_secret_created_once_with_mode_0600(tmp_path: Path) -> None:
    first = ensure_secret(tmp_path)
    assert stat.S_IMODE((tmp_path / "secret.key").stat().st_mode) == 0o600
    assert ensure_secret(tmp_path) == first
    ids = Pseudonymizer(first)
    assert ids.user("alice") == ids.user("alice") != ids.user("bob")
    assert is_pseudonym(ids.user("alice"), "u") and ids.user(ids.user("a")) == ids.user("a")
    assert Pseudonymizer(b"z" * 32).user("alice") != ids.user("alice")


def test_raw_ids_never_reach_the_store_files(tmp_path: Path) -> None:
    home = tmp_path / "home"
    report = _cli(home, "ingest", "events", str(_feed(tmp_path)))
    assert report["accepted"] == 15 and report["rejected"] == 2
    blob = _all_bytes(home)
    for raw in [*RAW_USERS, RAW_SESSION]:
        assert raw.encode() not in blob


def test_forget_erases_every_trace(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _cli(home, "ingest", "events", str(_feed(tmp_path)))
    pseudonym = Pseudonymizer.from_home(home).user(RAW_USERS[0]).encode()
    assert pseudonym in _all_bytes(home)
    result = _cli(home, "users", "forget", RAW_USERS[0])
    assert result["erased"] and result["rows_removed"] >= 5
    assert pseudonym not in _all_bytes(home)  # vacuumed: not in pages, free lists or WAL
    stats = _cli(home, "stats")
    assert stats["events"] == 10


def test_rekey_keeps_histories_and_unlinks_old_key(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _cli(home, "ingest", "events", str(_feed(tmp_path)))
    old = Pseudonymizer.from_home(home)
    old_id = old.user(RAW_USERS[1])
    result = _cli(home, "users", "rekey")
    assert result["generation"] == 2 and result["events_rekeyed"] == 15
    new = Pseudonymizer.from_home(home)
    new_id = new.user(RAW_USERS[1])
    assert new_id != old_id
    blob = _all_bytes(home)
    assert old_id.encode() not in blob and new_id.encode() in blob
    # the same raw id still finds its history, and erasure still works after rotation
    assert _cli(home, "users", "forget", RAW_USERS[1])["rows_removed"] >= 5
    assert new_id.encode() not in _all_bytes(home)
    assert stat.S_IMODE((home / "secret.key").stat().st_mode) == 0o600
