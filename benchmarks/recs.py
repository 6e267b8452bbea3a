"""Recommendation benchmarks: leave-one-out, full ranking, as in the S3-Rec / ICLRec papers.

Prints a table and writes benchmarks/results/recs.json. Parts:
  beauty   shopsense (SASRec-CE, title-initialised) vs popularity on Amazon Beauty 5-core
  sources  each cheap candidate source alone on the same Beauty split (co-visit, ALS)
  demo     shopsense vs popularity on the generated demo shop
  ranker   train_all on the demo shop: untrained fusion vs logistic vs LightGBM ranker,
           NDCG@10 of each shopper's held-out last item among the merged candidates
  sizealike  `shopsense eval recs --served` (a child process each: its own peak RSS) on sets
           the size of the held-back categories: Beauty + a disjoint half-catalogue copy under
           fresh ids (~18k items, ~288k events), Beauty subsampled to 168k events (~12k items),
           and the demo generator at 20k products / ~40k shoppers (`--served-users N`: the
           served path on a seeded sample of N shoppers per set)
  steps    CPU / wall seconds per 1k target positions of SASRec training steps on Beauty
           (3,000 sequences): full vs sampled softmax, 1 vs 2 torch threads, bf16 on / off
  incremental  SASRec on Beauty with 30 % of the shoppers' last two training events (and 5 %
           of shoppers) arriving later: the previous version trained on the rest, then the new
           version continued from it (new shoppers + replay) vs trained from scratch
           (benchmarks/recs_incremental.py)
  schedule SASRec alone on Beauty (titles) with no learning-rate schedule vs warm-up + cosine

  million  (--million) 1M items with a planted structure: training-step cost, what an epoch
           needs (CPU-hours, Ray workers), serving latency (benchmarks/recs_million.py)

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/recs.py [--parts beauty,sources,demo]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BEAUTY = ROOT / ".." / "shared" / "data" / "amazon-beauty-p5-titles"
DEMO_USERS, DEMO_DAYS = 11_500, 7  # demo-20k: + 2.5 guests a shopper = ~40k actors
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


def eval_cli(events: Path, catalog: Path | None, max_minutes: float,
             served: bool = False, served_users: int | None = None) -> dict[str, Any]:
    """`shopsense eval recs --json` in a child process (its own peak RSS and CPU time)."""
    import resource
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "shopsense.cli", "eval", "recs", "--events", str(events),
           "--json", "--max-minutes", str(max_minutes)]
    if catalog is not None:
        cmd += ["--catalog", str(catalog)]
    if served:
        cmd.append("--served")
    if served and served_users:
        cmd += ["--served-users", str(served_users)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    report["process_cpu_seconds"] = round(after.ru_utime + after.ru_stime - before.ru_utime
                                          - before.ru_stime, 1)
    report["wall_seconds_total"] = round(time.perf_counter() - started, 1)
    report["command"] = " ".join(["shopsense", *cmd[3:]])
    print(f"  {events}: blend {report['blend']['ndcg@10']}, sasrec "
          f"{report['sasrec_only']['ndcg@10']}", flush=True)
    return report


def sizealike_sets(folder: Path) -> dict[str, tuple[Path, Path | None]]:
    """Write (once) the size-alike sets; name -> (events, catalogue or None for ids only).
    beauty-18k: Beauty + a disjoint half-catalogue copy under fresh ids (18,159 items, 38,532
    shoppers, 287,793 events; the ~18k-item held-back category's size); beauty-12k: Beauty's
    shoppers subsampled to 168k events (the ~12k-item one's); demo-20k: the demo generator at
    20,000 products and ~40,000 shoppers as the evaluation counts them (11,500 registered
    ones and their 28,750 guest sessions, each guest an actor of its own) over 7 days: ~350k
    events, ~290k of them interactions, the held-back category's size (40,000 registered
    shoppers over the generator's 60 days would be ~6.4M events, 20x that)."""
    from shopsense.demo.generate import generate_demo
    from shopsense.evaluation.sizealike import (
        copy_sub_catalogue,
        subsample,
        write_catalog,
        write_sequences,
    )
    from shopsense.models.interactions import load_catalog, load_interactions

    beauty = load_interactions(BEAUTY / "sequential_data.txt")
    products = load_catalog(BEAUTY / "items_with_titles.derived.csv")
    for name, build in (
            ("beauty-18k", lambda: copy_sub_catalogue(beauty, products, item_share=0.5,
                                                      min_length=3, seed=0)),
            ("beauty-12k", lambda: (subsample(beauty, 168_000, seed=0), products))):
        if not (folder / name / "sequential_data.txt").exists():
            (folder / name).mkdir(parents=True, exist_ok=True)
            data, catalog = build()
            write_sequences(data, folder / name / "sequential_data.txt")
            write_catalog(catalog, folder / name / "products.csv")
    if not (folder / "demo-20k" / "events.jsonl").exists():
        generate_demo(folder / "demo-20k", n_products=20_000, n_users=DEMO_USERS,
                      days=DEMO_DAYS)
    return {"beauty-18k": (folder / "beauty-18k" / "sequential_data.txt", None),
            "beauty-12k": (folder / "beauty-12k" / "sequential_data.txt", None),
            "demo-20k": (folder / "demo-20k" / "events.jsonl",
                         folder / "demo-20k" / "products.jsonl")}


def sizealike(max_minutes: float, folder: Path, served_users: int | None = None
              ) -> dict[str, Any]:
    """`shopsense eval recs --served` on each size-alike set (ids only for the Beauty ones, as
    the held-back categories are); `served_users`: the served path on a seeded sample of
    that many shoppers of each set (every comparison paired on them)."""
    return {name: eval_cli(events, catalog, max_minutes, served=True, served_users=served_users)
            for name, (events, catalog) in sizealike_sets(folder / "sizealike").items()}


def steps(n_rows: int = 3000) -> dict[str, Any]:
    """Cost of one pass over `n_rows` Beauty training sequences per loss / threads / bf16."""
    import numpy as np

    from shopsense.evaluation.recs import leave_one_out
    from shopsense.models.interactions import load_interactions
    from shopsense.models.parallel import LocalSync
    from shopsense.models.sasrec import SASRec, SASRecNet, _threads
    from shopsense.models.sequences import next_item_pairs

    split = leave_one_out(load_interactions(BEAUTY / "sequential_data.txt"))
    n_items = len(split.items)
    inputs, targets = next_item_pairs(split.train, 50)
    rows = np.random.default_rng(0).permutation(len(inputs))[:n_rows]
    positions = int((targets[rows] > 0).sum())
    out: dict[str, Any] = {"items": n_items, "sequences": n_rows, "positions": positions}
    for loss, threads, bf16 in (("full", 1, False), ("full", 1, True), ("full", 2, False),
                                ("sampled", 1, False), ("sampled", 1, True),
                                ("sampled", 2, False)):
        model = SASRec(loss=loss, threads=threads, bf16=bf16)
        model.n_items_, model.net_ = n_items, SASRecNet(n_items, model.config)
        model._loss_fn = model._make_loss(targets, n_items, np.random.default_rng(0))
        optimiser = model._optimiser(LocalSync())
        with _threads(threads):
            cpu, wall = time.process_time(), time.perf_counter()
            model._epoch(inputs[rows], targets[rows], optimiser, np.random.default_rng(0),
                         LocalSync())
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        key = f"{loss} threads={threads} bf16={bf16}"
        out[key] = {"cpu_s_per_1k_positions": round(1000 * cpu / positions, 3),
                    "wall_s_per_1k_positions": round(1000 * wall / positions, 3)}
        print(f"  {key}: {out[key]}", flush=True)
    return out


def incremental(max_minutes: float) -> dict[str, Any]:
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from recs_incremental import incremental as run

    return run(max_minutes)


def schedule(max_minutes: float, kinds: tuple[str, ...] = ("none", "cosine"),
             users: int | None = None) -> dict[str, Any]:
    """SASRec alone on Beauty (titles), the same split, with each learning-rate schedule."""
    import sys

    from shopsense.evaluation.recs import leave_one_out, ranking_metrics
    from shopsense.models.interactions import load_interactions
    from shopsense.models.sasrec import SASRec

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from recs_incremental import beauty_titles

    data = load_interactions(BEAUTY / "sequential_data.txt")
    if users is not None:  # a subsample, to choose settings cheaply
        data.users, data.sequences = data.users[:users], data.sequences[:users]
    split = leave_one_out(data)
    titles = beauty_titles(split.items.ids)
    out: dict[str, Any] = {"users": len(split.train)}
    for kind in kinds:
        model = SASRec(lr_schedule=kind, time_budget_s=max_minutes * 60).fit(
            split.train, len(split.items), valid=(split.valid_histories, split.valid_targets),
            item_init=titles)
        test = ranking_metrics(model.score, split.test_histories, split.test_targets,
                               len(split.items))
        report = model.training_report(sum(map(len, split.train)))
        out[kind] = {"ndcg@10": round(test["ndcg@10"], 5), "hr@10": round(test["hr@10"], 5),
                     **report}
        print(json.dumps({kind: {k: v for k, v in out[kind].items()
                                 if k != "convergence"},
                          "curve": report["convergence"]["curve"]}), flush=True)
    return out


def million(fit_minutes: float = 0.0) -> dict[str, Any]:
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from recs_million import million as run

    result = run(fit_budget_s=60 * fit_minutes)
    print(f"  {result}", flush=True)
    return result


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
    parser.add_argument("--served-users", type=int, default=None,
                        help="sizealike: score the served path on a sample of this many "
                             "shoppers per set (default: all)")
    parser.add_argument("--million", action="store_true",
                        help="only the 1M-item part (benchmarks/recs_million.py)")
    parser.add_argument("--million-fit-minutes", type=float, default=0.0,
                        help="million: also train for this many CPU-minutes (validation "
                             "curve, convergence) and serve that model")
    args = parser.parse_args()
    if args.million:
        args.parts = "million"
    out_path = ROOT / "benchmarks" / "results" / "recs.json"
    parts: dict[str, Callable[[], dict[str, Any]]] = {
        "beauty": lambda: beauty(args.max_minutes, args.threads),
        "sources": sources,
        "demo": lambda: demo(args.max_minutes, args.threads),
        "ranker": lambda: ranker(args.max_minutes),
        "sizealike": lambda: sizealike(args.max_minutes, ROOT / "benchmarks" / ".data",
                                       args.served_users),
        "steps": steps,
        "incremental": lambda: incremental(args.max_minutes),
        "million": lambda: million(args.million_fit_minutes),
        "schedule": lambda: schedule(args.max_minutes),
    }
    unknown = set(args.parts.split(",")) - set(parts)
    if unknown:
        raise SystemExit(f"unknown parts {sorted(unknown)}; known: {sorted(parts)}")
    results: dict[str, Any] = {}
    for part in args.parts.split(","):
        print(f"== {part}", flush=True)
        result = parts[part]()
        # re-read before writing: parts run in other processes may have written meanwhile
        results = json.loads(out_path.read_text()) if out_path.exists() else {}
        results[part] = result
        out_path.write_text(json.dumps(results, indent=2))
    print(table(results))


if __name__ == "__main__":
    main()
