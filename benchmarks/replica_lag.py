"""How fast one scale-out replica follows another: two `shopsense scale serve` processes on
loopback over one PostgreSQL, Redis and Kafka-protocol topic (the servers scripts/services.sh
started, else fresh ones), plus a writer worker. For each trial it measures

- event lag: a new shopper's views posted to replica A, until B's recommendations for that
  shopper turn personal;
- catalogue lag: a product upserted through A, until B's search finds it; and deleted through A,
  until B's search no longer does.

    python benchmarks/replica_lag.py --trials 30

The claim it checks (docs/SCALING.md): about a second. Prints a table (p50 / p90 / max ms) and
writes benchmarks/results/replica_lag.json. Run it on a quiet machine; the tests in
tests/scale/test_replicas.py check the behaviour with hang guards only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import numpy as np

from shopsense.domain import Product
from shopsense.scale import services
from shopsense.scale.settings import ScaleSettings
from shopsense.scale.worker import run_writer
from shopsense.store import open_store

RESULTS = Path(__file__).resolve().parent / "results" / "replica_lag.json"
FAST_GROUP = {"session.timeout.ms": "2000", "max.poll.interval.ms": "3000",
              "heartbeat.interval.ms": "300"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _until(check, timeout_s: float = 30.0) -> float:
    start = time.perf_counter()
    while not check():
        if time.perf_counter() - start > timeout_s:
            raise TimeoutError(f"not within {timeout_s} s")
        time.sleep(0.01)
    return time.perf_counter() - start


def _wait_ready(base: str, path: str) -> None:
    def ready() -> bool:
        try:
            return httpx.get(base + path, timeout=1).status_code == 200
        except httpx.TransportError:
            return False
    _until(ready, 120)


def _catalogue() -> list[Product]:
    cats = ["家电 > 空调", "Phones > Android", "Books > Cooking"]
    return [Product(f"p{i:02d}", f"item {i}", category=cats[i % 3], brand=f"b{i % 4}",
                    price=10.0 + i) for i in range(30)]


def _urls() -> tuple[str, str, str]:
    running = services.for_tests()
    urls = [os.environ.get(f"SHOPSENSE_TEST_{n.upper()}") or getattr(running, f"{n}_url")
            for n in ("postgres", "redis", "kafka")]
    if not all(urls):
        sys.exit(f"services missing: {running.skipped} (scripts/services.sh start)")
    return services.fresh_postgres_url(urls[0]), urls[1], urls[2]


def _view(user: str, item: str) -> dict[str, object]:
    return {"event_id": uuid.uuid4().hex, "user_id": user, "item_id": item,
            "event_type": "view", "platform": "web", "timestamp": time.time()}


def measure(a: str, b: str, trials: int) -> dict[str, list[float]]:
    lags: dict[str, list[float]] = {"event": [], "catalogue_add": [], "catalogue_delete": []}

    def personal(user: str) -> bool:
        got = httpx.get(f"{b}/v1/recommend", params={"user": user, "k": 5}, timeout=5).json()
        return got["surface"] == "for_you"

    def on_b(token: str) -> bool:
        got = httpx.get(f"{b}/v1/search", params={"q": token}, timeout=5).json()
        return any(r["item_id"] == token for r in got["results"])

    for n in range(trials):
        user = f"lag-{n}-{uuid.uuid4().hex[:6]}"
        httpx.post(f"{a}/v1/events", json=[_view(user, f"p{(n * 3 + i) % 30:02d}")
                                           for i in range(3)], timeout=5).raise_for_status()
        lags["event"].append(_until(lambda u=user: personal(u)))
        token = f"Lagprobe{n}x{uuid.uuid4().hex[:6]}"
        item = {"item_id": token, "title": f"{token} kettle", "category": "家电 > 空调",
                "brand": token, "price": 42}
        httpx.put(f"{a}/v1/items", json=[item], timeout=5).raise_for_status()
        lags["catalogue_add"].append(_until(lambda t=token: on_b(t)))
        httpx.request("DELETE", f"{a}/v1/items", json={"item_ids": [token]},
                      timeout=5).raise_for_status()
        lags["catalogue_delete"].append(_until(lambda t=token: not on_b(t)))
        print(f"trial {n + 1}/{trials}: " + ", ".join(f"{k} {v[-1] * 1000:.0f} ms"
                                                     for k, v in lags.items()), file=sys.stderr)
    return lags


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=30)
    args = ap.parse_args()
    pg_url, redis_url, kafka_url = _urls()
    prefix = f"lag{uuid.uuid4().hex[:8]}"
    store = open_store(pg_url)
    store.upsert_products(_catalogue())
    store.close()
    topic = f"{kafka_url}/{prefix}"
    tmp = Path(tempfile.mkdtemp(prefix="replica-lag-"))
    env = {**os.environ, "SHOPSENSE_HOME": str(tmp / "home"), "SHOPSENSE_STORE__URL": pg_url,
           "SHOPSENSE_SEARCH__ENCODER": "none", "SHOPSENSE_SERVE__REQUIRE_KEYS": "false",
           "SHOPSENSE_SERVE__CLIENT_RATE_LIMIT_PER_S": "0",
           "SHOPSENSE_SCALE_REDIS_URL": redis_url, "SHOPSENSE_SCALE_KAFKA_URL": topic,
           "SHOPSENSE_SCALE_KEY_PREFIX": prefix, "SHOPSENSE_SCALE_KAFKA_PARTITIONS": "2",
           "SHOPSENSE_SCALE_CONSUMER_CONFIG": json.dumps(FAST_GROUP), "OMP_NUM_THREADS": "1"}
    ports = [_free_port(), _free_port()]
    procs = [subprocess.Popen([sys.executable, "-m", "shopsense.cli", "scale", "serve", "--port",
                               str(port), *extra], env=env, stdout=(tmp / f"{port}.log").open("wb"),
                              stderr=subprocess.STDOUT)
             for port, extra in zip(ports, (("--no-models",), ()), strict=True)]
    cfg = ScaleSettings(redis_url=redis_url, kafka_url=topic, key_prefix=prefix,
                        kafka_partitions=2, writer_group=f"{prefix}-writers",
                        consumer_config=FAST_GROUP)
    stop = threading.Event()
    writer = threading.Thread(target=run_writer, args=(pg_url, cfg), kwargs={"stop": stop})
    writer.start()
    a, b = (f"http://127.0.0.1:{p}" for p in ports)
    try:
        _wait_ready(a, "/healthz")
        _wait_ready(b, "/readyz")
        httpx.post(f"{a}/v1/events", json=[_view("warm", "p00")], timeout=5)
        _until(lambda: httpx.get(f"{b}/v1/recommend", params={"user": "warm"},
                                 timeout=5).json()["surface"] == "for_you", 60)
        lags = measure(a, b, args.trials)
    finally:
        stop.set()
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=15)
        writer.join(timeout=15)
    rows = {name: {"p50_ms": float(np.percentile(v, 50) * 1000),
                   "p90_ms": float(np.percentile(v, 90) * 1000),
                   "max_ms": float(max(v) * 1000), "trials": len(v)}
            for name, v in lags.items()}
    print(f"{'A -> B':18s} {'p50 ms':>8s} {'p90 ms':>8s} {'max ms':>8s}")
    for name, row in rows.items():
        print(f"{name:18s} {row['p50_ms']:8.0f} {row['p90_ms']:8.0f} {row['max_ms']:8.0f}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"lags": rows, "machine": platform.machine(),
                                   "cpus": os.cpu_count(), "load": os.getloadavg()[0],
                                   "command": " ".join(sys.argv)}, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
