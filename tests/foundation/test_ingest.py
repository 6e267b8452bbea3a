"""Ingestion: every row lands whole or is reported with file, line, field; reruns are idempotent;
a killed ingest leaves a consistent store that a rerun completes."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopsense.ids import Pseudonymizer
from shopsense.ingest.pipeline import ingest_file
from shopsense.ingest.validate import RowInvalid, parse_timestamp, validate_event, validate_product
from shopsense.store import open_store

IDS = Pseudonymizer(b"k" * 32)


def _ingest(path: Path, kind: str, store, tmp_path: Path, **kw):
    return ingest_file(path, kind, catalog=store, events=store, pseudonyms=IDS,  # type: ignore[arg-type]
                       rejects_dir=tmp_path / "rejects", **kw)


def test_catalog_from_csv_jsonl_parquet(tmp_path: Path) -> None:
    store = open_store("memory://")
    (tmp_path / "p.csv").write_text(
        "item_id,title,price,attributes,colour\n"
        'a1,格力(GREE) 变频空调 1.5匹,3999,"{""power"": ""1.5匹""}",白色\n'
        "a2,,5,,\n", encoding="utf-8")
    (tmp_path / "p.jsonl").write_text(
        json.dumps({"item_id": "b1", "title": "Running shoes", "price": 59.5,
                    "attributes": {"waterproof": True}, "available": "false"}) + "\n"
        + json.dumps({"item_id": "b2", "title": "x", "price": -1}) + "\n", encoding="utf-8")
    pq.write_table(pa.table({"item_id": ["c1"], "title": ["口红"], "price": [99.0]}),
                   tmp_path / "p.parquet")
    r1 = _ingest(tmp_path / "p.csv", "catalog", store, tmp_path)
    r2 = _ingest(tmp_path / "p.jsonl", "catalog", store, tmp_path)
    r3 = _ingest(tmp_path / "p.parquet", "catalog", store, tmp_path)
    assert (r1.accepted, r1.rejected, r2.accepted, r2.rejected, r3.accepted) == (1, 1, 1, 1, 1)
    a1 = store.get_product("a1")
    assert a1.attributes == {"power": "1.5匹", "colour": "白色"}  # extra CSV column kept
    assert store.get_product("b1").available is False
    rejects = [json.loads(x) for x in Path(r2.rejects_file).read_text().splitlines()]
    assert rejects == [{"file": str(tmp_path / "p.jsonl"), "line": 2, "field": "price",
                        "reason": "must be >= 0"}]
    rejects = [json.loads(x) for x in Path(r1.rejects_file).read_text().splitlines()]
    assert (rejects[0]["line"], rejects[0]["field"]) == (3, "title")


def test_events_rejects_and_idempotent_rerun(tmp_path: Path) -> None:
    store = open_store("memory://")
    rows = [
        {"user_id": "alice", "item_id": "a1", "event_type": "view", "timestamp": "2026-10-01T10:00:00Z"},
        {"user_id": "alice", "item_id": "a1", "event_type": "buy", "timestamp": 1},
        {"session_id": "s1", "event_type": "search", "query": "空调", "timestamp": 1759312800},
        {"user_id": "bob", "item_id": "a1", "event_type": "rate", "timestamp": 5},
        {"event_id": "e9", "user_id": "bob", "item_id": "a1", "event_type": "purchase",
         "value": 3999, "platform": "app", "timestamp": 1759312800123},
    ]
    path = tmp_path / "e.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    first = _ingest(path, "events", store, tmp_path)
    assert (first.accepted, first.rejected, first.duplicates) == (3, 2, 0)
    again = _ingest(path, "events", store, tmp_path)
    assert (again.accepted, again.rejected, again.duplicates) == (0, 2, 3)
    reasons = {(r["line"], r["field"]) for r in map(json.loads, Path(again.rejects_file).open())}
    assert reasons == {(2, "event_type"), (4, "value")}
    purchase = next(e for e in store.iter_events() if e.event_id == "e9")
    assert purchase.timestamp == 1759312800.123  # milliseconds recognised
    assert purchase.user_id == IDS.user("bob")


def test_parse_timestamp_forms() -> None:
    assert parse_timestamp("2026-10-01T00:00:00Z") == parse_timestamp(1790812800) == 1790812800.0
    assert parse_timestamp("2026-10-01T08:00:00+08:00") == 1790812800.0
    assert parse_timestamp("2026-10-01 00:00:00") == 1790812800.0


row_values = st.one_of(st.none(), st.text(max_size=12), st.integers(-5, 10**12),
                       st.floats(allow_nan=True), st.booleans())
event_rows = st.fixed_dictionaries({}, optional={
    k: row_values for k in ("event_id", "user_id", "session_id", "item_id", "event_type",
                            "query", "value", "platform", "timestamp")}) | st.fixed_dictionaries({
    "user_id": st.text(min_size=1, max_size=8), "item_id": st.text(min_size=1, max_size=8),
    "event_type": st.sampled_from(["view", "cart", "purchase", "dismiss", "nope"]),
    "timestamp": st.integers(0, 2_000_000_000)})


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(event_rows, max_size=15))
def test_any_event_row_lands_whole_or_is_reported(rows, tmp_path_factory) -> None:
    tmp = tmp_path_factory.mktemp("prop")
    path = tmp / "e.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    store = open_store("memory://")
    report = _ingest(path, "events", store, tmp)
    assert report.accepted + report.rejected + report.duplicates == len(rows)
    stored = {e.event_id: e for e in store.iter_events()}
    assert len(stored) == report.accepted
    valid = []
    for row in rows:
        try:
            valid.append(validate_event(row, IDS))
        except RowInvalid as exc:
            assert exc.errors and all(e.field and e.reason for e in exc.errors)
    for e in valid:  # every valid row is stored whole, exactly as validated
        assert stored[e.event_id] == e
    rerun = _ingest(path, "events", store, tmp)
    assert rerun.accepted == 0 and store.count_events() == report.accepted


product_rows = st.fixed_dictionaries({"item_id": st.text(max_size=6)}, optional={
    k: row_values for k in ("title", "price", "brand", "available", "created_at", "attributes")})


@settings(max_examples=150)
@given(row=product_rows)
def test_product_validation_never_half_accepts(row) -> None:
    try:
        p = validate_product(row)
    except RowInvalid as exc:
        assert exc.errors
    else:
        assert p.item_id and p.title
        assert p.price is None or p.price >= 0


def _write_events_csv(path: Path, n: int) -> None:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["user_id", "session_id", "item_id", "event_type", "timestamp"])
        for i in range(n):
            w.writerow([f"user{i % 997}", f"s{i % 5003}", f"item{i % 3001}", "view", 1_700_000_000 + i])


def _processes_mentioning(text: str) -> list[int]:
    """Live pids whose command line contains `text` (Linux /proc; zombies have none)."""
    pids = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if text in (entry / "cmdline").read_bytes().decode(errors="replace"):
                pids.append(int(entry.name))
        except OSError:  # exited while we looked
            continue
    return pids


def test_killed_ingest_is_completed_by_rerun(tmp_path: Path) -> None:
    n = 150_000
    src = tmp_path / "events.csv"
    _write_events_csv(src, n)
    home = tmp_path / "home"
    cmd = [sys.executable, "-m", "shopsense.cli", "--home", str(home), "ingest", "events",
           str(src), "--json"]
    env = {**os.environ, "SHOPSENSE_INGEST__BATCH_SIZE": "2000"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    db = home / "shop.db"
    deadline = time.time() + 60
    while time.time() < deadline:  # wait until some batches are committed, then kill -9
        if db.exists():
            count = open_store(f"sqlite:///{db}").count_events()
            if count >= 4000:
                break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 15
    while _processes_mentioning(str(home)) and time.time() < deadline:
        time.sleep(0.1)
    assert _processes_mentioning(str(home)) == []  # the forked reader exits with its writer
    partial = open_store(f"sqlite:///{db}").count_events()
    assert 0 < partial < n
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    report = json.loads(out.stdout)
    assert report["accepted"] + report["duplicates"] == n
    assert report["accepted"] == n - partial
    assert open_store(f"sqlite:///{db}").count_events() == n


def test_two_process_path_matches_the_single_process_path(tmp_path: Path, monkeypatch) -> None:
    import shopsense.ingest.pipeline as pipeline

    rows = [{"user_id": f"u{i % 7}", "item_id": f"i{i % 11}", "event_type": "view",
             "timestamp": 1_700_000_000 + i} for i in range(3000)]
    rows[10] = {"user_id": "u1", "item_id": "i1", "event_type": "teleport", "timestamp": 1}
    rows[2500] = {"item_id": "i1", "event_type": "view", "timestamp": 1}
    path = tmp_path / "e.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    single = open_store("memory://")
    expected = _ingest(path, "events", single, tmp_path / "a", batch_size=500)
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_BYTES", 0)
    double = open_store("memory://")
    got = _ingest(path, "events", double, tmp_path / "b", batch_size=500)
    assert (got.accepted, got.rejected, got.duplicates, got.rows) == (
        expected.accepted, expected.rejected, expected.duplicates, expected.rows) == (
        2998, 2, 0, 3000)
    assert list(single.iter_events()) == list(double.iter_events())
    lines = sorted(json.loads(x)["line"] for x in Path(got.rejects_file).open())
    assert lines == [11, 2501]
    again = _ingest(path, "events", double, tmp_path / "c", batch_size=500)
    assert (again.accepted, again.duplicates) == (0, 2998)
