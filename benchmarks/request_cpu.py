"""CPU of one search (and one recommendation miss), in process, over a demo home with trained models (no HTTP): how much of
the service benchmark's CPU a request (benchmarks/serve.py) the search pipeline itself takes.

Loads the home as `shopsense serve` does, then for each case runs `--warm` searches (so the
query stages a server would have cached are cached) and times `--n` more with
`time.process_time()`: cached demo queries (the demo's 89 hand-written queries, uniformly),
anonymous and personalised (a shopper of the demo, as a request with her token is), the
demo's search log with its logged frequencies (a long tail: part of them cold), the log's
tail past the 2,000 queries a server warms (every stage cold; the query vectors encoded ahead
as a server has them) and the same searches again (warm stages), and for-you lists of
shoppers who just acted (each list recomputed, as after an event). No background warming
runs meanwhile (its thread's CPU would be counted). Prints a table and writes JSON; `--profile FILE` also writes a cProfile of the personalised case.

    python benchmarks/request_cpu.py [--home benchmarks/.serve-home] [--n 1000] [--warm 1500]
                                     [--out results/request_cpu.json] [--profile FILE]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

PARAMS = {"category": None, "brand": [], "price_min": None, "price_max": None,
          "available": None, "attributes": {}}


def open_shop(home: Path) -> Any:
    from shopsense.cli.home import open_home
    from shopsense.config import Settings
    from shopsense.pipeline.shop import Shop
    from shopsense.training.adopt import start_models

    # no background warming: `start_models` would start it on a thread of its own, whose CPU
    # `time.process_time()` counts and which takes the GIL from the calls timed here (until
    # session 11 it inflated every figure below: cold 14.7 ms against 9.2 without it)
    base = Settings()
    cfg = base.model_copy(update={
        "home": home,
        "search": base.search.model_copy(update={"warm_queries": 0, "query_vectors": 0}),
        "serve": base.serve.model_copy(update={"warm_shoppers": 0})})
    shop = Shop(cfg, open_home(cfg))
    if not start_models(shop, {}):
        raise SystemExit(f"{home} has no trained models: run `shopsense demo run` there first")
    return shop


def run_case(shop: Any, data: dict[str, list], personal: bool, n: int, warm: int,
             seed: int = 1, profile: Path | None = None) -> dict[str, float]:
    from shopsense.pipeline import surfaces

    rng = random.Random(seed)
    users = data["users"][:300]
    hits = 0

    def one() -> bool:
        query = rng.choices(data["queries"], cum_weights=data["cum_weights"])[0]
        body = surfaces.search(shop, query, user=rng.choice(users) if personal else None,
                               session=None, k=10, page=1, sort="relevance", understand=True,
                               drops=[], params=PARAMS, lang=None)
        return "stage_cache_hit" in body.get("timings_ms", {})

    for _ in range(warm):
        one()
    profiler = cProfile.Profile() if profile else None
    started = time.process_time()
    if profiler:
        profiler.enable()
    for _ in range(n):
        hits += one()
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    return {"cpu_ms_per_search": round((time.process_time() - started) * 1000 / n, 3),
            "stage_cache_hit_rate": round(hits / n, 3)}


def run_cold(shop: Any, data: dict[str, list], n: int, seed: int = 7,
             skip_head: int = 2000) -> dict[str, dict[str, float]]:
    """`n` personal searches of distinct log queries past the `skip_head` most searched (the
    ones a server warms), their vectors encoded ahead as a server has them: cold stages; then
    the same searches again (their stages cached: warm)."""
    from shopsense.pipeline import surfaces

    rng = random.Random(seed)
    users = data["users"][:300]
    queries = rng.sample(data["queries"][skip_head:], n + 50)
    shop.models.search.retriever.warm_query_vectors(queries, 256)

    def one(query: str) -> None:
        surfaces.search(shop, query, user=rng.choice(users), session=None, k=10, page=1,
                        sort="relevance", understand=True, drops=[], params=PARAMS, lang=None)

    for query in queries[:50]:  # lazy parts (word lists, the first encodings) out of the way
        one(query)
    out = {}
    for case in ("cold", "warm"):
        started = time.process_time()
        for query in queries[50:]:
            one(query)
        out[case] = {"cpu_ms_per_search": round((time.process_time() - started) * 1000 / n, 3),
                     "stage_cache_hit_rate": 0.0 if case == "cold" else 1.0}
    return out


def run_recommend(shop: Any, data: dict[str, list], n: int, seed: int = 1,
                  profile: Path | None = None) -> dict[str, float]:
    """For-you lists of shoppers who just acted (their cached list dropped, as an event
    drops it): the recommendation miss the service benchmark's events cause."""
    from shopsense.pipeline import surfaces

    rng = random.Random(seed)
    users = data["users"][:300]
    actors = {u: shop.actor(u, None) for u in users}
    profiler = cProfile.Profile() if profile else None
    spent = 0.0
    for i in range(n + 50):  # the first 50 warm the models' lazy parts
        user = rng.choice(users)
        shop.invalidate([actors[user]])
        started = time.process_time()
        if profiler and i >= 50:
            profiler.enable()
        surfaces.recommend(shop, user=user, session=None, k=10)
        if profiler:
            profiler.disable()
        if i >= 50:
            spent += time.process_time() - started
    if profiler:
        profiler.dump_stats(profile)
    return {"cpu_ms_per_search": round(spent * 1000 / n, 3), "stage_cache_hit_rate": 0.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=Path("benchmarks/.serve-home"))
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--warm", type=int, default=1500)
    parser.add_argument("--out", type=Path, default=Path("results/request_cpu.json"))
    parser.add_argument("--profile", type=Path, default=None)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.path.insert(0, str(Path(__file__).parent))
    from serve import workload

    shop = open_shop(args.home)
    cases = {"demo queries, anonymous": ("demo", False), "demo queries, personal": ("demo", True),
             "search log, personal": ("log", True)}
    rows = {}
    for name, (source, personal) in cases.items():
        profile = args.profile if name == "demo queries, personal" else None
        rows[name] = run_case(shop, workload(args.home, source), personal, args.n, args.warm,
                              profile=profile)
    tail = run_cold(shop, workload(args.home, "log"), min(args.n, 2000))
    rows["search log tail, personal, cold stage"] = tail["cold"]
    rows["the same searches again (warm stage)"] = tail["warm"]
    rows["for you, just acted (miss)"] = run_recommend(
        shop, workload(args.home, "demo"), args.n,
        profile=args.profile.with_suffix(".recommend") if args.profile else None)
    table = Table(title=f"search CPU in process, {args.n} searches after {args.warm} warm")
    for column in ("case", "CPU ms / call", "stage cache hits"):
        table.add_column(column)
    for name, row in rows.items():
        table.add_row(name, f"{row['cpu_ms_per_search']:.2f}", f"{row['stage_cache_hit_rate']:.0%}")
    Console().print(table)
    out = {"cases": rows, "load_avg": os.getloadavg(), "config": {k: str(v) for k, v in
                                                                   vars(args).items()},
           "at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
