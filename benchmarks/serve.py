"""Load benchmark of the HTTP service over the demo store, on loopback.

Starts `shopsense demo run` (a real uvicorn server, `--workers N` processes) in a child
process over a data home, waits until the trained models serve, then runs N concurrent
clients for a duration with the mix search 60 % / recommend 30 % / events 10 %.

Queries are drawn from the demo store's own search log with their logged frequencies (a
realistic head and tail: 10k distinct queries), shoppers from its 1,200 users (each request
carries its shopper's token, as the storefront's cookie does), items from its events. With
`--rate R` the clients together offer R requests/s (each client paced by a
Poisson process; a request's latency counts from when it was *due*, so a server that falls
behind is charged for the queueing it causes: no coordinated omission); `--rate 0` runs the
clients closed-loop (each sends as soon as its previous answer arrives: the capacity test).

Reports per-endpoint QPS and p50 / p99 as the clients saw them and as the server's handlers
took them (its `Server-Timing` header), errors, requests per worker, the server's RSS (all its
processes) before and after, its CPU use, the client's own CPU and send lag, and
event-to-effect latency (an event for a fresh session, then /v1/recommend polled until it
changes). Prints a table and writes JSON.

    python benchmarks/serve.py [--home DIR] [--clients 50] [--seconds 60] [--rate 300]
                               [--workers 2] [--no-train] [--out results/serve.json]
                               [--raw results/serve-raw.json]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import random
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import loadgen
import numpy as np
import psutil
from rich.console import Console

MIX = (("search", 0.6), ("recommend", 0.3), ("events", 0.1))  # --mix changes it
TARGETS = {"search_p99_ms": 50, "recommend_p99_ms": 30, "total_qps": 300, "errors": 0,
           "event_to_effect_s": 1.0}


def start_server(home: Path, port: int, workers: int, train: bool,
                 rate_limit: float) -> subprocess.Popen[bytes]:
    # all clients here are one address: the per-client limits (benchmarks/abuse.py) are off
    env = {"SHOPSENSE_SERVE__RATE_LIMIT_PER_S": str(rate_limit), **loadgen.NO_CLIENT_LIMITS}
    extra = ["--workers", str(workers)] + ([] if train else ["--no-train"])
    return loadgen.start_server(home, ["demo", "run", "--port", str(port), *extra], env,
                                home.parent / f"{home.name}.serve.log",
                                lambda ready: _serving_trained(ready, home), port,
                                timeout_s=1800)


def _serving_trained(ready: httpx.Response, home: Path) -> bool:
    """/readyz answers 200 with the version written by the last full training."""
    status = home / "models" / "status.json"
    if ready.status_code != 200 or not status.exists():
        return False
    return ready.json().get("models") == str(json.loads(status.read_text()).get("version"))


def wait_warm(base: str, workers: int, timeout: float = 600) -> float:
    """Seconds until every worker has warmed its caches: query stages, the most recently
    active shoppers' recommendations and the query vectors encoded ahead (/readyz says so)."""
    start, done = time.time(), set()
    while time.time() - start < timeout and len(done) < workers:
        r = httpx.get(base + "/readyz", timeout=5)  # a fresh connection: any worker answers
        body = r.json()
        warm = [body.get("warmed_queries", {}), body.get("warmed_shoppers", {}),
                body.get("warmed_query_vectors", {"done": 0, "of": 0})]
        if r.status_code == 200 and all(w and w.get("done", 0) >= w.get("of", 0) for w in warm):
            done.add(r.headers.get("x-served-by"))
        time.sleep(0.5)
    return round(time.time() - start, 1)


def workload(home: Path, source: str = "log") -> dict[str, list]:
    """Shoppers, items and queries of the demo store. `source`: "log" draws queries from its
    search log with their logged frequencies (10k distinct, long tail); "demo" uniformly from
    the demo's 89 hand-written test queries (demo/queries.jsonl)."""
    queries: Counter[str] = Counter()
    users, items = set(), set()
    with (home / "demo" / "events.jsonl").open() as fh:
        for line in fh:
            row = json.loads(line)
            if row.get("query"):
                queries[row["query"]] += 1
            if row.get("user_id"):
                users.add(row["user_id"])
            if row.get("item_id"):
                items.add(row["item_id"])
    if source == "demo":
        queries = Counter(json.loads(x)["query"] for x in (home / "demo" / "queries.jsonl").open())
        queries = Counter(dict.fromkeys(queries, 1))
    ranked = queries.most_common()
    return {"queries": [q for q, _ in ranked], "weights": [n for _, n in ranked],
            "cum_weights": list(itertools.accumulate(n for _, n in ranked)),
            "users": sorted(users), "items": sorted(items)}


async def shopper_tokens(base: str, admin_key: str, users: list[str]) -> dict[str, str]:
    """Each shopper's token (what the storefront's cookie carries: personalised lists are
    computed only for the shopper whose token the request holds), issued by the admin key."""
    async with aiohttp.ClientSession(base, headers={"X-API-Key": admin_key}) as http:
        async def one(user: str) -> tuple[str, str]:
            async with http.post("/v1/shopper-tokens", json={"user_id": user}) as r:
                return user, (await r.json())["token"]
        tokens: dict[str, str] = {}
        for start in range(0, len(users), 100):
            tokens.update(await asyncio.gather(*(one(u) for u in users[start:start + 100])))
    return tokens


def _request(http: aiohttp.ClientSession, kind: str, data: dict,
             rng: random.Random) -> Any:
    user = rng.choice(data["users"])
    own = {"X-Shopper-Token": data["tokens"][user]}
    if kind == "search":
        query = rng.choices(data["queries"], cum_weights=data["cum_weights"])[0]
        return http.get("/v1/search", params={"q": query, "k": "10", "user": user},
                        headers=own)
    if kind == "recommend":
        return http.get("/v1/recommend", params={"user": user, "k": "10"}, headers=own)
    return http.post("/v1/events", json={
        "user_id": user, "item_id": rng.choice(data["items"]),
        "event_type": rng.choice(["view", "view", "click", "cart"]), "platform": "web",
        "timestamp": time.time()})


async def client_loop(http: aiohttp.ClientSession, stop: float, rate: float, data: dict,
                      rng: random.Random, seen: dict[str, loadgen.Timed],
                      lag: list[float] | None = None) -> None:
    """One client: the MIX at `rate` requests/s (0: closed loop) until `stop`."""
    names, weights = zip(*[(n, w) for n, w in MIX if w > 0], strict=True)
    async for due in loadgen.paced(rate, stop, rng):
        kind = rng.choices(names, weights)[0]
        if lag is not None:  # how late this client sends (its own loop's delay)
            lag.append(1000 * (time.perf_counter() - due))
        await loadgen.timed(_request(http, kind, data, rng), due, seen[kind])


async def event_to_effect(http: aiohttp.ClientSession, items: list[str], admin_key: str,
                          trials: int = 10) -> list[float]:
    delays = []
    for t in range(trials):
        session = f"bench-fresh-{t}-{time.time()}"
        async with http.post("/v1/shopper-tokens", json={"session_id": session},
                             headers={"X-API-Key": admin_key}) as r:
            own = {"X-Shopper-Token": (await r.json())["token"]}
        async with http.get("/v1/recommend", params={"session": session}, headers=own) as r:
            before = (await r.json())["results"]
        start = time.perf_counter()
        async with http.post("/v1/events", json={"session_id": session, "item_id": items[t * 7],
                                                 "event_type": "view",
                                                 "timestamp": time.time()}) as r:
            await r.read()
        while time.perf_counter() - start < 5:
            async with http.get("/v1/recommend", params={"session": session},
                                headers=own) as r:
                if (await r.json())["results"] != before:
                    break
        delays.append(time.perf_counter() - start)
    return delays


async def run(base: str, key: str, clients: int, seconds: float, rate: float,
              data: dict, admin_key: str) -> dict:
    seen = {name: loadgen.Timed() for name, _ in MIX}
    lag: list[float] = []
    connector = aiohttp.TCPConnector(limit=clients + 5)
    timeout = aiohttp.ClientTimeout(total=30)
    per_client = rate / clients if rate else 0
    async with aiohttp.ClientSession(base, headers={"X-API-Key": key}, connector=connector,
                                     timeout=timeout) as http:
        # warm-up: every worker has answered once before the clock starts
        await asyncio.gather(*(client_loop(http, time.perf_counter() + 5, per_client, data,
                                           random.Random(-i),
                                           {n: loadgen.Timed() for n, _ in MIX})
                               for i in range(clients)))
        start = time.perf_counter()
        stop = start + seconds
        await asyncio.gather(*(client_loop(http, stop, per_client, data, random.Random(i),
                                           seen, lag) for i in range(clients)))
        elapsed = time.perf_counter() - start  # until the last answer arrived
        effect = await event_to_effect(http, data["items"], admin_key)
    workers: Counter[str] = Counter()
    for t in seen.values():
        workers.update(t.workers)
    return {"stats": {k: t.latency for k, t in seen.items()},
            "raw": {k: [[round(d - start, 4), round(1000 * lat, 2),
                         None if math.isnan(s) else s]  # no Server-Timing: no handler time
                        for d, lat, s in zip(t.due, t.latency, t.server, strict=True)]
                    for k, t in seen.items()},
            "errors": {k: t.errors for k, t in seen.items()},
            "samples": {k: t.sample for k, t in seen.items() if t.sample},
            "effect": effect, "elapsed": elapsed,
            "served": {**{k: t.server for k, t in seen.items()}, "lag": lag},
            "workers": dict(workers)}


def _tree(pid: int) -> list[psutil.Process]:
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def _rss_mb(pid: int) -> float:
    return sum(p.memory_info().rss for p in _tree(pid)) / 2**20


def _cpu_s(pid: int) -> float:
    return sum(sum(p.cpu_times()[:2]) for p in _tree(pid))


def _pct(values: list[float], q: float) -> float | None:
    arr = np.asarray(values, dtype=np.float64)
    arr = arr[np.isfinite(arr)]
    return round(float(np.percentile(arr, q)), 1) if arr.size else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, default=Path("benchmarks/.serve-home"))
    parser.add_argument("--port", type=int, default=8799)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rate", type=float, default=300.0,
                        help="Requests/s offered by all clients together; 0 = closed loop.")
    parser.add_argument("--workers", type=int, default=2, help="Server worker processes.")
    parser.add_argument("--rate-limit", type=float, default=5000.0,
                        help="The server's per-key limit (all clients share one public key).")
    parser.add_argument("--no-train", action="store_true",
                        help="Serve the models on disk without training (they must exist).")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/serve.json"))
    parser.add_argument("--raw", type=Path,
                        help="Also write every request here: per kind, [due s from the start, "
                             "latency ms, server ms] (benchmarks/serve_queue_model.py reads it).")
    parser.add_argument("--queries", choices=("log", "demo"), default="log",
                        help="log: the demo's search log with its frequencies (10k distinct); "
                             "demo: its 89 hand-written test queries, uniformly.")
    parser.add_argument("--mix", default="search=0.6,recommend=0.3,events=0.1",
                        help="Shares of each request kind (e.g. recommend=1 for one kind).")
    args = parser.parse_args()
    global MIX
    shares = dict(part.split("=") for part in args.mix.split(","))
    MIX = tuple((name, float(shares.get(name, 0))) for name, _ in MIX)
    args.home.parent.mkdir(parents=True, exist_ok=True)
    proc = start_server(args.home, args.port, args.workers, not args.no_train, args.rate_limit)
    try:
        warm_s = wait_warm(f"http://127.0.0.1:{args.port}", args.workers)
        time.sleep(3)  # let start-up work settle
        speed_before = loadgen.speed_check()  # the servers idle, warm
        rss_before = _rss_mb(proc.pid)
        cpu_before, wall_before = _cpu_s(proc.pid), time.perf_counter()
        client_before = time.process_time()
        key = (args.home / "public-key.txt").read_text().strip()
        admin_key = (args.home / "admin-key.txt").read_text().strip()
        base = f"http://127.0.0.1:{args.port}"
        data = workload(args.home, args.queries)
        data["tokens"] = asyncio.run(shopper_tokens(base, admin_key, data["users"]))
        result = asyncio.run(run(base, key, args.clients, args.seconds, args.rate, data,
                                 admin_key))
        wall = time.perf_counter() - wall_before
        server_cpu = (_cpu_s(proc.pid) - cpu_before) / wall
        client_cpu = (time.process_time() - client_before) / wall
        rss_after = _rss_mb(proc.pid)
        speed_after = loadgen.speed_check()
    finally:
        loadgen.stop_server(proc)
    rows, total = [], 0
    for name, lat in result["stats"].items():
        arr = np.asarray(lat) * 1000
        total += len(arr)
        rows.append({"endpoint": name, "requests": len(arr),
                     "qps": round(len(arr) / result["elapsed"], 1),
                     "p50_ms": round(float(np.percentile(arr, 50)), 1) if len(arr) else None,
                     "p99_ms": round(float(np.percentile(arr, 99)), 1) if len(arr) else None,
                     "server_p50_ms": _pct(result["served"][name], 50),
                     "server_p99_ms": _pct(result["served"][name], 99),
                     "errors": result["errors"][name]})
    mode = f"offered {args.rate:.0f} req/s" if args.rate else "closed loop"
    table = loadgen.rows_table(f"{args.clients} clients, {mode}, {args.seconds:.0f} s, "
                               f"loopback, {args.workers} worker process(es)", rows)
    console = Console()
    console.print(table)
    effect = result["effect"]
    summary = {"total_qps": round(total / result["elapsed"], 1),
               "offered_qps": args.rate or None, "elapsed_s": round(result["elapsed"], 1),
               "event_to_effect_s": {"max": round(max(effect), 3),
                                     "median": round(float(np.median(effect)), 3)},
               "rss_mb": {"before": round(rss_before, 1), "after": round(rss_after, 1)},
               "server_cpu_cores": round(server_cpu, 2),
               "server_cpu_ms_per_request": round(1000 * server_cpu * result["elapsed"]
                                                  / max(total, 1), 2),
               "client_cpu_cores": round(client_cpu, 2),
               "requests_per_worker": result["workers"],
               "client_send_lag_ms": {"p50": _pct(result["served"]["lag"], 50),
                                      "p99": _pct(result["served"]["lag"], 99)},
               # a fixed loop's CPU seconds before and after the load (`loadgen.speed_check`):
               # compare runs only where these agree; a client send lag p99 of tens of ms
               # means the whole machine stalled during the run
               "speed_check_s": {"before": speed_before, "after": speed_after},
               "error_samples": result["samples"],
               "config": {"clients": args.clients, "seconds": args.seconds, "rate": args.rate,
                          "workers": args.workers, "rate_limit": args.rate_limit,
                          "queries": {"log": "demo search log, logged frequencies",
                                      "demo": "demo/queries.jsonl (89), uniformly"}[args.queries],
                          "mix": args.mix},
               "warm_up_s": warm_s, "cpus": os.cpu_count(), "load_avg": os.getloadavg(),
               "at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    console.print(summary)
    if args.raw is not None:
        args.raw.parent.mkdir(parents=True, exist_ok=True)
        args.raw.write_text(json.dumps({"rate": args.rate, "workers": args.workers,
                                        "requests": result["raw"]}))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"endpoints": rows, **summary, "targets": TARGETS},
                                   indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
