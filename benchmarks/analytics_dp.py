"""DP analytics benchmark: how long a release takes on the demo shop, how much the
per-shopper cap biases each aggregate, and how far the noisy counts are from the capped exact
counts at several epsilons (Laplace and Gaussian), averaged over seeds.

    python benchmarks/analytics_dp.py [--products 3200] [--users 1200] [--days 60]
                                      [--window 90] [--cap 10] [--seeds 5]
                                      [--out benchmarks/results/analytics_dp.json]

Error = mean |noisy - exact| over an aggregate's keys (after clamping at 0 and rounding),
relative error = that / mean exact count. Cap bias = 1 - (capped total / uncapped total).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

os.environ.setdefault("OMP_NUM_THREADS", "1")

EPSILONS = (0.1, 0.5, 1.0, 2.0)
SHOWN = ("funnel_daily", "active_daily", "funnel_category", "brand_share", "search_ctr",
         "platform_split")


def build_store(folder: Path, products: int, users: int, days: int):
    from shopsense.demo import generate_demo
    from shopsense.ids import Pseudonymizer, ensure_secret
    from shopsense.ingest.pipeline import ingest_file
    from shopsense.store import open_store

    paths = generate_demo(folder / "demo", seed=7, n_products=products, n_users=users, days=days)
    ensure_secret(folder)
    store = open_store(f"sqlite:///{folder / 'shop.db'}")
    ingest_file(paths.products, "catalog", catalog=store, rejects_dir=folder / "rejects")
    ingest_file(paths.events, "events", events=store, pseudonyms=Pseudonymizer.from_home(folder),
                rejects_dir=folder / "rejects")
    return store


def measure(store, window_days: int, cap: int, seeds: int) -> dict:
    from shopsense.analytics.aggregates import SPECS, bounded_counts, window_for
    from shopsense.analytics.report import ReleaseParams, behaviour_release
    from shopsense.privacy.dp import PrivacyLedger

    window = window_for(store, window_days)
    exact, bias, seconds = {}, {}, {}
    for spec in SPECS:
        start = time.perf_counter()
        capped = bounded_counts(store, spec, window, spec.cap(cap)).counts
        seconds[spec.name] = time.perf_counter() - start
        full = bounded_counts(store, spec, window, 10**9).counts
        exact[spec.name] = capped
        bias[spec.name] = 1 - sum(capped.values()) / max(1, sum(full.values()))
    errors: dict[str, dict[str, dict[str, float]]] = {}
    release_s = []
    for mechanism in ("laplace", "gaussian"):
        for eps in EPSILONS:
            per: dict[str, list[tuple[float, float]]] = {}
            for seed in range(seeds):
                ledger = PrivacyLedger(store)
                start = time.perf_counter()
                body = behaviour_release(store, ReleaseParams(epsilon=eps, mechanism=mechanism,
                                                              days=window_days, per_user_cap=cap,
                                                              seed=seed), ledger=ledger,
                                         refresh=True)
                release_s.append(time.perf_counter() - start)
                for name in SHOWN:
                    rows = {r["key"]: r["count"] for r in body["aggregates"][name]["rows"]}
                    truth = exact[name]
                    keys = list(rows)
                    err = float(np.mean([abs(rows[k] - truth.get(k, 0)) for k in keys]))
                    mean = float(np.mean([truth.get(k, 0) for k in keys])) or 1.0
                    per.setdefault(name, []).append((err, err / mean))
            errors[f"{mechanism}@{eps:g}"] = {
                name: {"mae": round(float(np.mean([e for e, _ in v])), 2),
                       "relative": round(float(np.mean([r for _, r in v])), 4)}
                for name, v in per.items()}
    return {"window_days": window_days, "cap": cap, "seeds": seeds,
            "exact_seconds": {k: round(v, 3) for k, v in seconds.items()},
            "release_seconds_median": round(float(np.median(release_s)), 3),
            "cap_bias": {k: round(v, 4) for k, v in bias.items()}, "errors": errors}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=3200)
    parser.add_argument("--users", type=int, default=1200)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--window", type=int, default=90)
    parser.add_argument("--cap", type=int, default=10)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/analytics_dp.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        store = build_store(Path(tmp), args.products, args.users, args.days)
        events = store.count_events()
        built = time.perf_counter() - start
        result = measure(store, args.window, args.cap, args.seeds)
    result.update(machine=f"{platform.machine()}, {os.cpu_count()} cores (shared)",
                  demo={"products": args.products, "users": args.users, "days": args.days,
                        "events": events, "build_seconds": round(built, 1)})
    table = Table(title=f"DP release error (mean |noisy - exact|, relative), cap {args.cap}")
    table.add_column("mechanism@eps")
    for name in SHOWN:
        table.add_column(name)
    for label, per in result["errors"].items():
        table.add_row(label, *[f"{per[n]['mae']:.1f} ({per[n]['relative']:.1%})" for n in SHOWN])
    console = Console()
    console.print(table)
    console.print(f"release median {result['release_seconds_median']} s; cap bias "
                  + ", ".join(f"{k} {v:.1%}" for k, v in result["cap_bias"].items()))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
