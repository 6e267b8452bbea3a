"""The search pipeline: understand -> retrieve (keyword + vector) -> filter -> rank -> personalise.

`SearchEngine` owns the indexes of one catalogue (keyword, vector, columns, spelling,
suggestions, ranker) and their lifecycle: `build`, `upsert`, `remove` (reflected at once, no
rebuild), `save`, `load`. `search()` returns a `SearchResponse` whose results carry every signal
that placed them. `build_search_engine(store, settings)` builds one from a catalogue store.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from shopsense.config import SearchSettings, Settings
from shopsense.domain import EVENT_WEIGHTS, Product, QueryReading, Result, UserProfile
from shopsense.index.catalog import ProductTable, product_fields, product_text
from shopsense.index.keyword import KeywordIndex
from shopsense.index.rowsets import difference, member
from shopsense.index.suggest import Suggester
from shopsense.memo import Memo
from shopsense.privacy.querylog import ZeroResultLog
from shopsense.rank.filters import (
    Clause,
    apply_clauses,
    clauses_from_reading,
    facets,
    filter_with_relaxation,
    paginate,
    pushdown_filter,
    sort_rows,
)
from shopsense.rank.ltr import LambdaMartRanker, QueryBlend, SearchScorer
from shopsense.rank.personal import PersonalReranker
from shopsense.rank.search_features import FEATURE_NAMES, QueryContext, candidate_features
from shopsense.retrieve.backends import (
    EmbeddedRetrieval,
    KeywordCandidates,
    Retrieval,
    retrieval_for,
)
from shopsense.retrieve.hybrid import CandidateSet, HybridRetriever
from shopsense.text.encoders import Encoder, encode_cached, make_encoder
from shopsense.text.spell import SpellCorrector


class Understander(Protocol):
    def understand(self, query: str) -> QueryReading: ...


@dataclass
class SearchResponse:
    query: str
    results: list[Result]
    total: int
    page: int
    page_size: int
    sort: str
    facets: dict[str, Any]
    applied_filters: list[dict[str, Any]]
    relaxed_filters: list[dict[str, Any]]
    soft_boosts: list[dict[str, Any]]
    did_you_mean: str | None
    corrections: dict[str, str]
    reading: dict[str, Any] | None
    ranker: str
    latency_ms: float
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_dict(self, with_products: bool = True) -> dict[str, Any]:
        def result(r: Result) -> dict[str, Any]:
            out: dict[str, Any] = {"item_id": r.item_id, "score": round(r.score, 6),
                                   "signals": {k: round(v, 6) for k, v in r.signals.items()},
                                   "evidence": r.evidence}
            if with_products and r.product is not None:
                p = r.product
                out["product"] = {"title": p.title, "brand": p.brand, "category": p.category,
                                  "price": p.price, "currency": p.currency,
                                  "available": p.available, "image_url": p.image_url}
            return out

        data = {k: getattr(self, k) for k in (
            "query", "total", "page", "page_size", "sort", "facets", "applied_filters",
            "relaxed_filters", "soft_boosts", "did_you_mean", "corrections", "reading", "ranker",
            "timings_ms")}
        data["latency_ms"] = round(self.latency_ms, 3)
        data["results"] = [result(r) for r in self.results]
        return data


class SearchEngine:
    """One catalogue's search indexes and the pipeline over them."""

    def __init__(self, table: ProductTable, keyword: KeywordIndex,
                 vector: Any | None, encoder: Encoder | None, spell: SpellCorrector,
                 suggester: Suggester, *, ranker: SearchScorer | None = None,
                 understander: Understander | None = None,
                 settings: SearchSettings | None = None,
                 personal: PersonalReranker | None = None, n_keyword: int = 200,
                 n_vector: int = 50, zero_result_log: Path | None = None,
                 retrieval: Retrieval | None = None,
                 keyword_candidates: KeywordCandidates | None = None) -> None:
        self.table = table
        self.keyword = keyword
        self.vector = vector
        self.encoder = encoder
        self.spell = spell
        self.suggester = suggester
        self.ranker: SearchScorer = ranker or QueryBlend()
        self.understander = understander
        self.settings = settings or SearchSettings()
        self.personal = personal or PersonalReranker()
        self.retrieval = retrieval or EmbeddedRetrieval(self.settings.exact_threshold)
        self.keyword_candidates = keyword_candidates or \
            self.retrieval.keyword_candidates(keyword)
        self.retriever = HybridRetriever(keyword, spell, vector, encoder,
                                         n_keyword=n_keyword, n_vector=n_vector,
                                         keyword_candidates=self.keyword_candidates)
        # k-anonymous (privacy.querylog): a query is written once enough shoppers searched it
        self.zero_result_log = None if zero_result_log is None else ZeroResultLog(zero_result_log)
        self.zero_results_: deque[dict[str, Any]] = deque(maxlen=10_000)
        # the shopper-independent stages of recent queries (see `search`); any write clears it
        self.stages_ = Memo(int(self.settings.stage_cache_mb * 2**20),
                            self.settings.stage_cache_ttl_s, getsizeof=_stage_bytes)
        self.top_queries_: list[str] = []  # the shop's most searched queries, most first
        self.warmed_: dict[str, int] = {"done": 0, "of": 0}  # progress of `warm`

    # ---- lifecycle --------------------------------------------------------------------------
    @classmethod
    def build(cls, products: Iterable[Product], settings: SearchSettings | None = None,
              encoder: Encoder | None = None, *, cache_dir: Path | None = None,
              retrieval: Retrieval | None = None, **options: Any) -> SearchEngine:
        """Index `products` (the last one wins for a repeated item_id) in the in-process
        table and keyword index, and in the candidate lists of `retrieval` (default:
        embedded); a shared backend's lists are replaced by exactly these products."""
        settings = settings or SearchSettings()
        retrieval = retrieval or EmbeddedRetrieval(settings.exact_threshold)
        unique = list({p.item_id: p for p in products}.values())
        table, keyword = ProductTable(), KeywordIndex()
        table.add(unique)
        keyword.add([(p.item_id, product_fields(p)) for p in unique])
        vector = None
        if encoder is not None:
            vectors = encode_cached(encoder, [product_text(p) for p in unique], cache_dir)
            vector = retrieval.vector_index(encoder.dim, [p.item_id for p in unique], vectors)
        candidates = retrieval.keyword_candidates(keyword, unique)
        spell = SpellCorrector().fit(
            {t: int(keyword.df_[i]) for t, i in keyword.vocab_.items()})
        suggester = Suggester().fit(unique)
        return cls(table, keyword, vector, encoder, spell, suggester, settings=settings,
                   retrieval=retrieval, keyword_candidates=candidates, **options)

    def upsert(self, products: Sequence[Product]) -> int:
        """Add or replace products; searchable at once. Returns the number written."""
        unique = list({p.item_id: p for p in products}.values())
        if not unique:
            return 0
        self.stages_.clear()
        self.table.add(unique)
        self.keyword.add([(p.item_id, product_fields(p)) for p in unique])
        self.keyword_candidates.add(unique)
        if self.vector is not None and self.encoder is not None:
            self.vector.add([p.item_id for p in unique],
                            self.encoder.encode_documents([product_text(p) for p in unique]))
        self.spell.fit({t: int(self.keyword.df_[i]) for t, i in self.keyword.vocab_.items()})
        return len(unique)

    def remove(self, item_ids: Iterable[str]) -> int:
        """Remove products; gone from results at once. Returns the number removed."""
        ids = list(item_ids)
        self.stages_.clear()
        removed = self.table.remove(ids)
        self.keyword.remove(ids)
        self.keyword_candidates.remove(ids)
        if self.vector is not None:
            self.vector.remove(ids)
        return removed

    def __len__(self) -> int:
        return len(self.table)

    def set_popularity(self, item_counts: Mapping[str, float],
                       query_counts: Mapping[str, int] | None = None) -> None:
        """Item popularity (sort + ranker prior) and popular queries (autocomplete)."""
        self.stages_.clear()
        self.table.set_popularity(dict(item_counts))
        if query_counts is not None:
            self.suggester.set_queries(query_counts)
            self.top_queries_ = [q for q, _ in sorted(query_counts.items(),
                                                      key=lambda kv: (-kv[1], kv[0]))[:100_000]]

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.table.save(directory / "catalog")
        self.keyword.save(directory / "keyword")
        self.spell.save(directory / "spell")
        self.suggester.save(directory / "suggest")
        if self.vector is not None:
            self.vector.save(directory / "vector")
        if isinstance(self.ranker, LambdaMartRanker):
            self.ranker.save(directory / "ranker")
        config = {"encoder": self.encoder.name if self.encoder else "none",
                  "retrieval": self.retrieval.name,
                  "n_keyword": self.retriever.n_keyword, "n_vector": self.retriever.n_vector,
                  "settings": self.settings.model_dump()}
        (directory / "config.json").write_text(json.dumps(config))

    @classmethod
    def load(cls, directory: Path, encoder: Encoder | None = None, *,
             retrieval: Retrieval | None = None, **options: Any) -> SearchEngine:
        """`retrieval` must be the backend the engine was saved with (its shared lists are
        opened, not rebuilt); default: embedded."""
        config = json.loads((directory / "config.json").read_text())
        retrieval = retrieval or EmbeddedRetrieval(config["settings"]["exact_threshold"])
        saved = config.get("retrieval", "embedded")
        if saved != retrieval.name:
            raise ValueError(f"{directory} holds a search engine with {saved!r} retrieval; "
                             f"open it with that backend, not {retrieval.name!r}")
        if encoder is None and config["encoder"] != "none":
            encoder = make_encoder(config["encoder"])
        vector = retrieval.load_vector_index(directory / "vector") \
            if (directory / "vector").exists() else None
        ranker = LambdaMartRanker.load(directory / "ranker") if (directory / "ranker").exists() \
            else None
        return cls(ProductTable.load(directory / "catalog"),
                   KeywordIndex.load(directory / "keyword"), vector,
                   encoder if vector is not None else None,
                   SpellCorrector.load(directory / "spell"), Suggester.load(directory / "suggest"),
                   ranker=ranker, settings=SearchSettings(**config["settings"]),
                   n_keyword=config["n_keyword"], n_vector=config["n_vector"],
                   retrieval=retrieval, **options)

    def close(self) -> None:
        """Release the backend's connections (a no-op for the embedded one)."""
        self.retrieval.close()

    # ---- ranking data -----------------------------------------------------------------------
    def featurize(self, query: str, reading: QueryReading | None = None,
                  filters: Sequence[Clause] = ()
                  ) -> tuple[CandidateSet, QueryContext, np.ndarray]:
        """Candidates of `query` (the shopper's `filters` pushed down where the backend can)
        and their (n, n_features) feature matrix."""
        found = self.retriever.candidates(query, where=pushdown_filter(filters))
        ctx = QueryContext.build(query, found.query.terms, self.keyword,
                                 found.query.corrections, found.query_vector, reading,
                                 found.query.compounds)
        products = [self.table.products_[r] for r in found.rows.tolist()]
        priors = np.zeros((len(found.rows), 3), dtype=np.float32)
        priors[:, 0] = self.table.popularity_[found.rows]
        created = self.table.created_[found.rows]
        priors[:, 1] = np.where(np.isnan(created), -1.0, (time.time() - created) / 86400.0)
        features = candidate_features(ctx, self.keyword, found.rows, found.bm25, found.matched,
                                      found.semantic, products, priors, found.vectors)
        return found, ctx, features

    def fit_ranker(self, judged: Sequence[tuple[str, Mapping[str, float]]], *, seed: int = 0,
                   **params: Any) -> LambdaMartRanker:
        """Train (and guard) the ranker on (query, {item_id: gain}); unjudged count 0."""
        groups, gains = [], []
        for query, judgments in judged:
            found, _, features = self.featurize(query)
            if len(found.rows) == 0:
                continue
            ids = [self.keyword.item_ids_[r] for r in found.rows.tolist()]
            groups.append(features)
            gains.append(np.asarray([float(judgments.get(i, 0.0)) for i in ids]))
        ranker = LambdaMartRanker(seed=seed, **params).fit(groups, gains)
        self.ranker = ranker
        self.stages_.clear()
        return ranker

    # ---- serving ----------------------------------------------------------------------------
    def search(self, query: str, *, k: int = 10, page: int = 1, sort: str = "relevance",
               filters: Sequence[Clause] = (), reading: QueryReading | None = None,
               profile: UserProfile | None = None, now: float | None = None,
               with_facets: bool = True) -> SearchResponse:
        """One page of results for `query`, with facets, filters applied / relaxed and signals."""
        start = time.perf_counter()
        if reading is None and self.understander is not None and query.strip():
            reading = self.understander.understand(query)
        timings: dict[str, float] = {}
        ctx, selection, corrections = self._stage(query, reading, filters, with_facets, timings)
        page_results, total = _rank_page(self, selection, ctx, sort, page, k, profile,
                                         time.time() if now is None else now)
        latency = (time.perf_counter() - start) * 1000
        timings["total_ms"] = latency
        if total == 0:
            self._log_zero_result(query, profile.user_id if profile is not None else None)
        return SearchResponse(
            query=query, results=page_results, total=total, page=page, page_size=k, sort=sort,
            facets=selection.facets, applied_filters=[c.to_dict() for c in selection.applied],
            relaxed_filters=selection.relaxed, soft_boosts=[c.to_dict() for c in selection.soft],
            did_you_mean=self.suggester.did_you_mean(query, corrections),
            corrections=corrections,
            reading=reading.to_dict() if reading is not None else None,
            ranker=getattr(self.ranker, "mode_", self.ranker.name), latency_ms=latency,
            timings_ms={k2: round(v, 3) for k2, v in timings.items()})

    def _stage(self, query: str, reading: QueryReading | None, filters: Sequence[Clause],
               with_facets: bool, timings: dict[str, float]
               ) -> tuple[QueryContext, _Selection, dict[str, str]]:
        """The shopper-independent part of a search, from the stage cache when it is there."""
        key = (query, _reading_key(reading), tuple(repr(c.to_dict()) for c in filters),
               with_facets, id(self.ranker))
        cached = self.stages_.get(key)
        if cached is not None:
            timings["stage_cache_hit"] = 1.0
            return cached
        start = time.perf_counter()
        found, ctx, features = self.featurize(query, reading, filters)
        timings["retrieve_features_ms"] = (time.perf_counter() - start) * 1000
        selection = _select(self, found, features, filters, reading, with_facets)
        ctx.vector = None  # not needed past featurising; keeps the cached stage small
        cached = (ctx, selection, found.query.corrections)
        self.stages_.put(key, cached)
        return cached

    def warm(self, n: int, stop: Any = None) -> int:
        """Fill the stage cache with the `n` most searched queries (as a search with no
        filters would: the storefront's first page). Returns how many were computed; stops
        early when `stop()` is true (a newer model took over)."""
        queries = self.top_queries_[:n]
        done = 0
        self.warmed_ = {"done": 0, "of": len(queries)}
        if self.encoder is not None:  # the first product encoded after a load costs ~0.9 s
            self.encoder.encode_documents(["warm-up"])
        for query in queries:
            if stop is not None and stop():
                break
            started = time.perf_counter()
            reading = self.understander.understand(query) if self.understander else None
            self._stage(query, reading, (), True, {})
            done += 1
            self.warmed_["done"] = done
            time.sleep(time.perf_counter() - started)  # half duty: requests keep the GIL free
        return done

    def clear_caches(self) -> None:
        """Forget cached query vectors and query stages (cold-cache latency measurements)."""
        self.retriever.clear_cache()
        self.stages_.clear()

    def autocomplete(self, prefix: str, k: int = 10) -> list[dict[str, object]]:
        return self.suggester.complete(prefix, k)

    def _log_zero_result(self, query: str, actor: str | None) -> None:
        if self.zero_result_log is not None:
            entry = self.zero_result_log.record(query, actor)
            if entry is not None:
                self.zero_results_.append(entry)


def _reading_key(reading: QueryReading | None) -> str:
    return "" if reading is None else json.dumps(reading.to_dict(), sort_keys=True,
                                                  ensure_ascii=False, default=str)


@dataclass
class _Selection:
    """Rows left after filters; the ranked candidates among them with their features."""

    kept: np.ndarray
    rows: np.ndarray
    scores: np.ndarray
    features: np.ndarray
    bm25: np.ndarray
    semantic: np.ndarray
    facets: dict[str, Any]
    applied: list[Clause]
    relaxed: list[dict[str, Any]]
    soft: list[Clause]
    others: np.ndarray  # kept rows beyond the ranked candidates, and their BM25F
    others_bm25: np.ndarray
    matched: dict[int, dict[str, list[str]]] = field(default_factory=dict)  # row -> terms

    def matched_terms(self, engine: SearchEngine, terms: Sequence[str], rows: np.ndarray
                      ) -> list[dict[str, list[str]]]:
        """The query terms each row matches, per field (memoised with the cached stage)."""
        todo = [r for r in rows.tolist() if r not in self.matched]
        if todo:
            _, found = engine.keyword.field_features(terms, todo)
            self.matched.update(zip(todo, found, strict=True))
        return [self.matched[r] for r in rows.tolist()]


def _select(engine: SearchEngine, found: CandidateSet, features: np.ndarray,
            filters: Sequence[Clause], reading: QueryReading | None, with_facets: bool
            ) -> _Selection:
    hard, soft = clauses_from_reading(reading)
    kept, applied, relaxed = filter_with_relaxation([*filters, *hard], engine.table,
                                                    found.match_rows)
    keep = member(kept, found.rows)  # kept is ascending (a filtered match set)
    scores = engine.ranker.score(features[keep]) if keep.any() else np.zeros(0, np.float32)
    others = difference(kept, found.rows[keep])
    return _Selection(kept, found.rows[keep], np.asarray(scores, np.float32), features[keep],
                      found.bm25[keep], found.semantic[keep],
                      facets(engine.table, kept) if with_facets else {}, applied, relaxed, soft,
                      others, found.keyword.bm25_of(others))


def _stage_bytes(stage: tuple[Any, _Selection, Any]) -> float:
    """Approximate memory of one cached query stage (its arrays plus a fixed overhead)."""
    sel = stage[1]
    arrays = (sel.kept, sel.rows, sel.scores, sel.features, sel.bm25, sel.semantic, sel.others,
              sel.others_bm25)
    return 8192 + sum(a.nbytes for a in arrays) + 512 * len(sel.matched)


def _rank_page(engine: SearchEngine, sel: _Selection, ctx: QueryContext, sort: str, page: int,
               k: int, profile: UserProfile | None, now: float) -> tuple[list[Result], int]:
    scores = sel.scores.copy()
    # adjustments are relative to the spread of this query's top-20 ranker scores
    head = np.sort(scores)[::-1][:20]
    scale = max(float(head[0] - head[-1]), 1e-3) if len(head) > 1 else 1.0
    extra: dict[str, np.ndarray] = {}
    for clause in sel.soft:
        hit = np.isin(sel.rows, apply_clauses([clause], engine.table, sel.rows))
        extra.setdefault("intent.boost", np.zeros(len(scores), np.float32))
        extra["intent.boost"] += 0.5 * scale * clause.confidence * hit
    personal_evidence: list[dict[str, object]] = [{} for _ in range(len(scores))]
    if profile is not None and len(scores):
        products = [engine.table.products_[r] for r in sel.rows.tolist()]
        gone = [p for p in (engine.table.get(i) for i in profile.dismissed) if p is not None]
        vectors = dismissed_vectors = None
        if engine.vector is not None:
            vectors = engine.vector.vectors_of([p.item_id for p in products])
            dismissed_vectors = engine.vector.vectors_of([p.item_id for p in gone])
        adj = engine.personal.adjust(profile, products, now, vectors, gone, dismissed_vectors)
        extra["personal.boost"] = adj.boost * scale
        extra["personal.dismiss_penalty"] = -adj.penalty * scale
        personal_evidence = adj.evidence
    for values in extra.values():
        scores += values
    page_rows, page_scores, total = _order_page(engine, sel, scores, sort, page, k)
    position = {int(r): j for j, r in enumerate(sel.rows.tolist())}
    evidence = sel.matched_terms(engine, ctx.terms, page_rows)
    col = {name: i for i, name in enumerate(FEATURE_NAMES)}
    results = []
    for r, score, ev in zip(page_rows.tolist(), page_scores.tolist(), evidence, strict=True):
        j = position.get(r)
        signals = {"score": score}
        if j is not None:
            signals.update({"ranker": float(sel.scores[j]), "bm25f": float(sel.bm25[j]),
                            "semantic": float(sel.semantic[j])})
            signals.update({name: float(sel.features[j, col[name]]) for name in SIGNAL_FEATURES})
            signals.update({name: float(v[j]) for name, v in extra.items() if v[j] != 0})
        item_evidence: dict[str, Any] = {"matched": ev}
        if ctx.corrections:
            item_evidence["corrections"] = ctx.corrections
        if j is not None and personal_evidence[j]:
            item_evidence["personal"] = personal_evidence[j]
        results.append(Result(engine.table.products_[r].item_id, score,
                              engine.table.products_[r], signals, evidence=item_evidence))
    return results, total


def _order_page(engine: SearchEngine, sel: _Selection, scores: np.ndarray, sort: str,
                page: int, k: int) -> tuple[np.ndarray, np.ndarray, int]:
    """The page's rows and scores. Matches outside the ranked candidates follow them in BM25F
    order; they are only materialised when the page or the sort reaches them."""
    total = len(sel.kept)
    window = paginate(total, page, k)
    if sort == "relevance" and window.stop <= len(sel.rows):
        order = np.argsort(-scores, kind="stable")[window]
        return sel.rows[order], scores[order], total
    others = sel.others
    floor = (float(scores.min()) if len(scores) else 0.0) - 1.0
    rest = sel.others_bm25
    rest_scores = floor + rest / max(float(rest.max()), 1e-6) if len(rest) else rest
    all_rows = np.concatenate([sel.rows, others])
    all_scores = np.concatenate([scores, rest_scores]).astype(np.float32)
    ordered, ordered_scores = sort_rows(all_rows, all_scores, engine.table, sort)
    return ordered[window], ordered_scores[window], total


SIGNAL_FEATURES = ("coverage", "phrase_longest", "intent.category", "intent.brand",
                   "intent.attribute", "intent.price", "popularity")


def build_search_engine(store: Any, settings: Settings, *, encoder: Encoder | None = None,
                        cache_dir: Path | None = None, retrieval: Retrieval | None = None
                        ) -> SearchEngine:
    """Build from a `CatalogStore` with the settings' encoder and retrieval backend; caches
    embeddings under home."""
    if encoder is None:
        encoder = make_encoder(settings.search.encoder)
    cache = cache_dir or settings.home / "cache" / "embeddings"
    engine = SearchEngine.build(store.iter_products(), settings.search, encoder, cache_dir=cache,
                                zero_result_log=settings.home / "logs" / "zero_results.jsonl",
                                retrieval=retrieval or retrieval_for(settings.search,
                                                                     settings.store_url))
    items: dict[str, float] = {}
    queries: dict[str, int] = {}
    for event in store.iter_events():
        if event.item_id:
            items[event.item_id] = items.get(event.item_id, 0.0) + \
                EVENT_WEIGHTS.get(event.event_type, 0.0)
        if event.event_type == "search" and event.query:
            queries[event.query] = queries.get(event.query, 0) + 1
    engine.set_popularity(items, queries)
    return engine


def engine_dir(settings: Settings) -> Path:
    return settings.home / "models" / "search"


def open_search_engine(settings: Settings, *, rebuild: bool = False) -> SearchEngine:
    """The engine saved under <home>/models/search, built from the store when missing or
    when it was saved with another retrieval backend than the settings select now."""
    directory = engine_dir(settings)
    config = directory / "config.json"
    retrieval = retrieval_for(settings.search, settings.store_url)
    if not rebuild and config.exists() and \
            json.loads(config.read_text()).get("retrieval", "embedded") == retrieval.name:
        return SearchEngine.load(directory, retrieval=retrieval,
                                 zero_result_log=settings.home / "logs" / "zero_results.jsonl")
    from shopsense.store import open_store

    engine = build_search_engine(open_store(settings.store_url), settings, retrieval=retrieval)
    engine.save(directory)
    return engine


def shopper_profile(engine: SearchEngine, settings: Settings, raw_user_id: str,
                    now: float | None = None) -> UserProfile:
    """The profile of a shopper (raw id, pseudonymised here) from the store's events."""
    from shopsense.features.profile import build_profile
    from shopsense.ids import Pseudonymizer
    from shopsense.store import open_store

    user = Pseudonymizer.from_home(settings.home).user(raw_user_id)
    events = list(open_store(settings.store_url).iter_events(actor=user))
    products = {e.item_id: p for e in events if e.item_id
                and (p := engine.table.get(e.item_id)) is not None}
    return build_profile(user, events, products, time.time() if now is None else now)


__all__ = ["SearchEngine", "SearchResponse", "build_search_engine", "open_search_engine",
           "product_fields", "product_text", "shopper_profile"]
