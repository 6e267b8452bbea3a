"""Query understanding benchmark: suite accuracy, per-query latency, Taobao NER tagger F1.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/understand.py [--repeats 20] [--skip-ner]

Fits a QueryUnderstander on the demo catalogue (seed 7, 3,200 products), reads every query of
tests/understand/query_suite.jsonl, times `understand()` in process (p50 / p95 / p99, with
and without the CRF tagger), and trains + scores the tagger on the Taobao NER files
(train.txt -> dev.txt). Prints a table and writes benchmarks/results/understand.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from shopsense.demo.catalog import iter_demo_products
from shopsense.ingest.validate import validate_product
from shopsense.text.tagger.evaluate import evaluate_files
from shopsense.text.understand import QueryUnderstander, default_tagger
from shopsense.text.understand.evaluate import field_results

REPO = Path(__file__).resolve().parents[1]
SUITE = REPO / "tests" / "understand" / "query_suite.jsonl"
TAOBAO = REPO / ".." / "shared" / "data" / "chinese-ecommerce-ner-taobao"
OUT = REPO / "benchmarks" / "results" / "understand.json"


def suite_scores(understander: QueryUnderstander, suite: list[dict]) -> dict:
    per_field: dict[str, list[bool]] = defaultdict(list)
    per_language: dict[str, list[bool]] = defaultdict(list)
    for row in suite:
        for name, ok in field_results(understander.understand(row["query"]), row).items():
            per_field[name].append(ok)
            per_language[row["language"]].append(ok)
    every = [ok for oks in per_field.values() for ok in oks]
    return {"queries": len(suite), "fields": len(every), "accuracy": round(float(np.mean(every)), 4),
            "per_field": {k: round(float(np.mean(v)), 4) for k, v in per_field.items()},
            "per_language": {k: round(float(np.mean(v)), 4) for k, v in per_language.items()}}


def demo_expectations() -> list[dict]:
    """The demo generator's own labelled queries (written independently of our suite)."""
    from shopsense.demo.queries import demo_queries

    rows = []
    for q in demo_queries():
        rows.append({
            "query": q["query"], "language": q["lang"], "category": q["expected_category"],
            "brands": [q["brand"][0]] if q["brand"] else [],
            "price_min": q["price_min"], "price_max": q["price_max"],
            "value_preference": q["value_preference"],
            "attributes": [[k, v[0]] for k, v in q["attributes"].items()],
            "exclusions": [["brand", b[0] if isinstance(b, list) else b]
                           for b in q["exclude_brands"]]})
    return rows


def latency(understander: QueryUnderstander, queries: list[str], repeats: int) -> dict:
    for q in queries:  # warm caches (rjieba dictionary, encoder)
        understander.understand(q)
    wall, cpu = [], []
    for _ in range(repeats):
        for q in queries:
            started, started_cpu = time.perf_counter(), time.thread_time()
            understander.understand(q)
            cpu.append((time.thread_time() - started_cpu) * 1000)
            wall.append((time.perf_counter() - started) * 1000)
    out: dict = {"calls": len(wall)}
    for name, values in (("wall", np.array(wall)), ("cpu", np.array(cpu))):
        out[name] = {**{f"p{p}": round(float(np.percentile(values, p)), 3) for p in (50, 95, 99)},
                     "max": round(float(values.max()), 3)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--skip-ner", action="store_true",
                        help="skip Taobao tagger training (keeps the NER figures last written)")
    args = parser.parse_args()
    products = [validate_product(row) for row in iter_demo_products(seed=7)]
    suite = [json.loads(line) for line in SUITE.read_text(encoding="utf-8").splitlines() if line]
    queries = [row["query"] for row in suite]
    demo = demo_expectations()
    result: dict = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, one thread",
                    "python": platform.python_version(), "catalogue": len(products)}
    for encoder in ("use", "none"):
        started = time.perf_counter()
        understander = QueryUnderstander(encoder=encoder, seed=0).fit(products)
        fit_s = time.perf_counter() - started
        result[f"encoder={encoder}"] = {"fit_seconds": round(fit_s, 1),
                                        "suite": suite_scores(understander, suite),
                                        "demo_queries": suite_scores(understander, demo),
                                        "latency_ms": latency(understander, queries, args.repeats)}
    if TAOBAO.exists():
        tagger = default_tagger(Path(tempfile.gettempdir()) / "shopsense-bench-tagger",
                                TAOBAO / "train.txt")
        understander = QueryUnderstander(encoder="use", seed=0).fit(products).use_tagger(tagger)
        result["encoder=use+tagger"] = {"suite": suite_scores(understander, suite),
                                        "demo_queries": suite_scores(understander, demo),
                                        "latency_ms": latency(understander, queries, args.repeats)}
        if args.skip_ner and OUT.exists():  # keep the last measured NER figures
            previous = json.loads(OUT.read_text(encoding="utf-8"))
            if "taobao_ner" in previous:
                result["taobao_ner"] = previous["taobao_ner"]
        else:
            result["taobao_ner"] = {
                f"iterations={n}": evaluate_files(TAOBAO / "train.txt", TAOBAO / "dev.txt",
                                                  max_iterations=n) for n in (50, 100)}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    print_table(result)


def print_table(result: dict) -> None:
    print(f"{'configuration':22s} {'fit s':>6s} {'suite acc':>9s} {'zh':>6s} {'en':>6s} "
          f"{'demo acc':>8s} {'p50 ms':>7s} {'p99 ms':>7s} {'cpu p50':>7s} {'cpu p99':>7s}")
    for name, block in result.items():
        if not name.startswith("encoder="):
            continue
        s, wall, cpu = block["suite"], block["latency_ms"]["wall"], block["latency_ms"]["cpu"]
        print(f"{name:22s} {block.get('fit_seconds', float('nan')):6.1f} {s['accuracy']:9.4f} "
              f"{s['per_language']['zh']:6.4f} {s['per_language']['en']:6.4f} "
              f"{block['demo_queries']['accuracy']:8.4f} "
              f"{wall['p50']:7.3f} {wall['p99']:7.3f} {cpu['p50']:7.3f} {cpu['p99']:7.3f}")
    for name, ner in result.get("taobao_ner", {}).items():
        print(f"taobao dev, CRF {name}: brand F1 {ner['brand']['f1']:.4f}, product type F1 "
              f"{ner['product_type']['f1']:.4f}, overall P {ner['overall']['precision']:.4f} "
              f"R {ner['overall']['recall']:.4f} F1 {ner['overall']['f1']:.4f} "
              f"(train {ner['train_seconds']} s)")
    print(f"-> {OUT.relative_to(REPO)}")


if __name__ == "__main__":
    main()
