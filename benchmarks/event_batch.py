"""How long one POST /v1/events batch holds whoever runs it: `Shop.record_events` (validation,
pseudonyms, the SQLite commit, the online model updates) timed in process over a small demo
shop with the service's quick models, for batches of 1 to 1,000 events. The server commits
batches of at most `serve.events_inline_max` rows (default 50) on its event loop and larger
ones on a worker thread: this says what a batch would hold the loop for. Table + JSON.

    python benchmarks/event_batch.py [--reps 7] [--out results/event_batch.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 50, 100, 1000])
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results/event_batch.json")
    args = ap.parse_args()
    from conftest import build_demo_shop  # the tests' small demo: real generator and ingest

    shop = build_demo_shop(Path(tempfile.mkdtemp(prefix="event-batch-")) / "home")
    items = [p.item_id for p in shop.models.search.table.products_[:200]]
    rows = []
    for n in args.sizes:
        wall, cpu = [], []
        for rep in range(args.reps):
            now = datetime.now(UTC).isoformat()
            events = [{"user_id": f"bench{rep}-{i % 50}", "session_id": f"s{rep}-{i % 70}",
                       "item_id": items[i % len(items)], "event_type": "view",
                       "timestamp": now} for i in range(n)]
            w, c = time.perf_counter(), time.process_time()
            shop.record_events(events)
            wall.append((time.perf_counter() - w) * 1000)
            cpu.append((time.process_time() - c) * 1000)
        rows.append({"events": n, "wall_ms_median": statistics.median(wall),
                     "cpu_ms_median": statistics.median(cpu), "wall_ms_max": max(wall)})
    table = Table(title="Shop.record_events, one batch (median of reps)")
    for col in ("events", "wall ms", "CPU ms", "wall ms max"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(str(r["events"]), f"{r['wall_ms_median']:.1f}", f"{r['cpu_ms_median']:.1f}",
                      f"{r['wall_ms_max']:.1f}")
    Console().print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"reps": args.reps, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
