"""Search benchmarks: Home Depot quality + latency, and a synthetic 1M-product latency / memory run.

    python benchmarks/search.py                      # Home Depot, dev queries split 75/25 by query_id
    python benchmarks/search.py --held-out 600       # a seeded sample of the held-out queries
    python benchmarks/search.py --million            # 1,000,000 synthetic products (slow)
    python benchmarks/search.py --million --n 200000 # the same at another size
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
    train_from_judgments,
)
from shopsense.pipeline.search import SearchEngine
from shopsense.pipeline.shop import settle_heap
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
    trained = train_from_judgments(engine, train, args.seed)  # what `shopsense train` runs
    train_s = time.perf_counter() - start
    rows[f"shopsense, LambdaMART ({trained['mode']})"] = score_engine(engine, held_out)
    base = rows["plain BM25 (baseline)"]["ndcg@10"]
    print("| configuration                      | nDCG@10 | R@100  | MRR@10 | p50 ms  | p99 ms  |")
    print("|---|---|---|---|---|---|")
    for name, metrics in rows.items():
        print(_row(name, metrics) + f" x{metrics['ndcg@10'] / base:.2f}")
    return {"data": "homedepot-search-relevance (dev judgments, split by query_id)",
            "train_queries": len(train), "held_out_queries": len(held_out), "seed": args.seed,
            "build_s": round(build_s, 1), "train_s": round(train_s, 1),
            "vector_index": type(engine.vector).__name__,
            "ranker_validation": trained["validation_ndcg@10"], "ranker_mode": trained["mode"],
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
        """(len(texts), dim) float32, drawn a block at a time (no float64 copy of the whole)."""
        x = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), 65_536):
            block = x[start:start + 65_536]
            self.rng.standard_normal(out=block, dtype=np.float32)
            block /= np.linalg.norm(block, axis=1, keepdims=True)
        return x

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode_documents([text])[0]

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self.encode_documents(texts)


def _rss_now_gib() -> float:
    """Resident memory now (ru_maxrss is the peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024**2
    return float("nan")


def memory_parts(engine: SearchEngine) -> dict[str, float]:
    """MiB held by each index structure (array bytes; the IVF index as faiss serialises it)."""
    import sys

    import faiss

    mib = 2**20
    parts: dict[str, float] = {}
    vector = engine.vector
    exact = getattr(vector, "exact", vector)
    if exact is not None:
        parts[f"vector store ({exact.vectors_.dtype})"] = exact.vectors_.nbytes / mib
    if getattr(vector, "ivf_", None) is not None:
        parts["IVF lists (4-bit PQ codes + ids)"] = faiss.serialize_index(vector.ivf_).nbytes / mib
    matrices = [m for seg in engine.keyword.segments_
                for m in (seg.saturated, *seg.field_tf.values())]
    parts["BM25F matrices (saturated + per-field counts)"] = sum(
        m.data.nbytes + m.indices.nbytes + m.indptr.nbytes for m in matrices) / mib
    parts["title term sequences (one array a row)"] = sum(
        sys.getsizeof(t) for t in engine.keyword.title_seq_) / mib
    table = engine.table
    parts["product table columns"] = sum(a.nbytes for a in (
        table.category_, table.brand_, table.price_, table.available_, table.created_,
        table.popularity_, table.alive_)) / mib
    return {k: round(v, 1) for k, v in parts.items()}


def million(args: argparse.Namespace) -> dict[str, Any]:
    """Build over `--n` synthetic products and time `--queries` distinct queries, each with the
    engine's caches cleared first (so no figure comes from a cache), after settling the heap
    as a server does once its models are swapped in."""
    rss0 = _rss_gib()
    load = {"start": os.getloadavg()[0]}
    start = time.perf_counter()
    products = synthetic_catalog(args.n, args.seed)
    gen_s = time.perf_counter() - start
    rss_products = _rss_now_gib()
    start = time.perf_counter()
    settings = SearchSettings(exact_threshold=args.exact_threshold)
    engine = SearchEngine.build(products, settings,
                                encoder=RandomEncoder(args.seed))  # type: ignore[arg-type]
    build_s = time.perf_counter() - start
    rss_built, peak_built = _rss_now_gib(), _rss_gib()
    judged, _ = load_judgments(HOMEDEPOT / "judgments_dev.csv")
    queries = list(dict.fromkeys(q.query for q in sample_queries(judged, args.queries,
                                                                 args.seed)))
    use = USEEncoder(threads=1)
    use.encode_query("warm up")  # the first call loads the model
    encode_ms = []
    for q in queries[:100]:
        t = time.perf_counter()
        use.encode_query(q)
        encode_ms.append((time.perf_counter() - t) * 1000)
    settle_heap()  # what a server does after every model swap (Shop.swap_models)
    load["queries_start"] = os.getloadavg()[0]
    latencies, cpu, stages, totals = [], [], [], []
    for q in queries:
        engine.clear_caches()
        t, c = time.perf_counter(), time.thread_time()
        response = engine.search(q, k=10)
        latencies.append((time.perf_counter() - t) * 1000)
        cpu.append((time.thread_time() - c) * 1000)
        if "stage_cache_hit" in response.timings_ms:
            raise RuntimeError(f"query {q!r} was answered from the stage cache")
        stages.append(response.timings_ms.get("retrieve_features_ms", 0.0))
        totals.append(response.total)
    load["queries_end"] = os.getloadavg()[0]
    def pct(values: list[float], q: float) -> float:
        return round(float(np.percentile(values, q)), 2)
    out = {"products": args.n, "vector_index": type(engine.vector).__name__,
           "ivf": {"lists": getattr(engine.vector, "n_lists", None),
                   "probed": getattr(engine.vector, "n_probe", None),
                   "shortlist": getattr(engine.vector, "shortlist", None)},
           "generate_s": round(gen_s, 1), "build_s": round(build_s, 1),
           "queries": len(queries), "caches": "cleared before every query",
           "p50_ms": pct(latencies, 50), "p99_ms": pct(latencies, 99),
           "max_ms": pct(latencies, 100), "first_query_ms": round(latencies[0], 2),
           "slowest": {queries[i]: round(latencies[i], 1)
                       for i in np.argsort(latencies)[::-1][:5].tolist()},
           "cpu_p50_ms": pct(cpu, 50), "cpu_p99_ms": pct(cpu, 99),
           "retrieve_features_p50_ms": pct(stages, 50),
           "retrieve_features_p99_ms": pct(stages, 99),
           "match_set_p50": int(np.percentile(totals, 50)), "match_set_max": int(max(totals)),
           "use_query_encode_p50_ms": pct(encode_ms, 50),
           "use_query_encode_p99_ms": pct(encode_ms, 99),
           "peak_rss_gib": round(_rss_gib(), 2), "peak_rss_after_build_gib": round(peak_built, 2),
           "rss_after_products_gib": round(rss_products, 2),
           "rss_after_build_gib": round(rss_built, 2), "rss_start_gib": round(rss0, 2),
           "memory_mib": memory_parts(engine), "load_avg_1min": load}
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
