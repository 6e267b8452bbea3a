"""Reader benchmark: rows/s of `iter_rows` per format, peak memory on a long file, and the
public-data converters' speed on ../shared/data.

Each measurement runs in a child process (one thread), so its peak RSS is its own. On a shared
machine wall-clock rates drop with the load; rows per CPU-second is the steadier figure.

    python benchmarks/readers.py [--rows 1000000] [--long-rows 10000000]
                                 [--out benchmarks/results/readers.json]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import zstandard
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO / ".." / "shared" / "data"
HEADER = ["event_id", "user_id", "item_id", "event_type", "platform", "timestamp"]
TYPES = ["view", "view", "click", "cart", "purchase"]

# Peak RSS from VmHWM: unlike ru_maxrss it is not inherited from the forking parent.
_CHILD = """
import re, sys, time
from shopsense.ingest.readers import RowReader
start, cpu = time.perf_counter(), time.process_time()
reader = RowReader(sys.argv[1])
rows = sum(1 for _ in reader)
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
hwm = re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1)
print(rows, seconds, cpu, hwm, reader.bytes_read)
"""


def _records(n: int, first: int = 0):
    for i in range(first, first + n):
        yield [f"e{i}", f"user{i % 50_000}", f"item{(i * 7919) % 200_000}", TYPES[i % 5],
               "web", str(1_700_000_000 + i)]


def write_file(path: Path, n: int) -> None:
    """Write n event rows in the format / compression named by path's suffixes."""
    name = path.name
    if name.endswith(".parquet"):
        schema = pa.schema([(h, pa.string()) for h in HEADER])
        with pq.ParquetWriter(path, schema) as writer:
            for start in range(0, n, 100_000):  # row groups of 100k rows
                chunk = list(zip(*_records(min(100_000, n - start), start), strict=True))
                writer.write_table(pa.table(dict(zip(HEADER, chunk, strict=True)), schema))
        return
    if name.endswith(".gz"):
        raw = gzip.open(path, "wb", compresslevel=1)
    elif name.endswith(".zst"):
        raw = zstandard.open(path, "wb", cctx=zstandard.ZstdCompressor(level=1))
    else:
        raw = open(path, "wb")
    with raw as out:
        if ".jsonl" in name:
            for r in _records(n):
                out.write(orjson.dumps(dict(zip(HEADER, r, strict=True))) + b"\n")
        else:
            import io

            text = io.TextIOWrapper(out, encoding="utf-8", newline="")
            writer = csv.writer(text, delimiter="\t" if ".tsv" in name else ",",
                                lineterminator="\n")
            writer.writerow(HEADER)
            writer.writerows(_records(n))
            text.flush()
            text.detach()


def read_in_child(path: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True,
                         text=True, check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    rows, seconds, cpu, rss_kb, bytes_read = out.stdout.split()
    return {"rows": int(rows), "wall_s": round(float(seconds), 2),
            "rows_per_s": round(int(rows) / float(seconds)),
            "rows_per_cpu_s": round(int(rows) / float(cpu)),
            "peak_rss_mb": round(int(rss_kb) / 1024, 1),
            "file_mb": round(path.stat().st_size / 2**20, 1),
            "progress_end_ok": int(bytes_read) == path.stat().st_size}


def converters() -> list[dict[str, object]]:
    from shopsense.ingest.public import convert

    runs = []
    for layout, folder in [("amazon-5core", "amazon-beauty-p5-titles"),
                           ("movielens", "movielens-100k"),
                           ("homedepot", "homedepot-search-relevance"),
                           ("diginetica", "diginetica-sample-srgnn")]:
        with tempfile.TemporaryDirectory() as tmp:
            summary = convert(layout, SHARED / folder, Path(tmp))
        rows = sum(summary["files"].values())
        runs.append({"layout": layout, "rows": rows, "seconds": summary["seconds"],
                     "rows_per_s": round(rows / max(summary["seconds"], 1e-9))})
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--long-rows", type=int, default=10_000_000,
                        help="rows of the long .csv.zst file for the flat-memory check (0: skip)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/results/readers.json")
    args = parser.parse_args()
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("events.csv", "events.tsv", "events.jsonl", "events.csv.gz",
                     "events.jsonl.zst", "events.parquet"):
            path = Path(tmp) / name
            write_file(path, args.rows)
            runs.append({"file": name, **read_in_child(path)})
            path.unlink()
        if args.long_rows:
            path = Path(tmp) / "long.csv.zst"
            write_file(path, args.long_rows)
            runs.append({"file": path.name, **read_in_child(path)})
    table = Table(title=f"iter_rows, one process, one thread ({platform.node()})")
    for col in runs[0]:
        table.add_column(col, justify="right")
    for r in runs:
        table.add_row(*(str(v) for v in r.values()))
    Console().print(table)
    conv = converters()
    table = Table(title="public-data converters -> JSONL (../shared/data)")
    for col in conv[0]:
        table.add_column(col, justify="right")
    for r in conv:
        table.add_row(*(str(v) for v in r.values()))
    Console().print(table)
    result = {"benchmark": "readers", "machine": f"{platform.node()} {os.cpu_count()} cpus",
              "python": platform.python_version(), "when": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                        time.gmtime()),
              "readers": runs, "converters": conv, "target": {"csv_rows_per_s": 200_000}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
