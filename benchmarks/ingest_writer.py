"""Writer-side ingest benchmark: does the SQLite write rate hold as the events table grows?

Validates N synthetic events (the same file as benchmarks/ingest.py) batch by batch in one
process and times only the store: `add_event_rows` per batch inside `bulk_writes()`, then
leaving it (index rebuild + final checkpoint). Reports the rate per tenth of the load, the
WAL's largest size, and the end cost, with the secondary indexes deferred (the default) or
maintained row by row (`--keep-indexes`, the behaviour before deferral).

    python benchmarks/ingest_writer.py [--events 1000000] [--batch-size 5000] [--keep-indexes]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

import shopsense.store.sqlite as sqlite_store
from ingest import write_events
from shopsense.ids import Pseudonymizer
from shopsense.ingest.readers import RowReader
from shopsense.ingest.validate import validate_event_fields


def _batches(path: Path, size: int) -> Iterator[list[tuple[Any, ...]]]:
    ids = Pseudonymizer(b"benchmark-secret-0123456789abcdef")
    batch: list[tuple[Any, ...]] = []
    for _, row in RowReader(path):
        batch.append(validate_event_fields(row, ids))
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def run(n: int, batch_size: int, keep_indexes: bool, workdir: Path) -> dict[str, object]:
    src = workdir / "events.csv"
    write_events(src, n)
    db = workdir / "shop.db"
    if keep_indexes:
        sqlite_store.DEFER_INDEXES_MIN_ROWS = sys.maxsize
    store = sqlite_store.SqliteStore(str(db))
    wal = Path(f"{db}-wal")
    slice_rows, slice_count, slice_seconds, rates = max(1, n // 10), 0, 0.0, []
    store_seconds, wal_peak = 0.0, 0
    load_before = os.getloadavg()[0]
    with store.bulk_writes():
        for batch in _batches(src, batch_size):
            start = time.perf_counter()
            store.add_event_rows(batch)
            spent = time.perf_counter() - start
            store_seconds += spent
            slice_seconds += spent
            slice_count += len(batch)
            wal_peak = max(wal_peak, wal.stat().st_size if wal.exists() else 0)
            if slice_count >= slice_rows:
                rates.append(round(slice_count / slice_seconds))
                slice_count, slice_seconds = 0, 0.0
        start = time.perf_counter()
    end_seconds = time.perf_counter() - start  # index rebuild (if deferred) + checkpoint
    if store.count_events() != n:
        raise SystemExit(f"expected {n} events stored, got {store.count_events()}")
    store.close()
    total = store_seconds + end_seconds
    return {"events": n, "batch_size": batch_size,
            "indexes": "maintained" if keep_indexes else "deferred",
            "rate_per_tenth": rates, "wal_peak_mb": round(wal_peak / 2**20),
            "insert_seconds": round(store_seconds, 2), "end_seconds": round(end_seconds, 2),
            "events_per_s": round(n / total),
            "load_avg_1m": f"{load_before:.2f} -> {os.getloadavg()[0]:.2f}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--keep-indexes", action="store_true",
                        help="maintain the secondary indexes row by row (no deferral)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.events < 10 or args.batch_size < 1:
        raise SystemExit("--events must be >= 10 and --batch-size >= 1")
    with tempfile.TemporaryDirectory() as tmp:
        result = run(args.events, args.batch_size, args.keep_indexes, Path(tmp))
    table = Table(title="ingest writer (pre-validated events -> SQLite, one process)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in result.items():
        table.add_row(key, str(value))
    Console().print(table)
    out = args.out or Path(f"benchmarks/results/ingest_writer_{result['indexes']}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"benchmark": "ingest_writer", "python": platform.python_version(),
                               "machine": f"{platform.node()} {os.cpu_count()} cpus",
                               **result}, indent=2))


if __name__ == "__main__":
    main()
