"""Propensity and feedback/rules/diversity benchmark on the demo store.

For each demo seed: fit the logistic and the LightGBM propensity models on everything before
the last `horizon` days, score that held-out window (AUC with a bootstrap 95 % interval,
Brier, ECE over 10 bins, reliability points) for the general and the category model, beside
the baselines; then time fitting, scoring every shopper, audiences, and the re-ranking stages
(feedback, rules, diversity) on 500 candidates. One thread throughout.

    python benchmarks/propensity.py [--seeds 7 11 13] [--horizons 7 14]
                                    [--out benchmarks/results/propensity.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
from rich.console import Console
from rich.table import Table

from shopsense.demo import END_TS
from shopsense.demo.objects import demo_events, demo_products
from shopsense.domain import Candidate
from shopsense.evaluation.propensity import evaluate_propensity
from shopsense.features.profile import build_profile
from shopsense.features.repurchase import learn_repurchase_rates
from shopsense.models.propensity import PurchasePropensity
from shopsense.rank.diversity import attribute_similarity, diversify
from shopsense.rank.feedback import apply_feedback
from shopsense.rank.rules import Adjust, Pin, Rules, apply_rules

REPO = Path(__file__).resolve().parents[1]
DAY = 86_400.0


def demo(seed: int) -> tuple[dict, list]:
    return {p.item_id: p for p in demo_products(seed)}, demo_events(seed)


def timed(fn, repeat: int = 1) -> tuple[object, float]:
    """(last result, median seconds)."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return result, statistics.median(times)


def latencies(products: dict, events: list) -> dict[str, float]:
    out: dict[str, float] = {}
    for kind in ("logistic", "gbm"):
        model, out[f"fit_{kind}_s"] = timed(lambda k=kind: PurchasePropensity(model=k).fit(
            events, products))
        users = model.history_.actors
        _, out[f"predict_all_{kind}_s"] = timed(lambda m=model, u=users: m.predict(u), 3)
        _, out[f"audience_category_{kind}_s"] = timed(
            lambda m=model: m.audience(category="家电", n=100), 3)
        _, out[f"explain_one_{kind}_ms"] = timed(lambda m=model, u=users: m.explain(u[0]), 5)
        out[f"explain_one_{kind}_ms"] *= 1000
    now = events[-1].timestamp
    user = next(e.user_id for e in reversed(events) if e.user_id)
    mine = [e for e in events if e.user_id == user]
    profile, out["profile_one_ms"] = timed(lambda: build_profile(user, mine, products, now), 5)
    out["profile_one_ms"] *= 1000
    rates, out["learn_repurchase_s"] = timed(lambda: learn_repurchase_rates(events, products))
    rng = np.random.default_rng(0)
    ids = list(products)[:500]
    cands = [Candidate(i, float(s)) for i, s in zip(ids, rng.random(500), strict=True)]
    rules = Rules(exclude=ids[:20], pins=[Pin(item_id=ids[400], position=2)],
                  boost=[Adjust(field="category", value="家电", multiply=1.5)],
                  bury=[Adjust(field="brand", value=products[ids[3]].brand, multiply=0.5)])
    sim = attribute_similarity(products)
    steps = {
        "feedback_500_ms": lambda: apply_feedback(cands, profile, products, now, repurchase=rates),
        "rules_500_ms": lambda: apply_rules(cands, rules, products),
        "mmr_cap_500_to_20_ms": lambda: diversify(cands, products, k=20, similarity=sim,
                                                  max_per_category=3),
    }
    for name, fn in steps.items():
        _, seconds = timed(fn, 20)
        out[name] = seconds * 1000
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[7, 11, 13])
    parser.add_argument("--horizons", type=float, nargs="+", default=[7.0, 14.0])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/results/propensity.json")
    args = parser.parse_args()
    runs, timing = [], {}
    for seed in args.seeds:
        products, events = demo(seed)
        windows = [(h, "last", None) for h in args.horizons]
        windows.insert(1, (7.0, "pre-presale", END_TS - 7 * DAY))
        for horizon, label, until in windows:
            report, seconds = timed(lambda p=products, e=events, h=horizon, u=until:
                                    evaluate_propensity(e, p, horizon_days=h, until=u))
            runs.append({"seed": seed, "horizon_days": horizon, "window": label,
                         "evaluate_s": seconds, "n_events": len(events), "report": report})
        if seed == args.seeds[0]:
            timing = latencies(products, events)
    show(runs, timing)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version(), "threads": 1},
        "demo_generator_version": _demo_version(),
        "command": "python benchmarks/propensity.py " + " ".join(
            ["--seeds", *map(str, args.seeds), "--horizons", *(f"{h:g}" for h in args.horizons)]),
        "runs": runs, "latency": timing}, ensure_ascii=False, indent=1))
    Console(width=160).print(f"wrote {args.out}")


def _demo_version() -> int | None:
    from shopsense.demo import generate

    return getattr(generate, "GENERATOR_VERSION", None)


def show(runs: list[dict], timing: dict[str, float]) -> None:
    table = Table(title="Propensity on the demo store (held-out last window)")
    for col in ("seed", "window", "model", "part", "shoppers", "buyers", "AUC", "AUC 95%",
                "Brier", "ECE", "ECE noise", "calib."):
        table.add_column(col)
    for run in runs:
        rep = run["report"]
        window = f"{run['horizon_days']:g}d {run['window']}"
        for kind, scored in rep["models"].items():
            for part in ("general", "category"):
                if part not in scored:
                    continue
                r = scored[part]
                ci = r["auc_ci95"] or [float("nan")] * 2
                table.add_row(str(run["seed"]), window, kind, part,
                              str(r["n"]), str(r["positives"]), f"{r['auc']:.3f}",
                              f"{ci[0]:.3f}-{ci[1]:.3f}", f"{r['brier']:.4f}",
                              f"{r['ece']:.4f}", f"{r['ece_noise_floor']:.3f}",
                              scored["calibration_method"])
        base = rep["baselines"]
        table.add_row(str(run["seed"]), window, "prev-window rate", "general", "", "", "0.500",
                      "", f"{base['previous_window_rate']['brier']:.4f}",
                      f"{base['previous_window_rate']['ece']:.4f}", "", "")
        table.add_row(str(run["seed"]), window, "recent-activity rule", "general", "", "",
                      f"{base['heuristic_recent_activity']['auc']:.3f}", "", "", "", "", "")
    console = Console(width=160)
    console.print(table)
    aud = Table(title="Top-50 category audiences (pre-presale week, seed by seed)")
    for col in ("seed", "model", "category", "buyers in cat.", "precision", "rule precision",
                "lift", "actual / expected buyers"):
        aud.add_column(col)
    for run in runs:
        if run["window"] != "pre-presale":
            continue
        for kind, scored in run["report"]["models"].items():
            for a in scored.get("audiences", []):
                aud.add_row(str(run["seed"]), kind, a["category"], str(a["buyers_in_category"]),
                            f"{a['precision']:.2f}", f"{a['rule_precision']:.2f}",
                            f"{a['lift']:.1f}", f"{a['actual_buyers']} / {a['expected_buyers']:.1f}")
    console.print(aud)
    lat = Table(title="Latency (one thread, median)")
    lat.add_column("step")
    lat.add_column("value")
    for key, value in timing.items():
        lat.add_row(key, f"{value:.3f}")
    console.print(lat)


if __name__ == "__main__":
    main()
