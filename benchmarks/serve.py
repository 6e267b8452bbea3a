"""Load benchmark of the HTTP service over the demo store, on loopback.

Starts `shopsense demo run` (a real uvicorn server) in a child process over a data home,
waits for the models, then runs N concurrent clients for a duration with the mix
search 60% / recommend 30% / events 10%. Reports per-endpoint QPS, p50/p99 and errors, the
server's RSS before and after, and event-to-effect latency (an event for a fresh session,
then /v1/recommend polled until it changes).

    python benchmarks/serve.py [--home DIR] [--clients 50] [--seconds 60] [--out ...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import psutil
from rich.console import Console
from rich.table import Table

MIX = (("search", 0.6), ("recommend", 0.3), ("events", 0.1))


def start_server(home: Path, port: int, extra: tuple[str, ...] = ()) -> subprocess.Popen[bytes]:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "shopsense.cli", "--home", str(home), "demo",
                             "run", "--port", str(port), *extra], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 900
    while time.time() < deadline:
        try:
            if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise SystemExit("server exited during start-up")
        time.sleep(1)
    raise SystemExit("server not ready after 15 minutes")


def workload(home: Path) -> tuple[list[str], list[str], list[str]]:
    queries = [json.loads(x)["query"] for x in (home / "demo" / "queries.jsonl").open()]
    users, items = set(), set()
    with (home / "demo" / "events.jsonl").open() as fh:
        for i, line in enumerate(fh):
            row = json.loads(line)
            if row.get("user_id"):
                users.add(row["user_id"])
            if row.get("item_id"):
                items.add(row["item_id"])
            if i > 50_000:
                break
    return queries, sorted(users), sorted(items)


async def client_loop(http: httpx.AsyncClient, stop: float, data: tuple, rng: random.Random,
                      stats: dict[str, list[float]], errors: dict[str, int]) -> None:
    queries, users, items = data
    names, weights = zip(*MIX, strict=True)
    while time.perf_counter() < stop:
        kind = rng.choices(names, weights)[0]
        start = time.perf_counter()
        try:
            if kind == "search":
                r = await http.get("/v1/search", params={"q": rng.choice(queries),
                                                         "user": rng.choice(users), "k": 10})
            elif kind == "recommend":
                r = await http.get("/v1/recommend", params={"user": rng.choice(users), "k": 10})
            else:
                r = await http.post("/v1/events", json={
                    "user_id": rng.choice(users), "item_id": rng.choice(items),
                    "event_type": rng.choice(["view", "view", "click", "cart"]), "platform": "web"})
            ok = r.status_code == 200
        except httpx.HTTPError:
            ok = False
        stats[kind].append(time.perf_counter() - start)
        if not ok:
            errors[kind] += 1


async def event_to_effect(http: httpx.AsyncClient, items: list[str], trials: int = 10) -> list[float]:
    delays = []
    for t in range(trials):
        session = f"bench-fresh-{t}-{time.time()}"
        before = (await http.get("/v1/recommend", params={"session": session})).json()
        start = time.perf_counter()
        await http.post("/v1/events", json={"session_id": session, "item_id": items[t * 7],
                                            "event_type": "view"})
        while time.perf_counter() - start < 5:
            after = (await http.get("/v1/recommend", params={"session": session})).json()
            if after["results"] != before["results"]:
                break
        delays.append(time.perf_counter() - start)
    return delays


async def run(base: str, key: str, clients: int, seconds: float, data: tuple) -> dict:
    stats = {name: [] for name, _ in MIX}
    errors = {name: 0 for name, _ in MIX}
    limits = httpx.Limits(max_connections=clients + 5)
    async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": key}, timeout=30,
                                 limits=limits) as http:
        stop = time.perf_counter() + seconds
        await asyncio.gather(*(client_loop(http, stop, data, random.Random(i), stats, errors)
                               for i in range(clients)))
        effect = await event_to_effect(http, data[2])
    return {"stats": stats, "errors": errors, "effect": effect}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, default=Path("benchmarks/.serve-home"))
    parser.add_argument("--port", type=int, default=8799)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/serve.json"))
    parser.add_argument("--no-train", action="store_true",
                        help="Serve the models on disk (or the quick ones) without training.")
    args = parser.parse_args()
    proc = start_server(args.home, args.port, ("--no-train",) if args.no_train else ())
    try:
        server = psutil.Process(proc.pid)
        rss_before = server.memory_info().rss / 2**20
        key = (args.home / "public-key.txt").read_text().strip()
        result = asyncio.run(run(f"http://127.0.0.1:{args.port}", key, args.clients,
                                 args.seconds, workload(args.home)))
        rss_after = server.memory_info().rss / 2**20
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    rows = []
    total = 0
    for name, lat in result["stats"].items():
        arr = np.asarray(lat) * 1000
        total += len(arr)
        rows.append({"endpoint": name, "requests": len(arr), "qps": round(len(arr) / args.seconds, 1),
                     "p50_ms": round(float(np.percentile(arr, 50)), 1) if len(arr) else None,
                     "p99_ms": round(float(np.percentile(arr, 99)), 1) if len(arr) else None,
                     "errors": result["errors"][name]})
    table = Table(title=f"{args.clients} clients, {args.seconds:.0f} s, loopback, one server process")
    for col in rows[0]:
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(*(str(v) for v in r.values()))
    console = Console()
    console.print(table)
    effect = result["effect"]
    summary = {"total_qps": round(total / args.seconds, 1),
               "event_to_effect_s": {"max": round(max(effect), 3),
                                     "median": round(float(np.median(effect)), 3)},
               "rss_mb": {"before": round(rss_before, 1), "after": round(rss_after, 1)},
               "cpus": os.cpu_count(), "load_avg": os.getloadavg()}
    console.print(summary)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"endpoints": rows, **summary,
                                    "targets": {"search_p99_ms": 50, "recommend_p99_ms": 30,
                                                "total_qps": 300, "errors": 0,
                                                "event_to_effect_s": 1.0}}, indent=2))


if __name__ == "__main__":
    main()
