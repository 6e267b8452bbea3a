"""Search benchmarks: Home Depot quality + latency, and a synthetic 1M-product latency / memory run.

    python benchmarks/search.py                      # Home Depot, dev queries split 75/25 by query_id
    python benchmarks/search.py --held-out 600       # a seeded sample of the held-out queries
    python benchmarks/search.py --million            # 1,000,000 synthetic products (slow)
    python benchmarks/search.py --write-split DIR    # the split as files, for `eval search`

Prints a table and writes JSON to benchmarks/results/search.json (search_1m.json for --million).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from shopsense.config import SearchSettings
from shopsense.domain import Product
from shopsense.evaluation.search import (
    load_catalog,
    load_judgments,
    sample_queries,
    score_baseline,
    score_engine,
    split_queries,
)
from shopsense.pipeline.search import SearchEngine
from shopsense.rank.ltr import KeywordOrder, QueryBlend
from shopsense.text.encoders import USEEncoder

REPO = Path(__file__).resolve().parents[1]
HOMEDEPOT = REPO / ".." / "shared" / "data" / "homedepot-search-relevance"
RESULTS = REPO / "benchmarks" / "results"
CACHE = Path.home() / ".cache" / "shopsense" / "embeddings"


def _rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def _row(name: str, m: dict[str, Any]) -> str:
    return (f"| {name:<34} | {m['ndcg@10']:.4f} | {m['recall@100']:.4f} | {m['mrr@10']:.4f} | "
            f"{m['p50_ms']:7.1f} | {m['p99_ms']:7.1f} |")


def homedepot(args: argparse.Namespace) -> dict[str, Any]:
    products, _ = load_catalog(HOMEDEPOT / "products.csv")
    judged, _ = load_judgments(HOMEDEPOT / "judgments_dev.csv")
    train, held_out = split_queries(judged, 0.25, args.seed)
    if args.train:
        train = sample_queries(train, args.train, args.seed)
    if args.held_out:
        held_out = sample_queries(held_out, args.held_out, args.seed)
    start = time.perf_counter()
    settings = SearchSettings(exact_threshold=args.exact_threshold)
    engine = SearchEngine.build(products, settings, encoder=USEEncoder(threads=1), cache_dir=CACHE)
    build_s = time.perf_counter() - start
    rows: dict[str, dict[str, Any]] = {}
    rows["plain BM25 (baseline)"] = score_baseline(products, held_out)
    engine.ranker = KeywordOrder()
    rows["shopsense BM25F only"] = score_engine(engine, held_out)
    engine.ranker = QueryBlend()
    rows["shopsense, no training (blend)"] = score_engine(engine, held_out)
    start = time.perf_counter()
    ranker = engine.fit_ranker([(q.query, q.gains) for q in train], seed=args.seed)
    train_s = time.perf_counter() - start
    rows[f"shopsense, LambdaMART ({ranker.mode_})"] = score_engine(engine, held_out)
    base = rows["plain BM25 (baseline)"]["ndcg@10"]
    print("| configuration                      | nDCG@10 | R@100  | MRR@10 | p50 ms  | p99 ms  |")
    print("|---|---|---|---|---|---|")
    for name, metrics in rows.items():
        print(_row(name, metrics) + f" x{metrics['ndcg@10'] / base:.2f}")
    return {"data": "homedepot-search-relevance (dev judgments, split by query_id)",
            "train_queries": len(train), "held_out_queries": len(held_out), "seed": args.seed,
            "build_s": round(build_s, 1), "train_s": round(train_s, 1),
            "vector_index": type(engine.vector).__name__,
            "ranker_validation": ranker.validation_, "ranker_mode": ranker.mode_,
            "results": rows}


def synthetic_catalog(n: int, seed: int) -> list[Product]:
    """Titles recombined from Home Depot words (brand + modifiers + product type)."""
    rng = np.random.default_rng(seed)
    products, _ = load_catalog(HOMEDEPOT / "products.csv")
    words = np.asarray(sorted({w for p in products for w in p.title.split()}))
    heads = np.asarray(sorted({p.title.split()[-1] for p in products if p.title.split()}))
    brands = np.asarray(sorted({p.title.split()[0] for p in products if p.title.split()}))
    out = []
    for i in range(n):
        mods = " ".join(words[rng.integers(0, len(words), rng.integers(4, 10))])
        title = f"{brands[rng.integers(len(brands))]} {mods} {heads[rng.integers(len(heads))]}"
        out.append(Product(f"s{i}", title, category=f"Cat {i % 50} > Sub {i % 700}",
                           brand=str(brands[i % len(brands)]), price=float(rng.integers(1, 2000))))
    return out


class RandomEncoder:
    """Random unit vectors: stands in for USE where encoding 1M titles is not affordable here
    (latency and memory of the index do not depend on what the vectors mean)."""

    name, dim = "random", 512

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        x = self.rng.standard_normal((len(texts), self.dim)).astype(np.float32)
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode_documents([text])[0]


def million(args: argparse.Namespace) -> dict[str, Any]:
    rss0 = _rss_gib()
    start = time.perf_counter()
    products = synthetic_catalog(args.n, args.seed)
    gen_s = time.perf_counter() - start
    rss_products = _rss_gib()
    start = time.perf_counter()
    settings = SearchSettings(exact_threshold=args.exact_threshold)
    engine = SearchEngine.build(products, settings,
                                encoder=RandomEncoder(args.seed))  # type: ignore[arg-type]
    build_s = time.perf_counter() - start
    rss_built = _rss_gib()
    judged, _ = load_judgments(HOMEDEPOT / "judgments_dev.csv")
    queries = [q.query for q in sample_queries(judged, args.queries, args.seed)]
    use = USEEncoder(threads=1)
    encode_ms = []
    for q in queries[:100]:
        t = time.perf_counter()
        use.encode_query(q)
        encode_ms.append((time.perf_counter() - t) * 1000)
    latencies = []
    for q in queries:
        t = time.perf_counter()
        engine.search(q, k=10)
        latencies.append((time.perf_counter() - t) * 1000)
    out = {"products": args.n, "vector_index": type(engine.vector).__name__,
           "generate_s": round(gen_s, 1), "build_s": round(build_s, 1),
           "p50_ms": float(np.percentile(latencies, 50)),
           "p99_ms": float(np.percentile(latencies, 99)),
           "use_query_encode_p50_ms": float(np.percentile(encode_ms, 50)),
           "use_query_encode_p99_ms": float(np.percentile(encode_ms, 99)),
           "peak_rss_gib": round(_rss_gib(), 2), "rss_after_products_gib": round(rss_products, 2),
           "rss_after_build_gib": round(rss_built, 2), "rss_start_gib": round(rss0, 2),
           "queries": len(queries)}
    print(json.dumps(out, indent=2))
    return out


def write_split(directory: Path, seed: int) -> None:
    """The train / held-out split of the dev judgments (raw Home Depot columns), for
    `shopsense eval search --judgments held_out.csv --train-judgments train.csv`."""
    import pandas as pd

    raw = pd.read_csv(HOMEDEPOT / "judgments_dev.csv", dtype={"query_id": str})
    judged, _ = load_judgments(HOMEDEPOT / "judgments_dev.csv")
    _, held_out = split_queries(judged, 0.25, seed)
    held = {q.query_id for q in held_out}
    directory.mkdir(parents=True, exist_ok=True)
    raw[raw.query_id.isin(held)].to_csv(directory / "held_out.csv", index=False)
    raw[~raw.query_id.isin(held)].to_csv(directory / "train.csv", index=False)
    print(f"wrote {directory}/held_out.csv ({len(held)} queries) and train.csv")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--million", action="store_true")
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--held-out", type=int, default=0, help="0 = every held-out query")
    parser.add_argument("--train", type=int, default=0, help="0 = every training query")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--exact-threshold", type=int, default=20_000,
                        help="vector index: exact below this many items, IVF above")
    parser.add_argument("--out", default=None, help="results file name (default search.json / "
                        "search_1m.json)")
    parser.add_argument("--write-split", type=Path, default=None,
                        help="only write the train / held-out judgment files to this folder")
    args = parser.parse_args()
    if args.write_split is not None:
        write_split(args.write_split, args.seed)
        return
    result = million(args) if args.million else homedepot(args)
    result["machine"] = {"platform": platform.platform(), "cpus": os.cpu_count(),
                         "load_avg": os.getloadavg()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = args.out or ("search_1m.json" if args.million else "search.json")
    (RESULTS / name).write_text(json.dumps(result, indent=2, default=float) + "\n")


if __name__ == "__main__":
    main()
