"""`shopsense users rekey` on the PostgreSQL store: every stored pseudonym is rewritten in one
transaction, the same raw id still finds its history, erasure still works, the old
pseudonyms are gone from the tables, and a second rotation chains on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("psycopg_pool", reason="psycopg-pool (scale extra) not installed")

from shopsense.ids import Pseudonymizer
from shopsense.store import open_store

USERS = ["alice.zhang@example.com", "13800138000"]


def _cli(home: Path, url: str, *args: str) -> dict:
    env = {**os.environ, "SHOPSENSE_STORE__URL": url}
    out = subprocess.run([sys.executable, "-m", "shopsense.cli", "--home", str(home), *args,
                          "--json"], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _stored_ids(url: str) -> set[str]:
    store = open_store(url)
    rows = store.execute(
        "SELECT user_id FROM events UNION SELECT session_id FROM events "
        "UNION SELECT user_id FROM identity_links UNION SELECT session_id FROM identity_links")
    store.close()
    return {r[0] for r in rows if r[0] is not None}


def _history_length(url: str, actor: str) -> int:
    store = open_store(url)
    try:
        return len(list(store.iter_events(actor=actor)))
    finally:
        store.close()


def test_rekey_rewrites_every_pseudonym_in_postgresql(pg_url: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    rows = [{"user_id": user, "session_id": f"s-{i}", "item_id": f"i{j}", "event_type": "view",
             "timestamp": 1_700_000_000 + 10 * i + j} for i, user in enumerate(USERS)
            for j in range(4)]
    rows.append({"session_id": "anon-1", "item_id": "i9", "event_type": "view",
                 "timestamp": 1_700_000_100})  # an anonymous session, never linked
    feed = tmp_path / "events.jsonl"
    feed.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert _cli(home, pg_url, "ingest", "events", str(feed))["accepted"] == 9
    old = Pseudonymizer.from_home(home)
    before = _stored_ids(pg_url)
    assert old.user(USERS[0]) in before and old.session("anon-1") in before

    result = _cli(home, pg_url, "users", "rekey")
    assert result["generation"] == 2 and result["events_rekeyed"] == 9
    assert result["links_rekeyed"] == 2
    new = Pseudonymizer.from_home(home)
    after = _stored_ids(pg_url)
    assert not before & after and len(after) == len(before)
    assert {new.user(u) for u in USERS} | {new.session("anon-1")} <= after
    assert _history_length(pg_url, new.user(USERS[1])) == 4
    store = open_store(pg_url)
    assert store.get_meta("secret_generation") == "2"
    assert store.get_meta("models_stale") == "1"
    store.close()
    assert not (home / "secret.key.next").exists()

    assert _cli(home, pg_url, "users", "forget", USERS[1])["rows_removed"] >= 4
    assert new.user(USERS[1]) not in _stored_ids(pg_url)
    third = _cli(home, pg_url, "users", "rekey")
    assert third["generation"] == 3 and third["events_rekeyed"] == 5
    latest = Pseudonymizer.from_home(home)
    assert _history_length(pg_url, latest.user(USERS[0])) == 4
