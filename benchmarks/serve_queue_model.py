"""What the service benchmark's p99s would be from queueing alone: a discrete-event model of
`benchmarks/serve.py`'s load over the server's measured handler times, no machine noise.

`serve.py --raw FILE` writes every request's kind and handler time (`Server-Timing`). Taken
from a run at a low rate (`--rate 30`: almost no queueing, so a handler's time is its own
work), those times are the model's service times: each request of the mix is a Poisson
arrival at `--rate`, its kind drawn by the mix's shares, its service time a random handler
time of that kind plus `--overhead-ms` (the HTTP stack around the handler: parsing, routing,
serialising, the loopback send; 0.43 ms a request measured in session 13) and multiplied by a
factor (the machine's speed, or a cut of the server's CPU). Two ways the requests meet the
two workers:

- `split`: each request goes to a worker at random and waits for that worker alone. This is
  what `serve --workers 2` does: the kernel gives each keep-alive connection to one worker,
  and a client sends on whichever of its connections is idle, not to whichever worker is.
- `pooled`: one queue, the next request to the first worker free (a balancer in front that
  sends each request to the least busy worker).

Each worker answers one request at a time, first come first served (an expensive request
on the lane thread shares the GIL with the loop instead: the model leaves that out). Prints
p50 / p99 per kind and way, for each factor, with the mean service time a request (what
`serve.py` reports as server CPU a request), and writes JSON.

    python benchmarks/serve.py --rate 30 --raw results/serve-raw-30.json ...
    python benchmarks/serve_queue_model.py --raw results/serve-raw-30.json [--rate 300]
        [--factors 0.6,0.8,1.0,1.2] [--out results/serve_queue_model.json]
"""

from __future__ import annotations

import argparse
import heapq
import json
import random
import time
from pathlib import Path

import loadgen
import numpy as np
import serve
from rich.console import Console

MIX = dict(serve.MIX)  # the service benchmark's default mix
WAYS = ("split", "pooled")
TARGETS_P99_MS = {"search": 50.0, "recommend": 30.0, "events": 100.0}  # issue #15


def handler_ms(raw: dict) -> dict[str, np.ndarray]:
    """Each kind's handler times (ms) from `serve.py --raw` (requests with no timing left out)."""
    return {kind: np.array([row[2] for row in rows if row[2] is not None], dtype=np.float64)
            for kind, rows in raw["requests"].items()}


def simulate(service: dict[str, np.ndarray], mix: dict[str, float], rate: float, workers: int,
             way: str, overhead_ms: float, factor: float, n: int,
             seed: int) -> dict[str, np.ndarray]:
    """Each kind's latencies (ms, arrival to answer) of `n` requests at `rate` per second."""
    rng = random.Random(seed)
    kinds = [k for k in mix if mix[k] > 0 and service.get(k) is not None and service[k].size]
    weights = [mix[k] for k in kinds]
    pick = np.random.default_rng(seed)
    free = [0.0] * workers  # when each worker is next free (ms)
    heap = [(0.0, w) for w in range(workers)]  # pooled: the first free worker
    now = 0.0
    out: dict[str, list[float]] = {k: [] for k in kinds}
    for _ in range(n):
        now += rng.expovariate(rate) * 1000
        kind = rng.choices(kinds, weights)[0]
        took = (float(pick.choice(service[kind])) + overhead_ms) * factor
        if way == "pooled":
            at, worker = heapq.heappop(heap)
            done = max(now, at) + took
            heapq.heappush(heap, (done, worker))
        else:
            worker = rng.randrange(workers)
            done = max(now, free[worker]) + took
            free[worker] = done
        out[kind].append(done - now)
    return {k: np.asarray(v) for k, v in out.items()}


def meets(lat: dict[str, np.ndarray]) -> bool:
    return all(float(np.percentile(lat[kind], 99)) <= target
               for kind, target in TARGETS_P99_MS.items() if kind in lat)


def budget(service: dict[str, np.ndarray], rate: float, workers: int, way: str,
           overhead_ms: float, requests: int, seed: int) -> float:
    """The largest factor at which every p99 target holds (bisection; 0 if none does)."""
    low, high = 0.0, 2.0
    for _ in range(12):
        mid = (low + high) / 2
        lat = simulate(service, MIX, rate, workers, way, overhead_ms, mid, requests, seed)
        low, high = (mid, high) if meets(lat) else (low, mid)
    return low


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--raw", type=Path, required=True,
                        help="serve.py --raw of a low-rate run: the handler times.")
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--overhead-ms", type=float, default=0.43)
    parser.add_argument("--factors", default="0.6,0.8,1.0,1.2")
    parser.add_argument("--cpu-ms", default="",
                        help="Instead of --factors: the mean service times a request to model "
                             "(e.g. serve.py's measured server CPU a request, '3.6,4.3').")
    parser.add_argument("--requests", type=int, default=400_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/serve_queue_model.json"))
    args = parser.parse_args()
    raw = json.loads(args.raw.read_text())
    service = handler_ms(raw)
    mean_ms = sum(MIX[k] * float(service[k].mean()) for k in MIX if k in service)
    per_request = mean_ms + args.overhead_ms
    factors = ([float(c) / per_request for c in args.cpu_ms.split(",")] if args.cpu_ms
               else [float(f) for f in args.factors.split(",")])
    rows = []
    for factor in factors:
        for way in WAYS:
            lat = simulate(service, MIX, args.rate, args.workers, way, args.overhead_ms,
                           factor, args.requests, args.seed)
            row = {"factor": round(factor, 3),
                   "service_ms_per_request": round(per_request * factor, 2),
                   "way": way}
            for kind, values in lat.items():
                row[f"{kind}_p50_ms"] = round(float(np.percentile(values, 50)), 1)
                row[f"{kind}_p99_ms"] = round(float(np.percentile(values, 99)), 1)
            rows.append(row)
    table = loadgen.rows_table(f"{args.rate:.0f} req/s over {args.workers} workers, handler "
                               f"times of {args.raw.name} (+{args.overhead_ms} ms), queueing "
                               "only", rows)
    Console(width=200).print(table)
    shares = {k: {"n": int(v.size), "mean_ms": round(float(v.mean()), 2),
                  "p50_ms": round(float(np.percentile(v, 50)), 2),
                  "p99_ms": round(float(np.percentile(v, 99)), 2),
                  "over_2ms": round(float((v >= 2).mean()), 3)} for k, v in service.items()}
    Console().print(shares)
    budgets = {way: round(per_request * budget(service, args.rate, args.workers, way,
                                               args.overhead_ms, args.requests // 2,
                                               args.seed), 2) for way in WAYS}
    Console().print(f"largest mean service time a request at which every p99 target "
                    f"{TARGETS_P99_MS} holds: {budgets} ms")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"rows": rows, "handler_ms": shares,
                                    "budget_ms_per_request": budgets, "rate": args.rate,
                                    "workers": args.workers, "overhead_ms": args.overhead_ms,
                                    "raw": str(args.raw), "mix": MIX,
                                    "at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())},
                                   indent=2))


if __name__ == "__main__":
    main()
