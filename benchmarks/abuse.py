"""Single-client flood against a real server: does a cheap query stay fast, and does the
flooder get 429s? (issue #15, item 9)

Starts `shopsense serve --no-train` over a demo home once per configuration on loopback:
`unprotected` (the abuse defences off: no per-client limits, no server-time budget, no cap on
a client's expensive searches in flight, every search on the event loop, the 500-character
query ceiling), `protected` (the defaults) and `place_cap_2` (the defaults plus a cap of 2
expensive searches in flight per client, `serve.client_expensive_in_flight`; over it a 429
after a 1 s pause), `switch_0.5ms` (the defaults with a 0.5 ms GIL switch interval) and
`burst_4s` / `burst_1s` / `burst_1s_cap_2` (the defaults with the client's server-time burst,
`serve.client_server_burst_s`, at 4 s, 1 s or 0.5 s of its rate, the last with the cap of 2) and
`no_tarpit` (the defaults, but a refusal answered at once instead of after its Retry-After, up
to `serve.tarpit_s`);
`--only` picks some. Each waits until the server's cache warming has
finished (query stages, then shoppers' lists: loadgen.warmed), then runs, for `--seconds`:

- one *cheap* client (source address 127.0.0.2) sending `q=空调` at `--cheap-rate` req/s
  (Poisson, latency counted from when a request was due: no coordinated omission);
- one *flooding* client (source address 127.0.0.3) keeping `--flood-conns` requests in
  flight, each a unique query of `--flood-chars` characters (different words every time, so
  no cache helps).

Prints per-configuration the cheap query's p50 / p99 (and the p99 of the requests due after
the first 10 s, once the flooder's burst allowance is spent) / errors and the flood's answers
by status (200, 422, 429, other) as a table, and writes JSON.

    python benchmarks/abuse.py [--home DIR] [--port 8121] [--seconds 30] [--cheap-rate 20]
                               [--flood-conns 20] [--flood-chars 190] [--out results/abuse.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import aiohttp
import loadgen
import numpy as np
from rich.console import Console
from rich.table import Table

CHEAP_QUERY = "空调"
TARGETS = {"cheap_p99_ms": 50}
UNPROTECTED = {"SHOPSENSE_SERVE__CLIENT_RATE_LIMIT_PER_S": "0",
               "SHOPSENSE_SERVE__SHOPPER_RATE_LIMIT_PER_S": "0",
               "SHOPSENSE_SERVE__CLIENT_SERVER_MS_PER_S": "0",
               "SHOPSENSE_SERVE__CLIENT_EXPENSIVE_IN_FLIGHT": "0",
               "SHOPSENSE_SERVE__OFFLOAD_QUERY_CHARS": "100000",
               "SHOPSENSE_SERVE__OFFLOAD_COLD_SEARCHES": "false",
               "SHOPSENSE_SERVE__MAX_QUERY_CHARS": "500"}
PLACE_CAP = {"SHOPSENSE_SERVE__CLIENT_EXPENSIVE_IN_FLIGHT": "2"}  # the defaults plus the cap
SWITCH_05 = {"SHOPSENSE_SERVE__GIL_SWITCH_INTERVAL_MS": "0.5"}  # the defaults, 0.5 ms switches
BURST = "SHOPSENSE_SERVE__CLIENT_SERVER_BURST_S"  # seconds of server-time rate at once
CONFIGS = {"unprotected": UNPROTECTED, "protected": {}, "place_cap_2": PLACE_CAP,
           "switch_0.5ms": SWITCH_05, "burst_4s": {BURST: "4"}, "burst_1s": {BURST: "1"},
           "burst_0.5s": {BURST: "0.5"},
           "burst_1s_cap_2": {BURST: "1", **PLACE_CAP},
           "no_tarpit": {"SHOPSENSE_SERVE__TARPIT_S": "0"},  # refusals answered at once
           # before session 9: a client's expensive runs neither ordered nor paced in the lane
           "no_lane_pacing": {"SHOPSENSE_SERVE__CLIENT_LANE_BURST_S": "0"}}
WORDS = ("空调 冰箱 洗衣机 手机 耳机 跑鞋 连衣裙 咖啡豆 纸尿裤 电视 格力 美的 华为 苹果 小米 "
         "running shoes noise cancelling headphones dress red blue wireless waterproof cotton "
         "organic large small cheap premium kids women men 1.5匹 变频 静音 省电 蓝牙").split()


def ensure_home(home: Path) -> None:
    if (home / "shop.db").exists():
        return
    subprocess.run([sys.executable, "-m", "shopsense.cli", "--home", str(home), "demo", "run",
                    "--no-serve", "--json"], check=True, stdout=subprocess.DEVNULL,
                   env={**os.environ, "OMP_NUM_THREADS": "1"})


def start_server(home: Path, port: int, extra_env: dict[str, str]) -> subprocess.Popen[bytes]:
    env = {"SHOPSENSE_SERVE__RATE_LIMIT_PER_S": "100000",
           "SHOPSENSE_SEARCH__WARM_QUERIES": "300", "SHOPSENSE_SERVE__WARM_SHOPPERS": "300",
           **extra_env}
    return loadgen.start_server(home, ["serve", "--port", str(port), "--no-train"], env,
                                home.parent / f"{home.name}.abuse.log",
                                lambda r: r.status_code == 200 and loadgen.warmed(r.json()),
                                port)


def flood_query(rng: random.Random, chars: int) -> str:
    words: list[str] = []
    while len(" ".join(words)) < chars:
        words.append(rng.choice(WORDS) + (str(rng.randrange(1000)) if rng.random() < 0.3 else ""))
    return " ".join(words)[:chars]


async def cheap_client(base: str, key: str, stop: float, rate: float,
                       out: loadgen.Timed) -> None:
    """`q=空调` at `rate` req/s, open loop: a request is sent when due, answered or not."""
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0), limit=50)
    async with aiohttp.ClientSession(base, connector=connector,
                                     headers={"X-API-Key": key}) as http:
        tasks = [asyncio.create_task(loadgen.timed(
            http.get("/v1/search", params={"q": CHEAP_QUERY, "k": "10"}), due, out))
            async for due in loadgen.paced(rate, stop, random.Random(1))]
        await asyncio.gather(*tasks)


async def flooder(base: str, key: str, stop: float, conns: int, chars: int,
                  out: loadgen.Timed) -> None:
    """`conns` closed loops of unique `chars`-character queries from one address."""
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.3", 0), limit=conns)
    async with aiohttp.ClientSession(base, connector=connector, headers={"X-API-Key": key},
                                     timeout=aiohttp.ClientTimeout(total=60)) as http:
        async def one(seed: int) -> None:
            rng = random.Random(seed)
            async for due in loadgen.paced(0, stop, rng):
                await loadgen.timed(http.get("/v1/search",
                                             params={"q": flood_query(rng, chars)}), due, out)

        await asyncio.gather(*(one(i) for i in range(conns)))


async def run_phase(base: str, key: str, args: argparse.Namespace) -> dict:
    cheap, flood = loadgen.Timed(), loadgen.Timed()
    stop = time.perf_counter() + args.seconds
    await asyncio.gather(cheap_client(base, key, stop, args.cheap_rate, cheap),
                         flooder(base, key, stop, args.flood_conns, args.flood_chars, flood))
    statuses = Counter("failed" if s == -1 else str(s) for s in flood.status)
    ms = np.asarray(cheap.latency) * 1000
    late = ms[np.asarray(cheap.due) >= stop - args.seconds + 10]  # after the flood's burst
    return {"cheap_requests": len(ms),
            "cheap_p50_ms": round(float(np.percentile(ms, 50)), 1),
            "cheap_p99_ms": round(float(np.percentile(ms, 99)), 1),
            "cheap_p99_after_10s_ms": round(float(np.percentile(late, 99)), 1),
            "cheap_max_ms_by_5s": _max_by(ms, np.asarray(cheap.due) - (stop - args.seconds), 5),
            "cheap_errors": cheap.errors,
            "cheap_statuses": dict(Counter(str(s) for s in cheap.status)),
            "cheap_error_sample": cheap.sample,
            "flood_200": statuses["200"], "flood_422": statuses["422"],
            "flood_429": statuses["429"],
            "flood_other": sum(v for k, v in statuses.items() if k not in ("200", "422", "429")),
            "flood_per_s": round(sum(statuses.values()) / args.seconds, 1)}


def _max_by(ms: np.ndarray, at_s: np.ndarray, window_s: float) -> list[float]:
    """The worst latency of each `window_s` of the run (where in the run the tail is)."""
    windows = (at_s // window_s).astype(int)
    return [round(float(ms[windows == w].max()), 1) if (windows == w).any() else 0.0
            for w in range(int(windows.max()) + 1)] if len(ms) else []


def measure(name: str, env: dict[str, str], args: argparse.Namespace) -> dict:
    proc = start_server(args.home, args.port, env)
    try:
        time.sleep(2)
        key = (args.home / "public-key.txt").read_text().strip()
        return {"config": name, **asyncio.run(run_phase(f"http://127.0.0.1:{args.port}", key,
                                                        args))}
    finally:
        loadgen.stop_server(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=Path("benchmarks/.serve-home"))
    parser.add_argument("--port", type=int, default=8121)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--cheap-rate", type=float, default=20.0)
    parser.add_argument("--flood-conns", type=int, default=20)
    parser.add_argument("--flood-chars", type=int, default=190,
                        help="Characters per flood query (the default cap is 200).")
    parser.add_argument("--only", choices=tuple(CONFIGS), action="append",
                        help="Run this configuration (repeatable, in the order given; a "
                             "name given twice runs twice; default: all).")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/abuse.json"))
    args = parser.parse_args()
    ensure_home(args.home)
    rows = [measure(name, CONFIGS[name], args) for name in args.only or CONFIGS]
    table = Table(title=f"cheap q={CHEAP_QUERY} at {args.cheap_rate:g}/s beside one client "
                        f"flooding {args.flood_conns} in flight x {args.flood_chars}-char "
                        f"unique queries, {args.seconds:g} s, loopback")
    for col in rows[0]:
        table.add_column(col, justify="right")
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    console = Console()
    console.print(table)
    summary = {"runs": rows, "targets": TARGETS, "cpus": os.cpu_count(),
               "load_avg": os.getloadavg(), "config": vars(args) | {
                   "home": str(args.home), "out": str(args.out)},
               "at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    console.print_json(json.dumps(summary, ensure_ascii=False))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
