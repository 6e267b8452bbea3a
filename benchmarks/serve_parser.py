"""Server CPU a request under each HTTP parser (`serve.http_parser`: httptools, h11), over the
demo home, on loopback.

For each parser in turn (and `--rounds` times, alternating, so drift of a shared machine falls
on both) starts `shopsense serve --no-train` (one process) over the home, waits until its
caches are warm, then sends `--n` requests closed-loop from 10 connections: `/healthz` (the
transport and the app's middleware alone) and a cached anonymous search of the demo's
queries. Reports the server process's CPU milliseconds a request (user + system, from
/proc) and the requests a second; prints a table and writes JSON.

    python benchmarks/serve_parser.py [--home benchmarks/.serve-home] [--n 3000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import time
from pathlib import Path

import aiohttp
import loadgen
import psutil
from rich.console import Console
from rich.table import Table

PARSERS = ("h11", "httptools")
UNLIMITED = {"SHOPSENSE_SERVE__RATE_LIMIT_PER_S": "100000", **loadgen.NO_CLIENT_LIMITS}


async def _measure(base: str, key: str, pid: int, queries: list[str], n: int
                   ) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    proc = psutil.Process(pid)
    async with aiohttp.ClientSession(base, headers={"X-API-Key": key}) as http:
        for query in queries:  # every stage cached before the measured searches
            async with http.get("/v1/search", params={"q": query, "k": "10"}) as r:
                await r.read()
        for case in ("healthz", "cached search"):
            def cpu() -> float:
                times = proc.cpu_times()
                return times.user + times.system

            async def client(seed: int, case: str = case) -> None:
                rng = random.Random(seed)
                for _ in range(n // 10):
                    if case == "healthz":
                        request = http.get("/healthz")
                    else:
                        request = http.get("/v1/search", params={"q": rng.choice(queries),
                                                                 "k": "10"})
                    async with request as r:
                        await r.read()
                        assert r.status == 200, r.status

            started, wall = cpu(), time.perf_counter()
            await asyncio.gather(*(client(i) for i in range(10)))
            spent, wall = cpu() - started, time.perf_counter() - wall
            out[case] = {"cpu_ms_per_request": 1000 * spent / n, "requests_per_s": n / wall}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=Path("benchmarks/.serve-home"))
    parser.add_argument("--port", type=int, default=8651)
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/serve_parser.json"))
    args = parser.parse_args()
    key = (args.home / "public-key.txt").read_text().strip()
    queries = [json.loads(line)["query"] for line in
               (args.home / "demo" / "queries.jsonl").read_text().splitlines() if line.strip()]
    runs: dict[str, list[dict]] = {p: [] for p in PARSERS}
    for _ in range(args.rounds):
        for name in PARSERS:
            proc = loadgen.start_server(
                args.home, ["serve", "--no-train", "--port", str(args.port)],
                {**UNLIMITED, "SHOPSENSE_SERVE__HTTP_PARSER": name,
                 "SHOPSENSE_SERVE__WARM_SHOPPERS": "50"},
                args.home.parent / f"{args.home.name}.parser.log",
                lambda r: r.status_code == 200 and loadgen.warmed(r.json()), args.port)
            try:
                runs[name].append(asyncio.run(_measure(
                    f"http://127.0.0.1:{args.port}", key, proc.pid, queries, args.n)))
            finally:
                loadgen.stop_server(proc)
    table = Table(title=f"server CPU a request, {args.n} requests x {args.rounds} rounds")
    for column in ("parser", "case", "CPU ms / request (each round)", "req/s (best)"):
        table.add_column(column)
    summary = {}
    for name, rounds in runs.items():
        for case in rounds[0]:
            cpu = [r[case]["cpu_ms_per_request"] for r in rounds]
            rate = max(r[case]["requests_per_s"] for r in rounds)
            summary[f"{name} {case}"] = {"cpu_ms_per_request": [round(c, 3) for c in cpu],
                                         "best_requests_per_s": round(rate, 1)}
            table.add_row(name, case, " / ".join(f"{c:.2f}" for c in cpu), f"{rate:.0f}")
    Console().print(table)
    result = {"cases": summary, "load_avg": os.getloadavg(), "config": {
        k: str(v) for k, v in vars(args).items()},
        "at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
