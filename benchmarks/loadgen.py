"""What the HTTP load benchmarks share (benchmarks/serve.py, benchmarks/abuse.py): starting and
stopping a real `shopsense` server on loopback, the paced request loop (Poisson arrivals,
latency counted from when a request was *due*: no coordinated omission), and one timed
request with its status and the server's own time."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import httpx
from rich.table import Table

# one client address sends everything in the service benchmarks: the per-client and
# per-shopper limits are off (benchmarks/abuse.py measures them)
NO_CLIENT_LIMITS = {"SHOPSENSE_SERVE__CLIENT_RATE_LIMIT_PER_S": "0",
                    "SHOPSENSE_SERVE__SHOPPER_RATE_LIMIT_PER_S": "0",
                    "SHOPSENSE_SERVE__CLIENT_SERVER_MS_PER_S": "0"}


def start_server(home: Path, command: list[str], env: dict[str, str], log: Path,
                 ready: Callable[[httpx.Response], bool], port: int,
                 timeout_s: float = 900) -> subprocess.Popen[bytes]:
    """`python -m shopsense.cli --home HOME *command` in its own process group, its output
    appended to `log`; returns once `ready(GET /readyz)` holds."""
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "shopsense.cli", "--home", str(home),
                                 *command], env={**os.environ, "OMP_NUM_THREADS": "1", **env},
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited during start-up (log: {log})")
        try:
            if ready(httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)):
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(1)
    stop_server(proc)
    raise SystemExit(f"server not ready after {timeout_s:.0f} s (log: {log})")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's whole process group (workers, trainer), then wait."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    proc.wait(timeout=60)


def warmed(body: dict) -> bool:
    """/readyz says the query stages and the active shoppers' lists are warm. The shoppers'
    progress appears only once the queries are done (warming runs them in turn), so an
    absent one means "not yet", not "nothing to do": a flood started then measured the
    background warming as much as the server (it takes a core at half duty). The query vectors
    encoded ahead come last (their progress appears once the shoppers are done): a flood
    started before them shared its first ~30 s with batches of 256 encodings, and one started
    as they ended met the garbage collection that settles the warmed caches into the frozen
    heap (a ~400 ms pause of every request: session 9), so it waits for `warming: done`."""
    stages = [body.get(name) or {} for name in
              ("warmed_queries", "warmed_shoppers", "warmed_query_vectors")]
    return (all(stages[1:]) and all(w.get("done", 0) >= w.get("of", 0) for w in stages)
            and body.get("warming") == "done")


async def paced(rate: float, stop: float, rng: random.Random) -> AsyncIterator[float]:
    """Due times of a Poisson process of `rate` per second until `stop` (perf_counter),
    sleeping until each is due. `rate` 0: closed loop (the next is due when the caller asks
    for it, i.e. when its previous request finished). A late caller stops with the clock."""
    due = time.perf_counter() + (rng.expovariate(rate) if rate > 0 else 0.0)
    while due < stop and time.perf_counter() < stop:
        if rate > 0:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
        else:
            due = time.perf_counter()
        yield due
        due = due + rng.expovariate(rate) if rate > 0 else time.perf_counter()


def speed_check(steps: int = 5_000_000) -> float:
    """CPU seconds of a fixed pure-Python loop: how quick this machine is right now. On this
    project's 2-core machine it moved by up to 1.8x within an hour (benchmarks/README.md,
    Service, session 12), and every latency figure with it: runs are comparable only where
    their speed checks agree."""
    started = time.process_time()
    total = 0
    for i in range(steps):
        total += i
    return round(time.process_time() - started, 3)


def rows_table(title: str, rows: list[dict]) -> Table:
    """A rich table of `rows` (dicts with the same keys): one column a key, one row a dict."""
    table = Table(title=title)
    for col in rows[0]:
        table.add_column(col, justify="right")
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    return table


def server_ms(response: aiohttp.ClientResponse) -> float:
    """The handler's own time from the `Server-Timing: app;dur=<ms>` header (nan if absent)."""
    for part in response.headers.get("server-timing", "").split(";"):
        if part.startswith("dur="):
            return float(part[4:])
    return float("nan")


@dataclass
class Timed:
    """What one kind of request saw: latency from due (s), status (-1: no answer), the
    server's time (ms), which worker answered, a first failure's text."""

    latency: list[float] = field(default_factory=list)
    status: list[int] = field(default_factory=list)
    due: list[float] = field(default_factory=list)
    server: list[float] = field(default_factory=list)
    workers: dict[str, int] = field(default_factory=dict)
    sample: str | None = None

    @property
    def errors(self) -> int:
        return sum(1 for s in self.status if s != 200)


async def timed(request: aiohttp.client._RequestContextManager, due: float, into: Timed) -> int:
    """Send `request`, record it in `into` (latency counted from `due`); the status."""
    try:
        async with request as response:
            body = await response.read()
            status = response.status
            into.server.append(server_ms(response))
            worker = response.headers.get("x-served-by", "?")
            into.workers[worker] = into.workers.get(worker, 0) + 1
            if status != 200 and into.sample is None:
                into.sample = f"{status} {body[:200]!r}"
    except (TimeoutError, aiohttp.ClientError) as exc:
        status = -1
        into.sample = into.sample or repr(exc)
    into.latency.append(time.perf_counter() - due)
    into.status.append(status)
    into.due.append(due)
    return status
