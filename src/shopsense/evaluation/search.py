"""How good is search on a judged catalogue, next to a plain BM25 baseline run the same way?

Reads any catalogue / judgments file in the interchange formats (CSV, TSV, JSONL, Parquet;
item_id,title,... and query_id,query,item_id,relevance), and the raw Home Depot columns
(product_uid/product_title; search_term + relevance on 1-3, converted to gain = relevance - 1).
Builds a fresh engine in a temporary home, optionally trains the ranker on separate training
judgments (never on the scored ones), and reports nDCG@k, recall@100, MRR@k and latency for
shopsense and for plain BM25 (lower-case alphanumeric tokens, k1 = 1.2, b = 0.75).
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shopsense.config import SearchSettings
from shopsense.domain import Product
from shopsense.evaluation.metrics import (
    bootstrap_ci,
    mrr_at_k,
    ndcg_at_k,
    percentile_ms,
    recall_at_k,
)
from shopsense.index.keyword import KeywordIndex, top_k
from shopsense.ingest.validate import RowInvalid, validate_product
from shopsense.pipeline.search import SearchEngine
from shopsense.text.encoders import Encoder
from shopsense.training.search import train_search_ranker

_PLAIN_RE = re.compile(r"[a-z0-9]+")


def plain_tokens(text: str) -> list[str]:
    """The baseline analyser: lower-case alphanumeric runs, nothing else."""
    return _PLAIN_RE.findall(text.lower())


def read_table(path: Path) -> pd.DataFrame:
    """CSV / TSV / JSONL / JSON / Parquet (optionally .gz / .zst) as a frame; CSV as strings."""
    name = path.name.lower()
    for suffix in (".gz", ".zst", ".bz2", ".xz", ".zip"):
        name = name.removesuffix(suffix)
    if name.endswith(".parquet"):
        return pd.read_parquet(path)
    if name.endswith((".jsonl", ".ndjson")):
        return pd.read_json(path, lines=True, dtype=False)
    if name.endswith(".json"):
        return pd.read_json(path, dtype=False)
    sep = "\t" if name.endswith(".tsv") else None
    return pd.read_csv(path, sep=sep, engine="python" if sep is None else "c", dtype=str,
                       keep_default_na=False)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def load_catalog(path: Path) -> tuple[list[Product], list[str]]:
    """Products from an interchange catalogue (or raw Home Depot products.csv); invalid rows
    are skipped and counted in the notes."""
    df = read_table(path)
    notes: list[str] = []
    if "item_id" not in df.columns and {"product_uid", "product_title"} <= set(df.columns):
        df = df.rename(columns={"product_uid": "item_id", "product_title": "title"})
        notes.append("catalog: raw Home Depot columns product_uid/product_title read as "
                     "item_id/title")
    if not {"item_id", "title"} <= set(df.columns):
        raise ValueError(f"{path}: needs item_id and title columns, has {list(df.columns)}")
    products, rejected = [], 0
    for row in df.to_dict("records"):
        try:
            products.append(validate_product({str(k): _clean(v) for k, v in row.items()}))
        except RowInvalid:
            rejected += 1
    if rejected:
        notes.append(f"catalog: {rejected} invalid rows skipped")
    return products, notes


@dataclass
class JudgedQuery:
    query_id: str
    query: str
    gains: dict[str, float] = field(default_factory=dict)


def load_judgments(path: Path) -> tuple[list[JudgedQuery], list[str]]:
    """Judged queries; raw Home Depot (search_term, relevance 1-3) gets gain = relevance - 1."""
    df = read_table(path)
    notes: list[str] = []
    if "query" not in df.columns and "search_term" in df.columns:
        df = df.rename(columns={"search_term": "query"})
        df["relevance"] = pd.to_numeric(df["relevance"]) - 1.0
        notes.append(f"judgments {path.name}: raw Home Depot columns; gain = relevance - 1")
    if "item_id" not in df.columns and "product_uid" in df.columns:
        df = df.rename(columns={"product_uid": "item_id"})
    if not {"query", "item_id", "relevance"} <= set(df.columns):
        raise ValueError(f"{path}: needs query, item_id, relevance columns")
    if "query_id" not in df.columns:
        df["query_id"] = df["query"]
    df["relevance"] = pd.to_numeric(df["relevance"]).clip(lower=0.0)
    out: dict[str, JudgedQuery] = {}
    for qid, query, item, gain in zip(df["query_id"].astype(str), df["query"].astype(str),
                                      df["item_id"].astype(str), df["relevance"], strict=True):
        judged = out.setdefault(qid, JudgedQuery(qid, query))
        judged.gains[item] = max(float(gain), judged.gains.get(item, 0.0))
    return list(out.values()), notes


def _metrics(runs: Sequence[list[str]], judged: Sequence[JudgedQuery], latencies: list[float],
             k: int, cpu: Sequence[float] = ()) -> dict[str, Any]:
    ndcg = [ndcg_at_k(r, q.gains, k) for r, q in zip(runs, judged, strict=True)]
    low, high = bootstrap_ci(ndcg, seed=0)
    return {f"ndcg@{k}": float(np.mean(ndcg)) if ndcg else 0.0,
            f"ndcg@{k}_ci95": [low, high],
            "recall@100": float(np.mean([recall_at_k(r, q.gains, 100)
                                         for r, q in zip(runs, judged, strict=True)] or [0])),
            f"mrr@{k}": float(np.mean([mrr_at_k(r, q.gains, k)
                                       for r, q in zip(runs, judged, strict=True)] or [0])),
            "p50_ms": percentile_ms(latencies, 50), "p99_ms": percentile_ms(latencies, 99),
            **({"p50_cpu_ms": percentile_ms(list(cpu), 50),
                "p99_cpu_ms": percentile_ms(list(cpu), 99)} if cpu else {}),
            "queries": len(judged)}


def _run(search: Callable[[str], list[str]], judged: Sequence[JudgedQuery]
         ) -> tuple[list[list[str]], list[float], list[float]]:
    """Results, wall-clock latencies and CPU time of this thread per query (on a loaded
    machine wall time is mostly waiting for a core; the CPU time is what the search cost)."""
    runs, latencies, cpu = [], [], []
    for q in judged:
        start, start_cpu = time.perf_counter(), time.thread_time()
        runs.append(search(q.query))
        latencies.append(time.perf_counter() - start)
        cpu.append(time.thread_time() - start_cpu)
    return runs, latencies, cpu


def score_engine(engine: SearchEngine, judged: Sequence[JudgedQuery], k: int = 10
                 ) -> dict[str, Any]:
    """Metrics of the full search pipeline (first 100 results, facets included) on `judged`;
    caches are cleared first so latency includes encoding every query, and the heap is
    settled as a server settles it after every model swap (`settle_heap`: otherwise a cyclic
    GC pass over the catalogue and models lands inside some query and is timed as search)."""
    from shopsense.pipeline.shop import settle_heap

    engine.clear_caches()
    settle_heap()
    runs, latencies, cpu = _run(
        lambda q: [r.item_id for r in engine.search(q, k=100).results], judged)
    return _metrics(runs, judged, latencies, k, cpu)


def score_baseline(products: Sequence[Product], judged: Sequence[JudgedQuery], k: int = 10
                   ) -> dict[str, Any]:
    runs, latencies, cpu = _run(plain_bm25(products), judged)
    return _metrics(runs, judged, latencies, k, cpu)


def plain_bm25(products: Sequence[Product]) -> Callable[[str], list[str]]:
    """A search function over all text fields, concatenated, with `plain_tokens`."""
    index = KeywordIndex({"title": 1.0}, analyzer=plain_tokens)
    index.add([(p.item_id, {"title": " ".join(filter(None, (p.title, p.brand, p.category,
                                                            p.description)))})
               for p in products])

    def search(query: str) -> list[str]:
        rows, _ = top_k(index.score_all(plain_tokens(query))[0], 100)
        return [index.item_ids_[r] for r in rows]

    return search


def evaluate_search(products: Sequence[Product], judged: Sequence[JudgedQuery],
                    train: Sequence[JudgedQuery] = (), *, encoder: Encoder | None,
                    k: int = 10, settings: SearchSettings | None = None,
                    cache_dir: Path | None = None, seed: int = 0) -> dict[str, Any]:
    """Score shopsense and plain BM25 on `judged`; train the ranker on `train` if given."""
    notes: list[str] = []
    scored = {q.query.strip().lower() for q in judged} | {q.query_id for q in judged}
    clean_train = [q for q in train if q.query.strip().lower() not in scored
                   and q.query_id not in scored]
    if len(clean_train) < len(train):
        notes.append(f"{len(train) - len(clean_train)} training queries dropped: they also "
                     "appear in the scored judgments")
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="shopsense-eval-") as home:
        start = time.perf_counter()
        engine = SearchEngine.build(products, settings, encoder, cache_dir=cache_dir,
                                    zero_result_log=Path(home) / "logs" / "zero_results.jsonl")
        build_s = time.perf_counter() - start
        ranker_info: dict[str, Any] = {"mode": "blend", "trained": False}
        if clean_train:
            ranker_info = train_from_judgments(engine, clean_train, seed)
        ours = score_engine(engine, judged, k)
    baseline = score_baseline(products, judged, k)
    key = f"ndcg@{k}"
    return {**ours, "baseline_bm25": baseline,
            "ratio_vs_baseline": ours[key] / baseline[key] if baseline[key] else None,
            "ranker": ranker_info, "encoder": encoder.name if encoder else "none",
            "catalog_size": len(products), "build_s": round(build_s, 1),
            "load_avg_1m": [round(load_before, 1), round(os.getloadavg()[0], 1)], "notes": notes}


def train_from_judgments(engine: SearchEngine, train: Sequence[JudgedQuery], seed: int = 0
                         ) -> dict[str, Any]:
    """Train `engine`'s ranker on judged queries with the function `shopsense train
    --search-judgments` runs (`training.search.train_search_ranker`, no logged events): the
    figure scored afterwards is of the ranker a shop gets. Returns what it reported."""
    start = time.perf_counter()
    report = train_search_ranker(engine, (), judged=[(q.query, q.gains) for q in train],
                                 seed=seed)
    return {"mode": getattr(engine.ranker, "mode_", "blend"), "trained": True,
            "serving": report["serving"], "train_queries": len(train),
            "queries_used": report["queries_used"],
            "validation_ndcg@10": report.get("held_out_ndcg10"),
            **{k: report[k] for k in ("rows", "trees", "featurise_s", "fit_s") if k in report},
            "trained_by": "shopsense.training.search.train_search_ranker (shopsense train)",
            "train_s": round(time.perf_counter() - start, 1)}


def split_queries(judged: Sequence[JudgedQuery], held_out_fraction: float, seed: int
                  ) -> tuple[list[JudgedQuery], list[JudgedQuery]]:
    """(train, held-out) split by query_id, seeded."""
    ids = sorted({q.query_id for q in judged})
    rng = np.random.default_rng(seed)
    held = set(rng.choice(ids, round(len(ids) * held_out_fraction), replace=False).tolist())
    return ([q for q in judged if q.query_id not in held], [q for q in judged if q.query_id in held])


def sample_queries(judged: Sequence[JudgedQuery], n: int, seed: int) -> list[JudgedQuery]:
    if n >= len(judged):
        return list(judged)
    rng = np.random.default_rng(seed)
    return [judged[i] for i in sorted(rng.choice(len(judged), n, replace=False).tolist())]
