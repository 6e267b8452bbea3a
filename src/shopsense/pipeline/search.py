"""The search pipeline: understand -> retrieve (keyword + vector) -> filter -> rank -> personalise.

`SearchEngine` is the stateless pipeline over one catalogue's `SearchIndex` (pipeline/
search_index.py: build / update / save / load, versioned on disk); its only state is caches
(the shopper-independent stage of recent queries, the homophone corrector). `search()`
returns a `SearchResponse` whose results carry every signal that placed them; selection and
paging live in pipeline/search_page.py. `search_open.open_search_engine(settings)` opens the
current version (checked against the store's catalogue) or builds one.

The query's words against the catalogue's (typos, a word being typed, the in-catalogue test,
autocomplete) are the `QueryWords` mixin (pipeline/search_words.py); opening, building and
saving a home's engine live in pipeline/search_open.py; the index, paging and facets in
search_index.py, search_page.py and search_facets.py.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from cachetools import LRUCache

from shopsense.domain import QueryReading, Result, UserProfile
from shopsense.index.catalog import product_fields, product_text
from shopsense.index.entities import Entities
from shopsense.index.sells import (
    NoExactMatch,
    with_type_reading,
)
from shopsense.index.typed import TypedWords
from shopsense.memo import Memo
from shopsense.pipeline.search_facets import entity_filters, facet_view
from shopsense.pipeline.search_index import (
    SearchIndex,
    engine_dir,
)
from shopsense.pipeline.search_page import (
    Selection,
    filtered,
    rank_page,
    select,
    soft_boosts,
    stage_bytes,
)
from shopsense.pipeline.search_words import QueryWords, reading_key
from shopsense.pipeline.warm_keys import WarmKeys, search_key
from shopsense.rank.filters import Clause, pushdown_filter
from shopsense.rank.honest import relaxed_notes
from shopsense.rank.search_features import QueryContext, candidate_features
from shopsense.retrieve.hybrid import CandidateSet
from shopsense.text.pinyin import PinyinCorrector
from shopsense.text.synonyms import SynonymSet
from shopsense.text.tokenize import tokenize
from shopsense.text.words import load_word_lists

log = logging.getLogger(__name__)


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
    no_exact_match: dict[str, str] | None = None  # the shop sells no product of the type asked

    def to_dict(self, with_products: bool = True, with_results: bool = True) -> dict[str, Any]:
        """The response as plain data; `with_results=False`: "results" left empty (for a
        caller that writes its own items)."""
        def result(r: Result) -> dict[str, Any]:
            out: dict[str, Any] = {"item_id": r.item_id, "score": round(r.score, 6),
                                   "signals": {k: round(v, 6) for k, v in r.signals.items()},
                                   "evidence": r.evidence}
            if self.no_exact_match is not None:
                out["alternative"] = True
            if with_products and r.product is not None:
                p = r.product
                out["product"] = {"title": p.title, "brand": p.brand, "category": p.category,
                                  "price": p.price, "currency": p.currency,
                                  "available": p.available, "image_url": p.image_url}
            return out

        data = {k: getattr(self, k) for k in (
            "query", "total", "page", "page_size", "sort", "facets", "applied_filters",
            "relaxed_filters", "soft_boosts", "did_you_mean", "corrections", "reading", "ranker",
            "timings_ms", "no_exact_match")}
        data["latency_ms"] = round(self.latency_ms, 3)
        data["results"] = [result(r) for r in self.results] if with_results else []
        return data

class SearchEngine(QueryWords, SearchIndex):
    """The search pipeline over one catalogue's index (see `SearchIndex` for its parts)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zero_results_: deque[dict[str, Any]] = deque(maxlen=10_000)
        # the shopper-independent stages of recent queries (see `search`); any write clears it
        self.stages_ = Memo(int(self.settings.stage_cache_mb * 2**20),
                            self.settings.stage_cache_ttl_s, getsizeof=stage_bytes)
        self.warmed_: dict[str, int] = {"done": 0, "of": 0}  # progress of `warm`
        self.warmed_vectors_: dict[str, int] = {}  # progress of `warm_vectors`, once begun
        self.warm_keys_ = WarmKeys(self.settings.stage_cache_ttl_s,  # searches now cheap
                                   self.stages_.enabled)
        self.pinyin_: PinyinCorrector | None = None  # homophone typos (learned on first use)
        self.homophones_: dict[str, tuple[str, dict[str, str]]] = {}  # its recent answers
        self.product_stems_: set[str] | None = None  # index terms of the learned product words
        self.entities_file: Path | None = None  # the operator's entity overrides
        self.entities_: tuple[Any, Entities] | None = None  # (understander, its entities)
        self.typed_: tuple[Any, TypedWords] | None = None  # (understander, its product words)
        self.types_: dict[tuple[str, str, int], Any] = {}  # read_type's answers (catalogue-bound)
        self.glossary_files: list[Path] = []  # category names in English (index/glossary.py)
        self.nodes_: Any = None  # category_nodes' answer (catalogue-bound)
        # facet views of cached stages' counts (`facet_view`); shared: read, do not change
        self.facet_views_: LRUCache[tuple[Any, ...], tuple[Any, Any, dict[str, Any]]] = \
            LRUCache(2048)
        self.facet_views_lock_ = threading.Lock()

    def _changed(self, catalogue: bool) -> None:
        if hasattr(self, "stages_"):
            self.stages_.clear()
            self.warm_keys_.clear()
        if hasattr(self, "facet_views_"):
            with self.facet_views_lock_:
                self.facet_views_.clear()
        if catalogue:
            self.pinyin_ = None
            self.homophones_ = {}
            self.typed_ = None
            self.types_ = {}
            self.nodes_ = None

    # ---- ranking data -----------------------------------------------------------------------
    def featurize(self, query: str, reading: QueryReading | None = None,
                  filters: Sequence[Clause] = (), synonyms: SynonymSet | None = None,
                  product_typos_only: bool = False
                  ) -> tuple[CandidateSet, QueryContext, np.ndarray]:
        """Candidates of `query` (the shopper's `filters` pushed down where the backend can,
        the shop's `synonyms` matched) and their (n, n_features) feature matrix;
        `product_typos_only`: spelling corrections only onto product words (the alternatives
        to an absent type: shaver is no slip of Haier)."""
        found, ctx = self.retrieved(query, reading, filters, synonyms, product_typos_only)
        return found, ctx, self.features(found, ctx)

    def retrieved(self, query: str, reading: QueryReading | None, filters: Sequence[Clause],
                  synonyms: SynonymSet | None, product_typos_only: bool
                  ) -> tuple[CandidateSet, QueryContext]:
        """`featurize`'s candidates and query context, before any feature."""
        found = self.retriever.candidates(
            query, where=pushdown_filter(filters), synonyms=synonyms,
            correct=self._product_typo if product_typos_only else None)
        ctx = QueryContext.build(query, found.query.terms, self.keyword,
                                 found.query.corrections, found.query_vector, reading,
                                 found.query.compounds)
        return found, ctx

    def features(self, found: CandidateSet, ctx: QueryContext,
                 subset: np.ndarray | None = None) -> np.ndarray:
        """The feature matrix of `found`'s candidates, or of those at the ascending positions
        `subset` only (the same rows of it: `candidate_features`)."""
        rows = found.rows if subset is None else found.rows[subset]
        products = [self.table.products_[r] for r in rows.tolist()]
        priors = np.zeros((len(rows), 3), dtype=np.float32)
        priors[:, 0] = self.table.popularity_[rows]
        created = self.table.created_[rows]
        priors[:, 1] = np.where(np.isnan(created), -1.0, (time.time() - created) / 86400.0)
        return candidate_features(ctx, self.keyword, found.rows, found.bm25, found.matched,
                                  found.semantic, products, priors, found.vectors, subset)

    # ---- serving ----------------------------------------------------------------------------
    def search(self, query: str, *, k: int = 10, page: int = 1, sort: str = "relevance",
               filters: Sequence[Clause] = (), reading: QueryReading | None = None,
               profile: UserProfile | None = None, now: float | None = None,
               with_facets: bool = True, log_zero: bool = True,
               synonyms: SynonymSet | None = None) -> SearchResponse:
        """One page of results for `query`, with facets, filters applied / relaxed and signals;
        `synonyms`: the shop's query synonyms (text/synonyms.py)."""
        start = time.perf_counter()
        typed = query
        query, reading, homophones = self._prepared(query, reading, synonyms)
        timings: dict[str, float] = {}
        filters = entity_filters(filters, self.entities())  # an entity matches all its aliases
        ctx, selection, corrections = self._stage(query, reading, filters, with_facets, timings,
                                                  synonyms)
        if selection.no_exact_match is not None:  # no "did you mean neck / last" for an
            corrections = {w: c for w, c in corrections.items()  # absent necktie / labt
                           if self._product_typo(w) == c}
        corrections = {**homophones, **_outside_value_words(corrections, reading)}
        relaxed, order = relaxed_notes(selection.relaxed, reading, sort,
                                       self.table.currency_of_shop())
        page_results, total = rank_page(self, selection, ctx, order, page, k, profile,
                                         time.time() if now is None else now)
        if selection.no_exact_match is not None:  # what its reasons may claim (explain/)
            page_results = [replace(r, evidence={**r.evidence, "alternative": True})
                            for r in page_results]
        latency = (time.perf_counter() - start) * 1000
        timings["total_ms"] = latency
        if total == 0 and log_zero:
            self._log_zero_result(typed, profile.user_id if profile is not None else None)
        return SearchResponse(
            query=typed, results=page_results, total=total, page=page, page_size=k, sort=order,
            facets=selection.facets, applied_filters=[c.to_dict() for c in selection.applied],
            relaxed_filters=relaxed, soft_boosts=soft_boosts(self, selection, page_results),
            did_you_mean=query if homophones else
            self.suggester.did_you_mean(query, corrections),
            corrections=corrections,
            reading=reading.to_dict() if reading is not None else None,
            ranker=serving_ranker(self.ranker), latency_ms=latency,
            timings_ms={k2: round(v, 3) for k2, v in timings.items()},
            no_exact_match=selection.no_exact_match.to_dict(alternatives=total > 0)
            if selection.no_exact_match is not None else None)

    def _prepared(self, query: str, reading: QueryReading | None,
                  synonyms: SynonymSet | None) -> tuple[str, QueryReading | None,
                                                         dict[str, str]]:
        """The query as its stage is computed (homophones and a typed word's completion
        corrected), its reading (of the corrected words, with the product type it names) and
        the corrections made: what `search` keys the stage cache by, and `warm` too."""
        if synonyms and synonyms.slots(tokenize(query), tokenize(query)):
            homophones = {}  # a phrase with synonyms is the operator's word: no "fix" of it
        else:
            query, homophones = self.correct_homophones(query)
            query, typed_words = self.complete_typed_word(query)
            homophones = {**homophones, **typed_words}
        if homophones and self.understander is not None:
            reading = self.understander.understand(query)  # the reading of the corrected words
        if reading is None and self.understander is not None and query.strip():
            reading = self.understander.understand(query)
        if reading is not None and self.understander is not None and not (
                synonyms and synonyms.spans(query)):
            reading = with_type_reading(reading, self.read_type(reading))
        return query, reading, homophones

    def _stage(self, query: str, reading: QueryReading | None, filters: Sequence[Clause],
               with_facets: bool, timings: dict[str, float],
               synonyms: SynonymSet | None = None
               ) -> tuple[QueryContext, Selection, dict[str, str]]:
        """The shopper-independent part of a search, from the stage cache when it is there."""
        key = (query, reading_key(reading), tuple(repr(c.to_dict()) for c in filters),
               with_facets, id(self.ranker), synonyms.key if synonyms else "")
        cached = self.stages_.get(key)
        if cached is not None:
            timings["stage_cache_hit"] = 1.0
            return cached
        generation = self.stages_.generation  # a catalogue edit meanwhile: not cached
        start = time.perf_counter()
        # a query with synonyms is not an absent product type: its alternatives are the shop's
        verdict = None if synonyms and synonyms.spans(query) else self.sells(reading)
        # the closest alternatives to an absent type are those of the type words, not of the
        # question around them ("do you sell a dishwasher?" is not close to coffee)
        text = _alternatives_text(query, reading, verdict)
        found, ctx = self.retrieved(text, reading, filters, synonyms,
                                    product_typos_only=verdict is not None)
        # features for the candidates the filters keep only (a fifth of them at the median)
        kept = filtered(self, found, filters, reading, verdict)
        features = self.features(found, ctx, np.flatnonzero(kept.keep))
        timings["retrieve_features_ms"] = (time.perf_counter() - start) * 1000
        selection = select(self, found, features, kept, with_facets, verdict)
        ctx.vector = None  # not needed past featurising; keeps the cached stage small
        cached = (ctx, selection, found.query.corrections)
        self.stages_.put(key, cached, generation)
        return cached

    def entities(self) -> Entities:
        """Brand / attribute entities (zh + en names) from the understander's learned aliases
        and the operator's override file; rebuilt when the understander changes."""
        if self.entities_ is None or self.entities_[0] is not self.understander:
            u = self.understander
            self.entities_ = (u, Entities.build(getattr(u, "brands_", ()),
                                                getattr(u, "attributes_", ()),
                                                self.entities_file))
        return self.entities_[1]

    def facet_view(self, raw: dict[str, Any], lang: str, filters: Sequence[Clause] = ()
                   ) -> dict[str, Any]:
        """Facet counts of a response in the API shape, names in `lang` (zh | en)."""
        entities = self.entities()
        # a cached stage's counts give the same view for the same language and selections:
        # computed once (the entry holds `raw` and `entities`, so their ids stay theirs)
        key = (id(raw), id(entities), lang, tuple(repr(c.to_dict()) for c in filters))
        with self.facet_views_lock_:
            held = self.facet_views_.get(key)
        if held is not None:
            return held[2]
        view = facet_view(raw, entities, lang, entity_filters(filters, entities))
        with self.facet_views_lock_:
            self.facet_views_[key] = (raw, entities, view)
        return view

    def warm(self, n: int, stop: Any = None, read: Any = None,
             synonyms: SynonymSet | None = None) -> int:
        """Fill the stage cache with the `n` most searched queries, each as a search with no
        filters would compute it (the storefront's first page): the same corrections, reading
        and stage key (`_prepared`); `read(query)`: the reading the caller's search passes
        (pipeline/surfaces.py: the shop's synonyms unread), else the understander's; the
        shop's `synonyms`. Returns how many were computed; stops early when `stop()` is true
        (a newer model took over)."""
        queries = self.top_queries_[:n]
        done = 0
        self.warmed_ = {"done": 0, "of": len(queries)}
        if self.encoder is not None:  # the first product encoded after a load costs ~0.9 s
            self.encoder.encode_documents(["warm-up"])
        load_word_lists()  # here, not in a shopper's first search
        for query in queries:
            if stop is not None and stop():
                break
            started = time.perf_counter()
            reading = read(query) if read is not None and query.strip() else None
            corrected, reading, _ = self._prepared(query, reading, synonyms)
            generation = self.warm_keys_.generation
            self._stage(corrected, reading, entity_filters((), self.entities()), True, {},
                        synonyms)
            self.warm_keys_.note(search_key(query), generation)  # the storefront's plain search
            done += 1
            self.warmed_["done"] = done
            time.sleep(time.perf_counter() - started)  # half duty: requests keep the GIL free
        return done

    def warm_vectors(self, n: int, stop: Any = None, batch: int = 256) -> int:
        """Encode the `n` most searched queries' vectors ahead (`search.query_vectors`), a
        batch at a time at half duty; progress in `warmed_vectors_`. Returns how many."""
        queries = self.top_queries_[:n] if self.retriever.encoder is not None else []
        progress = self.warmed_vectors_ = {"done": 0, "of": len(queries)}
        for start in range(0, len(queries), batch):
            if stop is not None and stop():
                break
            started = time.perf_counter()
            self.retriever.warm_query_vectors(queries[start:start + batch], batch)
            progress["done"] = min(start + batch, len(queries))
            time.sleep(time.perf_counter() - started)
        return progress["done"]

    def clear_caches(self) -> None:
        """Forget cached query vectors and query stages (cold-cache latency measurements)."""
        self.retriever.clear_cache()
        self.stages_.clear()
        self.warm_keys_.clear()

    def _log_zero_result(self, query: str, actor: str | None) -> None:
        if self.zero_result_log is not None:
            entry = self.zero_result_log.record(query, actor)
            if entry is not None:
                self.zero_results_.append(entry)



def serving_ranker(ranker: Any) -> str:
    """What orders the results: "lambdamart" (the trained model), "blend" or "bm25f"."""
    mode = getattr(ranker, "mode_", None)
    if mode is None:
        return str(ranker.name)
    return "lambdamart" if mode == "model" else str(mode)


def _alternatives_text(query: str, reading: QueryReading | None,
                       verdict: NoExactMatch | None) -> str:
    """What to retrieve with: the query, or for an absent type asked inside a question the
    type words with the brands the reading found (their filter still applies)."""
    if verdict is None or reading is None or verdict.requested not in query:
        return query
    brands = " ".join(s.text for s in reading.brands if s.text and s.text not in
                      verdict.requested)
    return f"{brands} {verdict.requested}".strip()


def _outside_value_words(corrections: dict[str, str], reading: QueryReading | None
                         ) -> dict[str, str]:
    """The corrections, less those of words the reading understood as a value or price phrase
    ("top of the line" is no typo of "top of the fine")."""
    spans = [] if reading is None else [s.text.lower() for s in (
        reading.value_preference, reading.price_min, reading.price_max) if s is not None]
    return {w: c for w, c in corrections.items()
            if not any(w.lower() in text.split() for text in spans)}




__all__ = ["SearchEngine", "SearchResponse", "engine_dir", "product_fields", "product_text"]
