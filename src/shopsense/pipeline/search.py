"""The search pipeline: understand -> retrieve (keyword + vector) -> filter -> rank -> personalise.

`SearchEngine` is the stateless pipeline over one catalogue's `SearchIndex` (pipeline/
search_index.py: build / update / save / load, versioned on disk); its only state is caches
(the shopper-independent stage of recent queries, the homophone corrector). `search()`
returns a `SearchResponse` whose results carry every signal that placed them; selection and
paging live in pipeline/search_page.py. `open_search_engine(settings)` opens the current
version (checked against the store's catalogue) or builds one.

Over 400 lines: `SearchEngine` is one class whose methods share the caches it keeps beside
the index it inherits (the stage cache that `search`, `warm` and `_changed` fill and clear, the
homophone corrector and product words that `autocomplete` and `corrected_query` use, the
zero-result log); taking the stage cache out as a wrapper would change the class that 19 other
modules use (src, tests, benchmarks), and was not done in issue #22's time. The index, paging and
facets already live in their own modules (search_index.py, search_page.py, search_facets.py).
"""

from __future__ import annotations

import json
import logging
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from shopsense.config import Settings
from shopsense.domain import EVENT_WEIGHTS, QueryReading, Result, UserProfile
from shopsense.index.catalog import product_fields, product_text
from shopsense.index.entities import Entities
from shopsense.index.glossary import glossary_files
from shopsense.index.nodes import category_nodes
from shopsense.index.sells import (
    NoExactMatch,
    TypeReading,
    catalogue_sells,
    read_type_words,
    with_type_reading,
)
from shopsense.index.suggest import kind_label, language_of
from shopsense.index.typed import TypedWords
from shopsense.memo import Memo
from shopsense.pipeline.search_facets import entity_filters, facet_view
from shopsense.pipeline.search_index import (
    SearchIndex,
    catalogue_stamp,
    current_version,
    engine_dir,
    save_version,
    search_root,
)
from shopsense.pipeline.search_page import (
    Selection,
    rank_page,
    select,
    soft_boosts,
    stage_bytes,
)
from shopsense.pipeline.warm_keys import WarmKeys, search_key
from shopsense.rank.filters import Clause, pushdown_filter
from shopsense.rank.honest import relaxed_notes
from shopsense.rank.search_features import QueryContext, candidate_features
from shopsense.retrieve.backends import Retrieval, retrieval_for
from shopsense.retrieve.hybrid import CandidateSet
from shopsense.store.base import Store
from shopsense.text.encoders import Encoder, make_encoder
from shopsense.text.normalize import normalize
from shopsense.text.pinyin import PinyinCorrector
from shopsense.text.synonyms import SynonymSet
from shopsense.text.tokenize import tokenize
from shopsense.text.words import load_word_lists

log = logging.getLogger(__name__)
HOMOPHONE_MEMO = 20_000  # queries whose homophone reading is kept (then the memo restarts)


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

    def to_dict(self, with_products: bool = True) -> dict[str, Any]:
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
        data["results"] = [result(r) for r in self.results]
        return data

class SearchEngine(SearchIndex):
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

    def _changed(self, catalogue: bool) -> None:
        if hasattr(self, "stages_"):
            self.stages_.clear()
            self.warm_keys_.clear()
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
        found = self.retriever.candidates(
            query, where=pushdown_filter(filters), synonyms=synonyms,
            correct=self._product_typo if product_typos_only else None)
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

    def _stage(self, query: str, reading: QueryReading | None, filters: Sequence[Clause],
               with_facets: bool, timings: dict[str, float],
               synonyms: SynonymSet | None = None
               ) -> tuple[QueryContext, Selection, dict[str, str]]:
        """The shopper-independent part of a search, from the stage cache when it is there."""
        key = (query, _reading_key(reading), tuple(repr(c.to_dict()) for c in filters),
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
        found, ctx, features = self.featurize(text, reading, filters, synonyms,
                                              product_typos_only=verdict is not None)
        timings["retrieve_features_ms"] = (time.perf_counter() - start) * 1000
        selection = select(self, found, features, filters, reading, with_facets, verdict)
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
        return facet_view(raw, self.entities(), lang, entity_filters(filters, self.entities()))

    def correct_homophones(self, query: str) -> tuple[str, dict[str, str]]:
        """`query` with Chinese words the catalogue does not know replaced by catalogue words
        that sound the same (空掉 -> 空调), and the changes; the corrector is learned from
        the keyword vocabulary on first use and after catalogue writes."""
        if not any("\u4e00" <= ch <= "\u9fff" for ch in query):
            return query, {}
        memo = self.homophones_  # asked on every search, cached stage or not; a catalogue
        known = memo.get(query)  # write meanwhile replaces the memo: this answer is not kept
        if known is None:
            if self.pinyin_ is None:
                self.pinyin_ = PinyinCorrector().fit(
                    {t: int(self.keyword.df_[i]) for t, i in self.keyword.vocab_.items()})
            if len(memo) >= HOMOPHONE_MEMO:
                memo.clear()
            known = memo[query] = self.pinyin_.correct(query)
        return known[0], dict(known[1])

    def complete_typed_word(self, query: str) -> tuple[str, dict[str, str]]:
        """`query` with an unfinished last word read as the product word it begins ('lapt'
        -> laptop, '空' -> 空调; index/typed.py), and {typed: completed}; needs the
        understander's learned product words."""
        u = self.understander
        if u is None or not getattr(u, "terms_", None):
            return query, {}
        if self.typed_ is None or self.typed_[0] is not u:
            vocab, df = self.keyword.vocab_, self.keyword.df_

            def weight(word: str) -> float:
                ids = [vocab.get(t) for t in tokenize(word)]
                return float(min((df[i] if i is not None else 0) for i in ids)) if ids else 0.0

            def known(word: str) -> bool:
                terms = tokenize(word)
                return bool(terms) and all(t in vocab for t in terms)

            self.typed_ = (u, TypedWords(u.terms_, known, weight))
        return self.typed_[1].complete(query)

    def sells(self, reading: QueryReading | None) -> NoExactMatch | None:
        """The in-catalogue test of `reading` (`index.sells.catalogue_sells`): None when the
        shop sells the product type it names, or names none; needs the understander."""
        if reading is None or self.understander is None:
            return None
        return catalogue_sells(reading, self.understander, self.keyword, self._product_typo)

    def read_type(self, reading: QueryReading) -> NoExactMatch | TypeReading | None:
        """`index.sells.read_type_words` over this catalogue: which leaf type words no
        product word covers point at (washer: the leaf of the titles that write it)."""
        key = (reading.query, _reading_key(reading), id(self.understander))
        if key not in self.types_:
            def leaves(rows: np.ndarray) -> list[str]:
                return [self.table.products_[r].category for r in rows.tolist()]

            if len(self.types_) > 10_000:
                self.types_.clear()
            self.types_[key] = read_type_words(reading, self.understander, self.keyword,
                                               self._product_typo, leaves,
                                               category_nodes(self).names)
        return self.types_[key]

    def _product_typo(self, term: str) -> str:
        """A spelling correction of an index term, kept only when it lands on a product word
        (lapop -> laptop, not shaver -> haier)."""
        fixed = self.spell.correct_word(term)
        if fixed == term or abs(len(fixed) - len(term)) > 1:  # a slip, not neckti -> neck
            return term
        if self.product_stems_ is None:
            words = getattr(self.understander, "terms_", {}) or {}
            self.product_stems_ = {t for w in words for t in tokenize(w)}
        return fixed if fixed in self.product_stems_ else term

    def warm(self, n: int, stop: Any = None) -> int:
        """Fill the stage cache with the `n` most searched queries (as a search with no
        filters would: the storefront's first page). Returns how many were computed; stops
        early when `stop()` is true (a newer model took over)."""
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
            reading = self.understander.understand(query) if self.understander else None
            generation = self.warm_keys_.generation
            self._stage(query, reading, (), True, {})
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

    def autocomplete(self, prefix: str, k: int = 10, lang: str | None = None
                     ) -> list[dict[str, object]]:
        """Completions, each {"text", "kind", "kind_label"}: the corrected query when the
        prefix holds a typo (only if it finds products), popular queries (typo-corrected and
        only when they find products), categories, brands, words, then up to 3 products with
        their price."""
        lang = lang or language_of(prefix)
        out: list[dict[str, object]] = []
        seen: set[str] = set()

        def add(item: dict[str, object]) -> None:
            if str(item["text"]) not in seen and len(out) < k:
                seen.add(str(item["text"]))
                out.append(item)

        corrected = self.corrected_query(prefix)
        if corrected is not None:
            add({"text": corrected, "kind": "correction",
                 "kind_label": kind_label("correction", lang)})
        head, _, last = normalize(prefix).rpartition(" ")
        completed, typed = self.complete_typed_word(prefix)  # as search reads it: "lapt"
        likely = None if corrected or typed else self.suggester.likely_word(last)
        if typed:
            corrected = completed
        elif likely:  # "labt": the products of the word it most likely is ("laptop")
            corrected = f"{head} {likely}".strip()
        for item in self.suggester.complete(prefix, k, lang):
            if item["kind"] == "query":
                text = self.corrected_query(item["text"]) or item["text"]
                if not self._finds(text):
                    continue
                item = {**item, "text": text}
            add(item)
        if len(prefix.strip()) >= 2 or typed:  # one Han character may begin a product word
            for r in self.search(corrected or prefix, k=3, with_facets=False,
                                 log_zero=False).results:
                if r.product is not None:
                    add({"text": r.product.title, "kind": "product",
                         "kind_label": kind_label("product", lang), "item_id": r.item_id,
                         "price": r.product.price, "currency": r.product.currency})
        return out

    def corrected_query(self, text: str) -> str | None:
        """`text` with its homophone (zh) and spelling (en) typos corrected, when that
        changes it and the corrected text finds products; else None."""
        fixed, changes = self.correct_homophones(text)
        words = fixed.split()
        spelled = []
        for word in words:  # an unknown English word one slip from a product word
            terms = tokenize(word) if word.isascii() else []
            if len(terms) == 1 and not self.spell.known(terms[0]):
                fix = self._product_typo(terms[0])
                if fix != terms[0]:
                    word = self.suggester.surface_.get(fix, fix)
            spelled.append(word)
        fixed = " ".join(spelled)
        if (not changes and fixed == " ".join(words)) or not self._finds(fixed):
            return None
        return fixed

    def _finds(self, text: str) -> bool:
        reading = self.understander.understand(text) if self.understander is not None else None
        return self.search(text, k=1, reading=reading, with_facets=False,
                           log_zero=False).total > 0

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


def _reading_key(reading: QueryReading | None) -> str:
    return "" if reading is None else json.dumps(reading.to_dict(), sort_keys=True,
                                                  ensure_ascii=False, default=str)



def build_search_engine(store: Store, settings: Settings, *, encoder: Encoder | None = None,
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
    engine.set_popularity(*event_popularity(store.iter_events()))
    engine.glossary_files = glossary_files(settings.home)
    return engine


def event_popularity(events: Any) -> tuple[dict[str, float], dict[str, int]]:
    """Item popularity (weighted event counts) and, per logged query, the number of distinct
    shoppers (user or session) who searched it: suggestions never rest on one shopper."""
    items: dict[str, float] = {}
    searchers: dict[str, set[str]] = {}
    for event in events:
        if event.item_id:
            items[event.item_id] = items.get(event.item_id, 0.0) + \
                EVENT_WEIGHTS.get(event.event_type, 0.0)
        if event.event_type == "search" and event.query and event.query.strip():
            searchers.setdefault(event.query.strip(), set()).add(event.actor)
    return items, {q: len(actors) for q, actors in searchers.items()}


def open_search_engine(settings: Settings, *, rebuild: bool = False) -> SearchEngine:
    """The current saved version under <home>/models/search when it was saved with the
    retrieval backend the settings select and indexes exactly the store's catalogue; else
    one built from the store and saved as a new version (switched to atomically)."""
    from shopsense.store import open_store

    store = open_store(settings.store_url)
    retrieval = retrieval_for(settings.search, settings.store_url)
    current = current_version(search_root(settings))
    if not rebuild and current is not None:
        config = json.loads((current / "config.json").read_text())
        if config.get("retrieval", "embedded") != retrieval.name:
            log.info("rebuilding the search index: saved with %s retrieval", config.get(
                "retrieval"))
        elif config.get("catalogue") != catalogue_stamp(store.iter_products()):
            log.warning("rebuilding the search index: %s does not index the store's "
                        "catalogue", current)
        else:
            engine = SearchEngine.load(current, retrieval=retrieval,
                                       zero_result_log=settings.home / "logs" /
                                       "zero_results.jsonl")
            engine.entities_file = settings.home / "entities.json"
            engine.glossary_files = glossary_files(settings.home)
            return engine
    engine = build_search_engine(store, settings, retrieval=retrieval)
    save_version(engine, search_root(settings))
    engine.entities_file = settings.home / "entities.json"
    engine.glossary_files = glossary_files(settings.home)
    return engine


def save_search_engine(engine: SearchEngine, settings: Settings) -> Path:
    """Save `engine` (e.g. with a newly trained ranker) as the home's new current version."""
    return save_version(engine, search_root(settings))


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


__all__ = ["SearchEngine", "SearchResponse", "build_search_engine", "engine_dir",
           "event_popularity", "open_search_engine", "product_fields", "product_text",
           "save_search_engine", "shopper_profile"]
