"""Hybrid retrieval: the union of keyword (BM25F) and semantic (encoder) candidates.

`HybridRetriever.candidates()` returns a `CandidateSet`: the candidate rows to rank (top BM25F
rows plus encoder neighbours close to the best one), their raw signals, and the whole match set
(rows matching enough query terms, plus those neighbours) that facets and totals count.
It is itself a `Retriever`; its own `retrieve()` orders candidates with `QueryBlend`.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import numpy as np

from shopsense.domain import Candidate
from shopsense.index.filter import ProductFilter
from shopsense.index.keyword import KeywordIndex, KeywordMatches
from shopsense.index.rowsets import union
from shopsense.index.vector import VectorIndex
from shopsense.retrieve.backends import BM25FCandidates, KeywordCandidates
from shopsense.retrieve.keyword import AnalysedQuery, analyse
from shopsense.retrieve.synonyms import slot_matches, with_synonyms
from shopsense.text.encoders import Encoder
from shopsense.text.spell import SpellCorrector
from shopsense.text.synonyms import SynonymSet
from shopsense.text.tokenize import tokenize


@dataclass
class CandidateSet:
    """Rows are keyword-index rows. Arrays are aligned with `rows`."""

    query: AnalysedQuery
    rows: np.ndarray  # (n,) candidates to rank
    bm25: np.ndarray  # (n,)
    matched: np.ndarray  # (n,) distinct query terms matched
    semantic: np.ndarray  # (n,) cosine, 0 without an encoder
    match_rows: np.ndarray  # every row that matches the query (superset of rows), ascending
    query_vector: np.ndarray | None
    keyword: KeywordMatches  # BM25F of every row holding a query term (non-candidates too)
    vectors: np.ndarray | None = None  # (n, dim) candidate vectors when an encoder is used


def min_should_match(n_terms: int) -> int:
    """Terms a row must match to count as a match: all of 1-2, then 60 %."""
    return n_terms if n_terms <= 2 else math.ceil(0.6 * n_terms)


class HybridRetriever:
    """Keyword + vector candidate generation over the same rows."""

    name = "hybrid"

    def __init__(self, keyword: KeywordIndex, spell: SpellCorrector | None = None,
                 vector: VectorIndex | None = None,
                 encoder: Encoder | None = None, *, n_keyword: int = 200, n_vector: int = 50,
                 min_cosine: float = 0.3, cosine_window: float = 0.25,
                 keyword_candidates: KeywordCandidates | None = None,
                 query_vector_cache: int = 4096) -> None:
        if (vector is None) != (encoder is None):
            raise ValueError("give both a vector index and its encoder, or neither")
        self.keyword = keyword
        self.keyword_candidates = keyword_candidates or BM25FCandidates()
        self.spell = spell
        self.vector = vector
        self.encoder = encoder
        self.n_keyword = n_keyword
        self.n_vector = n_vector
        self.min_cosine = min_cosine
        self.cosine_window = cosine_window
        self._query_vectors: OrderedDict[str, np.ndarray] = OrderedDict()  # LRU, popular queries
        self.query_vector_cache = query_vector_cache

    def clear_cache(self) -> None:
        self._query_vectors.clear()

    def query_vector(self, text: str) -> np.ndarray:
        """The encoder's vector for `text`, from a small LRU cache when seen recently."""
        assert self.encoder is not None
        vec = self._query_vectors.get(text)
        if vec is None:
            vec = self._query_vectors[text] = self.encoder.encode_query(text)
            if len(self._query_vectors) > self.query_vector_cache:
                self._query_vectors.popitem(last=False)
        else:
            self._query_vectors.move_to_end(text)
        return vec

    def warm_query_vectors(self, texts: Sequence[str], batch: int = 256) -> int:
        """Encode the `texts` not cached yet, `batch` at a time (a batch costs a quarter of
        the CPU per text of one query at a time), into the cache (each batch's least wanted
        first, so its first outlive them in the LRU). Returns how many were encoded."""
        if self.encoder is None:
            return 0
        todo = [t for t in dict.fromkeys(texts) if t not in self._query_vectors]
        todo = todo[:self.query_vector_cache][::-1]
        for start in range(0, len(todo), batch):
            chunk = todo[start:start + batch]
            vectors = self.encoder.encode_queries(chunk)
            for text, vec in zip(chunk, vectors, strict=True):
                self._query_vectors[text] = np.ascontiguousarray(vec, dtype=np.float32)
                if len(self._query_vectors) > self.query_vector_cache:
                    self._query_vectors.popitem(last=False)
        return len(todo)

    def candidates(self, text: str, where: ProductFilter | None = None,
                   synonyms: SynonymSet | None = None,
                   correct: Callable[[str], str] | None = None) -> CandidateSet:
        """`where`: filters the lists may apply in their engine (the caller filters after);
        `synonyms`: the shop's query synonyms (a phrase's alternatives fill its slot);
        `correct`: the spelling correction of a term, in place of the catalogue-wide one."""
        query = analyse(text, self.spell, self.keyword.vocab_, correct)
        slots = with_synonyms(query, tokenize(text), synonyms) if synonyms else None
        matches = self.keyword.score_matches(query.match_terms)
        kw_rows = self.keyword_candidates.top_rows(query.match_terms, matches, self.n_keyword,
                                                   where=where)
        if slots is not None:
            matches, n_known = slot_matches(self.keyword, matches, slots)
        else:
            n_known = len(self.keyword.query_term_ids(query.terms))
        need = max(min_should_match(n_known), 1)
        matching = matches.rows[matches.matched >= need] if n_known else matches.rows[:0]
        vec_rows = np.zeros(0, dtype=np.int64)
        qvec = None
        if self.vector is not None and self.encoder is not None and text.strip():
            qvec = self.query_vector(text)
            ids, cos = self.vector.search(qvec, self.n_vector, where=where)
            if len(ids):
                floor = max(self.min_cosine, self._best_cosine(qvec, cos, where)
                            - self.cosine_window)
                # a shared index may hold items this replica's catalogue does not have yet
                vec_rows = np.asarray([row for i, c in zip(ids, cos.tolist(), strict=True)
                                       if c >= floor and (row := self.keyword.row_of_.get(i))
                                       is not None], dtype=np.int64)
        rows = np.union1d(kw_rows, vec_rows).astype(np.int64)
        semantic = np.zeros(len(rows), dtype=np.float32)
        vectors = None
        if qvec is not None and len(rows):
            assert self.vector is not None
            vectors = self.vector.vectors_of([self.keyword.item_ids_[r] for r in rows.tolist()])
            semantic = vectors @ qvec
        match_rows = union(matching, rows)  # np.union1d: ~0.45 s when a query matches 1M rows
        return CandidateSet(query, rows, matches.bm25_of(rows), matches.matched_of(rows),
                            semantic.astype(np.float32),
                            match_rows[self.keyword.alive_[match_rows]], qvec, matches, vectors)

    def _best_cosine(self, qvec: np.ndarray, cos: np.ndarray, where: ProductFilter | None
                     ) -> float:
        """The cosine the semantic floor is relative to: the best match before filtering,
        so a pushed-down filter admits the same neighbours as filtering afterwards."""
        if where is None or not getattr(self.vector, "applies_filters", False):
            return float(cos[0])
        assert self.vector is not None
        _, unfiltered = self.vector.search(qvec, 1)
        return float(unfiltered[0]) if len(unfiltered) else float(cos[0])

    def retrieve(self, query: str, k: int, *, exclude: Collection[str] = ()) -> list[Candidate]:
        """Candidates ordered by a coverage-gated blend: BM25F (relative to the best) plus the
        cosine, weighted up when few query terms matched (the learned ranker lives in rank/)."""
        found = self.candidates(query)
        if len(found.rows) == 0:
            return []
        n_terms = max(len(self.keyword.query_term_ids(found.query.match_terms)), 1)
        weight = 0.1 + 0.8 * (1.0 - float(found.matched.max()) / n_terms) ** 2
        lexical = found.bm25 / max(float(found.bm25.max()), 1e-6)
        cos = found.semantic
        spread = float(cos.max() - cos.min())
        semantic = (cos - cos.min()) / spread if spread > 1e-6 else np.zeros_like(cos)
        scores = (1 - weight) * lexical + weight * semantic
        excluded = set(exclude)
        out = []
        for j in np.argsort(-scores, kind="stable").tolist():
            item_id = self.keyword.item_ids_[int(found.rows[j])]
            if item_id not in excluded:
                out.append(Candidate(item_id, float(scores[j]),
                                     {"bm25f": float(found.bm25[j]),
                                      "semantic": float(found.semantic[j])}))
        return out[:k]
