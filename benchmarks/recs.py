"""Recommendation benchmarks: leave-one-out, full ranking, as in the S3-Rec / ICLRec papers.

Prints a table and writes benchmarks/results/recs.json. Parts:
  beauty   shopsense (SASRec-CE, title-initialised) vs popularity on Amazon Beauty 5-core
  sources  each cheap candidate source alone on the same Beauty split (co-visit, ALS)
  demo     shopsense vs popularity on the generated demo shop
  ranker   train_all on the demo shop: untrained fusion vs logistic vs LightGBM ranker,
           NDCG@10 of each shopper's held-out last item among the merged candidates

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/recs.py [--parts beauty,sources,demo]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BEAUTY = ROOT / ".." / "shared" / "data" / "amazon-beauty-p5-titles"
PUBLISHED = {"popularity": (0.0068, 0.0152), "SASRec": (0.0318, 0.0605),
             "S3-Rec": (0.0327, 0.0647), "ICLRec": (0.0403, 0.0744)}


def beauty(max_minutes: float, threads: int) -> dict[str, Any]:
    from shopsense.evaluation.recs import evaluate_recs

    def show(row: dict[str, float]) -> None:
        print(f"  epoch {int(row['epoch'])}: valid ndcg@10 {row['valid_ndcg@10']:.4f} "
              f"({row['seconds']:.0f} s wall, {row['cpu_seconds']:.0f} s cpu)", flush=True)

    started = time.perf_counter()
    report = evaluate_recs(BEAUTY / "sequential_data.txt", BEAUTY / "items_with_titles.derived.csv",
                           model_options={"time_budget_s": max_minutes * 60, "threads": threads},
                           on_epoch=show)
    report["wall_seconds_total"] = round(time.perf_counter() - started, 1)
    return report


def sources() -> dict[str, Any]:
    from shopsense.evaluation.recs import (
        leave_one_out,
        ranking_metrics,
        source_scorer,
        split_interactions,
    )
    from shopsense.models.interactions import load_interactions
    from shopsense.retrieve.collaborative import CollaborativeRetriever
    from shopsense.retrieve.covisit import CovisitRetriever

    data = load_interactions(BEAUTY / "sequential_data.txt")
    split = leave_one_out(data)
    train = split_interactions(split, data.users)
    out: dict[str, Any] = {}
    for name, source in (("covisit", CovisitRetriever(window=3)),
                         ("als", CollaborativeRetriever())):
        started = time.perf_counter()
        source.fit(train, split.items)
        fit_s = time.perf_counter() - started
        metrics = ranking_metrics(source_scorer(source, split.items), split.test_histories,
                                  split.test_targets, len(split.items))
        out[name] = {**{k: round(v, 5) for k, v in metrics.items()},
                     "train_seconds": round(fit_s, 1),
                     "total_seconds": round(time.perf_counter() - started, 1)}
        print(f"  {name}: {out[name]}", flush=True)
    return out


def demo(max_minutes: float, threads: int) -> dict[str, Any]:
    from shopsense.demo.generate import generate_demo
    from shopsense.evaluation.recs import evaluate_recs

    with tempfile.TemporaryDirectory() as tmp:
        paths = generate_demo(Path(tmp))
        return evaluate_recs(paths.events, paths.products,
                             model_options={"time_budget_s": max_minutes * 60, "threads": threads})


def ranker(max_minutes: float) -> dict[str, Any]:
    from dataclasses import replace

    from shopsense.demo.generate import generate_demo
    from shopsense.models.interactions import load_catalog, load_interactions
    from shopsense.training.recs import TrainConfig, train_all

    with tempfile.TemporaryDirectory() as tmp:
        paths = generate_demo(Path(tmp))
        data, products = load_interactions(paths.events), load_catalog(paths.products)
    config = TrainConfig()
    config = replace(config, sasrec=replace(config.sasrec, time_budget_s=max_minutes * 60))
    started = time.perf_counter()
    engine = train_all(data, products, config)
    report = {**engine.info["ranker"], "train_seconds": round(time.perf_counter() - started, 1)}
    print(f"  {report}", flush=True)
    return report


def table(results: dict[str, Any]) -> str:
    lines = ["| data | model | NDCG@10 | HR@10 | NDCG@20 | HR@20 | cov@10 | train s |",
             "|---|---|---|---|---|---|---|---|"]
    for part in ("beauty", "demo"):
        if part in results:
            for key in ("served", "blend", "baseline_popularity"):
                r = results[part].get(key)
                if r is None:
                    continue
                lines.append(f"| {part} | {key} | {r['ndcg@10']:.4f} | {r['hr@10']:.4f} | "
                             f"{r['ndcg@20']:.4f} | {r['hr@20']:.4f} | {r['coverage@10']:.3f} | "
                             f"{r.get('train_seconds', '')} |")
    for name, r in results.get("sources", {}).items():
        if not isinstance(r, dict):
            continue
        lines.append(f"| beauty | {name} | {r['ndcg@10']:.4f} | {r['hr@10']:.4f} | "
                     f"{r['ndcg@20']:.4f} | {r['hr@20']:.4f} | {r['coverage@10']:.3f} | "
                     f"{r['train_seconds']} |")
    if "ranker" in results:
        r = results["ranker"]
        lines.append(f"| demo ranker (held-out last item, {r['valid_users']} shoppers) | "
                     f"fusion {r['fusion_ndcg@10']:.4f} / logistic "
                     f"{r.get('logistic_ndcg@10', float('nan')):.4f} / lightgbm "
                     f"{r.get('lightgbm_ndcg@10', float('nan')):.4f}; serving {r.get('serving')} "
                     "| | | | | | |")
    for name, (ndcg, hr) in PUBLISHED.items():
        lines.append(f"| beauty | published {name} | {ndcg:.4f} | {hr:.4f} | | | | |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="beauty,sources,demo")
    parser.add_argument("--max-minutes", type=float, default=15.0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    out_path = ROOT / "benchmarks" / "results" / "recs.json"
    results: dict[str, Any] = json.loads(out_path.read_text()) if out_path.exists() else {}
    for part in args.parts.split(","):
        print(f"== {part}", flush=True)
        if part == "beauty":
            results["beauty"] = beauty(args.max_minutes, args.threads)
        elif part == "sources":
            results["sources"] = sources()
        elif part == "demo":
            results["demo"] = demo(args.max_minutes, args.threads)
        elif part == "ranker":
            results["ranker"] = ranker(args.max_minutes)
        else:
            raise SystemExit(f"unknown part {part}")
        out_path.write_text(json.dumps(results, indent=2))
    print(table(results))


if __name__ == "__main__":
    main()
