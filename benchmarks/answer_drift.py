"""How far a cached for-you list drifts from a fresh one while *other* shoppers act: what
`serve.answer_cache_ttl_s` trades (a shopper's own events, dismissals, catalogue edits, model
swaps and erasures drop their cached list at once; only drift from others is bounded by the TTL).

Loads a demo home with trained models as `shopsense serve` does (online updates wired: other
shoppers' events reach the co-visits and session state at once), computes the for-you lists of
`--watch` shoppers, records events of the *other* shoppers (views / clicks / carts of random
items, as benchmarks/serve.py sends them) in steps, and after each step recomputes the
watched lists from scratch and compares them with the first: overlap@10 and the share whose
first item is unchanged. The events are written into the home: run it on a copy.

    python benchmarks/answer_drift.py --home COPY [--watch 300] [--steps 2400 18000]
                                      [--out benchmarks/results/answer_drift.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from request_cpu import open_shop
from serve import workload


def lists(shop: Any, watch: list[str]) -> dict[str, list[str]]:
    from shopsense.pipeline import surfaces

    shop.answers.clear()  # recomputed, not read back
    return {u: [r["item_id"] for r in surfaces.recommend(shop, user=u, session=None,
                                                         k=10)["results"]] for u in watch}


def compare(before: dict[str, list[str]], after: dict[str, list[str]]) -> dict[str, float]:
    n = max(len(before), 1)
    overlap = sum(len(set(before[u]) & set(after[u])) / max(len(before[u]), 1)
                  for u in before) / n
    first = sum(before[u][:1] == after[u][:1] for u in before) / n
    return {"overlap_at_10": round(overlap, 4), "same_first_item": round(first, 4)}


def record(shop: Any, others: list[str], items: list[str], n: int, rng: random.Random) -> None:
    for start in range(0, n, 100):
        shop.record_events([{"user_id": rng.choice(others), "item_id": rng.choice(items),
                             "event_type": rng.choice(["view", "view", "click", "cart"]),
                             "platform": "web", "timestamp": time.time()}
                            for _ in range(min(100, n - start))])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--watch", type=int, default=300)
    parser.add_argument("--steps", type=int, nargs="+", default=[2400, 18000],
                        help="cumulative events of other shoppers after which to compare")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/answer_drift.json"))
    args = parser.parse_args()
    from shopsense.training.adopt import wire_online_updates

    shop = open_shop(args.home)
    wire_online_updates(shop)
    data = workload(args.home, "demo")
    rng = random.Random(args.seed)
    watch = rng.sample(data["users"], min(args.watch, len(data["users"])))
    watched = set(watch)
    others = [u for u in data["users"] if u not in watched]
    first = lists(shop, watch)
    rows = [{"events_of_others": 0, **compare(first, lists(shop, watch))}]  # recompute noise
    done = 0
    for step in sorted(args.steps):
        record(shop, others, data["items"], step - done, rng)
        done = step
        rows.append({"events_of_others": step, **compare(first, lists(shop, watch))})
    table = Table(title=f"for-you drift of {len(watch)} shoppers while others act")
    for col in rows[0]:
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(*(str(v) for v in r.values()))
    Console().print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"rows": rows, "watch": len(watch), "home": str(args.home),
                                    "at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())},
                                   indent=2))


if __name__ == "__main__":
    main()
