"""Ingest benchmark: N events from CSV into a fresh SQLite store via the real CLI.

Runs each size in a child process and reports events/s and the peak RSS of the child (and
of the reader process it forks), so the figure includes interpreter start-up, validation,
pseudonymisation, commits and the index rebuild; the 1-minute load average before and after
each run is recorded beside it (the benchmark machine is shared).

    python benchmarks/ingest.py [--sizes 200000 1000000] [--out benchmarks/results/ingest.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

EVENT_TYPES = ["view", "view", "view", "click", "cart", "purchase", "search", "dismiss"]


def write_events(path: Path, n: int) -> None:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["event_id", "user_id", "session_id", "item_id", "event_type", "query",
                    "value", "platform", "timestamp"])
        for i in range(n):
            etype = EVENT_TYPES[i % len(EVENT_TYPES)]
            w.writerow([f"e{i}", f"user{i % 50_000}", f"sess{i // 7}",
                        "" if etype == "search" else f"item{(i * 7919) % 200_000}", etype,
                        "running shoes" if etype == "search" else "",
                        "59.9" if etype == "purchase" else "", "web" if i % 3 else "app",
                        1_700_000_000 + i])


def run_one(n: int, workdir: Path) -> dict[str, float]:
    src = workdir / f"events_{n}.csv"
    write_events(src, n)
    home = workdir / f"home_{n}"
    cmd = [sys.executable, "-m", "shopsense.cli", "--home", str(home), "ingest", "events",
           str(src), "--json"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, check=True,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    report = json.loads(out.stdout)
    if report["accepted"] != n:
        raise SystemExit(f"expected {n} accepted, got {report}")
    return {"events": n, "seconds": round(seconds, 2), "events_per_s": round(n / seconds),
            "peak_rss_mb": round(max(peak_kb, before) / 1024, 1),
            "file_mb": round(src.stat().st_size / 2**20, 1),
            "load_avg_1m": f"{load_before:.2f} -> {os.getloadavg()[0]:.2f}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[200_000, 1_000_000])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/ingest.json"))
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sorted(args.sizes):
            rows.append(run_one(n, Path(tmp)))
    table = Table(title="ingest events (CSV -> SQLite via the CLI, incl. start-up)")
    for col in rows[0]:
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(*(str(v) for v in r.values()))
    Console().print(table)
    result = {"benchmark": "ingest", "machine": f"{platform.node()} {os.cpu_count()} cpus",
              "python": platform.python_version(), "runs": rows,
              "target": {"events_per_s": 50_000, "peak_rss_mb": 500}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
