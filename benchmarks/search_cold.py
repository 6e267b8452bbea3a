"""CPU of a search the stage cache does not hold, with and without its query vector encoded
ahead (`search.query_vectors`), in process over a demo home with trained models.

Queries from the demo's search log beyond its `--skip` most searched (the warmed stages
hold those) are shuffled and split into two disjoint halves of `--n`: one is searched
cold (stage cache and vectors cleared), the other after `warm_vectors` encoded its vectors
in batches, as a server does after loading models. `--rounds` alternates which half is
which, so the two halves' own difficulty cancels. Prints a table and writes JSON.

    python benchmarks/search_cold.py [--home benchmarks/.serve-home] [--n 300] [--rounds 2]
                                     [--out benchmarks/results/search_cold.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from request_cpu import PARAMS, open_shop


def tail_queries(home: Path, skip: int, seed: int) -> list[str]:
    counts: Counter[str] = Counter()
    with (home / "demo" / "events.jsonl").open() as fh:
        for line in fh:
            query = json.loads(line).get("query")
            if query:
                counts[query] += 1
    tail = [q for q, _ in counts.most_common()][skip:]
    random.Random(seed).shuffle(tail)
    return tail


def cpu_ms_per_search(shop: Any, queries: list[str]) -> float:
    from shopsense.pipeline import surfaces

    started = time.process_time()
    for query in queries:
        surfaces.search(shop, query, k=10, page=1, sort="relevance", understand=True,
                        drops=[], params=PARAMS, lang=None)
    return (time.process_time() - started) * 1000 / max(len(queries), 1)


def one_round(shop: Any, cold: list[str], ahead: list[str]) -> dict[str, float]:
    engine = shop.models.search
    engine.clear_caches()
    cold_ms = cpu_ms_per_search(shop, cold)
    engine.clear_caches()
    saved = engine.top_queries_
    started = time.process_time()
    engine.top_queries_ = ahead
    engine.warm_vectors(len(ahead))
    encode_ms = (time.process_time() - started) * 1000 / max(len(ahead), 1)
    engine.top_queries_ = saved
    engine.stages_.clear()
    ahead_ms = cpu_ms_per_search(shop, ahead)
    return {"cold_ms": round(cold_ms, 2), "vectors_ahead_ms": round(ahead_ms, 2),
            "ratio": round(ahead_ms / cold_ms, 3), "encode_ahead_ms": round(encode_ms, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, default=Path("benchmarks/.serve-home"))
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--skip", type=int, default=2000, help="the warmed most searched")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/search_cold.json"))
    args = parser.parse_args()
    shop = open_shop(args.home)
    shop.models.search.warm(0)  # the one-off loads (encoder, word list) outside the timing
    tail = tail_queries(args.home, args.skip, seed=1)
    if len(tail) < 2 * args.n:
        raise SystemExit(f"{args.home}'s log has {len(tail)} queries past the first "
                         f"{args.skip}; ask for --n {len(tail) // 2} or fewer")
    halves = tail[:args.n], tail[args.n:2 * args.n]
    rounds = [one_round(shop, *(halves if r % 2 == 0 else halves[::-1]))
              for r in range(args.rounds)]
    table = Table(title="CPU ms per cold search (stage not cached), in process")
    for column in ("round", "cold", "vector encoded ahead", "ratio", "encoding ahead / query"):
        table.add_column(column, justify="right")
    for i, r in enumerate(rounds):
        table.add_row(str(i + 1), f"{r['cold_ms']:.2f}", f"{r['vectors_ahead_ms']:.2f}",
                      f"{r['ratio']:.3f}", f"{r['encode_ahead_ms']:.2f}")
    Console().print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"home": str(args.home), "n": args.n, "skip": args.skip,
                                    "rounds": rounds}, indent=2))


if __name__ == "__main__":
    main()
