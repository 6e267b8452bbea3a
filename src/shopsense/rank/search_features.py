"""Which facts about a (query, product) pair the search ranker sees, computed per candidate.

Lexical (BM25F, per-field BM25, term coverage, phrase and head-word matches, numbers, the
title's share of the query's character trigrams: typos, joined / split words, unit formats),
semantic (encoder cosine, its rank), query-understanding matches (category / brand / attribute /
price agreement with the reading) and item priors (popularity, freshness, personal affinity).
`FEATURE_NAMES` fixes the column order of the (n_candidates, n_features) matrix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from shopsense.domain import Product, QueryReading
from shopsense.index.grams import overlap_packed, trigram_ids
from shopsense.index.keyword import KeywordIndex

FEATURE_NAMES: tuple[str, ...] = (
    "bm25f", "bm25f_rel", "bm25f_rank",
    "bm25.title", "bm25.brand", "bm25.category", "bm25.description", "bm25.attributes",
    "matched_terms", "coverage", "idf_coverage", "all_terms", "title_coverage",
    "phrase_longest", "bigram_frac", "head_in_title", "head_position", "first_in_title",
    "numbers_matched", "numbers_missing", "query_len", "title_len", "spell_corrected",
    "semantic", "semantic_rel", "semantic_rank", "prf_terms", "prf_semantic", "brand_in_query",
    "first_match_position", "query_max_bm25", "query_full_matches", "semantic_z",
    "trigram_jaccard", "trigram_cover",
    "intent.category", "intent.brand", "intent.attribute", "intent.price",
    "popularity", "freshness_days", "personal",
)
FIELD_FEATURES = ("bm25.title", "bm25.brand", "bm25.category", "bm25.description",
                  "bm25.attributes")


@dataclass
class QueryContext:
    """What is known of the query once analysed: terms (spell-corrected), ids, idf, vector."""

    text: str
    terms: list[str]  # query terms, then compounds
    term_ids: np.ndarray  # distinct known term ids, query order
    ordered_ids: list[int]  # known term ids in query order, with repeats
    idf: np.ndarray  # idf of term_ids
    corrections: dict[str, str] = field(default_factory=dict)
    vector: np.ndarray | None = None
    reading: QueryReading | None = None

    @classmethod
    def build(cls, text: str, terms: list[str], index: KeywordIndex,
              corrections: Mapping[str, str] | None = None, vector: np.ndarray | None = None,
              reading: QueryReading | None = None, compounds: Sequence[str] = ()
              ) -> QueryContext:
        """`terms` in query order; `compounds` (joined adjacent terms) only widen matching."""
        ordered = [index.vocab_[t] for t in terms if t in index.vocab_]
        ids = index.query_term_ids([*terms, *compounds])
        return cls(text, [*terms, *compounds], ids, ordered, index.idf(ids),
                   dict(corrections or {}), vector, reading)


def _rank_feature(scores: np.ndarray) -> np.ndarray:
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty(len(scores), dtype=np.float32)
    ranks[order] = np.arange(len(scores), dtype=np.float32)
    return np.log1p(ranks)


@dataclass
class _Titles:
    """The candidates' title term ids (in title order) concatenated: `flat`, the candidate
    each entry belongs to (`owner`), and each title's `lengths` and `starts` in `flat`."""

    flat: np.ndarray
    owner: np.ndarray
    lengths: np.ndarray
    starts: np.ndarray

    @classmethod
    def of(cls, flat: np.ndarray, lengths: np.ndarray) -> _Titles:
        """From the titles `flat` holds end to end, `lengths[i]` terms for title i."""
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        return cls(flat.astype(np.int64), np.repeat(np.arange(len(lengths)), lengths), lengths,
                   starts)


def _title_features(query_ids: list[int], idf_of: Mapping[int, float],
                    titles: _Titles, numeric: set[int]) -> dict[str, np.ndarray]:
    """Phrase / head-word / number / coverage features against ordered title terms, vectorised
    over the concatenation of all candidate titles."""
    lengths = titles.lengths
    n = len(lengths)
    out = {name: np.zeros(n, dtype=np.float32) for name in (
        "phrase_longest", "bigram_frac", "head_in_title", "first_in_title", "numbers_matched",
        "numbers_missing", "idf_coverage", "title_coverage")}
    out["head_position"] = np.ones(n, dtype=np.float32)
    out["first_match_position"] = np.ones(n, dtype=np.float32)
    out["title_len"] = lengths.astype(np.float32)
    if not query_ids or n == 0 or lengths.sum() == 0:
        return out
    flat, owner = titles.flat, titles.owner
    pos = np.arange(len(flat)) - titles.starts[owner]
    same_next = np.zeros(len(flat), dtype=bool)
    same_next[:-1] = owner[1:] == owner[:-1]
    hits = {q: flat == q for q in dict.fromkeys(query_ids)}
    def any_per_row(mask: np.ndarray) -> np.ndarray:
        return np.bincount(owner[mask], minlength=n) > 0
    run = np.zeros(len(flat), dtype=np.int64)
    longest = np.zeros(n, dtype=np.int64)
    bigrams = np.zeros(n, dtype=np.float32)
    for i, q in enumerate(query_ids):
        prev = np.zeros(len(flat), dtype=np.int64)
        prev[1:] = np.where(same_next[:-1], run[:-1], 0)
        run = np.where(hits[q], prev + 1, 0)
        np.maximum.at(longest, owner, run)
        if i > 0:
            pair = np.zeros(len(flat), dtype=bool)
            pair[1:] = hits[query_ids[i - 1]][:-1] & hits[q][1:] & same_next[:-1]
            bigrams += any_per_row(pair)
    out["phrase_longest"] = longest / len(query_ids)
    out["bigram_frac"] = bigrams / max(len(query_ids) - 1, 1)
    head = hits[query_ids[-1]]
    out["head_in_title"] = any_per_row(head)
    first_head = np.full(n, np.inf)
    np.minimum.at(first_head, owner[head], pos[head])
    out["head_position"] = np.where(np.isfinite(first_head),
                                    first_head / np.maximum(lengths, 1), 1.0)
    out["first_in_title"] = any_per_row(hits[query_ids[0]])
    nums = [q for q in hits if q in numeric]
    if nums:
        found = sum(any_per_row(hits[q]).astype(np.float32) for q in nums)
        out["numbers_matched"] = found / len(nums)
        out["numbers_missing"] = len(nums) - found
    total_idf = max(sum(idf_of.values()), 1e-6)
    out["idf_coverage"] = sum(any_per_row(hits[q]) * idf_of.get(q, 0.0) for q in hits) / total_idf
    any_hit = np.logical_or.reduce([hits[q] for q in hits])
    first_any = np.full(n, np.inf)
    np.minimum.at(first_any, owner[any_hit], pos[any_hit])
    out["first_match_position"] = np.where(np.isfinite(first_any),
                                           first_any / np.maximum(lengths, 1), 1.0)
    out["title_coverage"] = np.bincount(owner[any_hit], minlength=n) / np.maximum(lengths, 1)
    return out


def _feedback_features(out: np.ndarray, col: Mapping[str, int], titles: _Titles,
                       lead: _Titles, n_lead: int, query_ids: np.ndarray) -> None:
    """Pseudo-relevance feedback by title words: each candidate's share of its words used by
    the `lead` titles (the top BM25F candidates'); and whether its first title word (often
    the brand) is in the query. (Its agreement by embedding, the cosine to the lead's
    centroid, is `candidate_features`'.)"""
    lengths, flat, owner = titles.lengths, titles.flat, titles.owner
    if lengths.sum() > 0:
        width = int(max(flat.max(), lead.flat.max() if len(lead.flat) else 0)) + 1
        # each top title's distinct words, once per title
        lead_terms = np.unique(lead.owner * width + lead.flat) % width
        share = np.bincount(lead_terms, minlength=width) / max(n_lead, 1)
        out[:, col["prf_terms"]] = np.bincount(owner, weights=share[flat],
                                               minlength=len(lengths)) / np.maximum(lengths, 1)
        firsts = np.where(lengths > 0, flat[np.minimum(titles.starts, len(flat) - 1)], -1)
        out[:, col["brand_in_query"]] = np.isin(firsts, query_ids)


def _intent_features(reading: QueryReading, products: Sequence[Product]) -> np.ndarray:
    """(n, 4): +1 agrees, -1 contradicts, 0 unknown, for category / brand / attribute / price
    (an attribute: +1 per slot it has, -0.5 per slot it lacks)."""
    from shopsense.rank.filters import category_matches

    out = np.zeros((len(products), 4), dtype=np.float32)
    if reading.category is not None:
        path = reading.category.value
        inside = {c: category_matches(c, path) for c in {p.category for p in products}}
        out[:, 0] = [1.0 if inside[p.category] else -1.0 for p in products]
    if reading.brands:
        names = {str(v).lower() for s in reading.brands for v in s.value}
        out[:, 1] = [1.0 if p.brand.lower() in names else -1.0 for p in products]
    for slot in reading.attributes:
        key, values = slot.value
        out[:, 2] += [1.0 if (have := p.attributes.get(key)) is not None and have in values
                      else -0.5 for p in products]
    if reading.price_min is not None or reading.price_max is not None:
        low = reading.price_min.value if reading.price_min else None
        high = reading.price_max.value if reading.price_max else None
        price = np.array([np.nan if p.price is None else p.price for p in products],
                         dtype=np.float64)
        inside = ~np.isnan(price) if low is not None or high is not None else np.ones(
            len(products), dtype=bool)  # an unknown price matches only no bound
        if low is not None:
            inside &= price >= low
        if high is not None:
            inside &= price <= high
        out[:, 3] = np.where(inside, 1.0, -1.0)
    return out


def candidate_features(ctx: QueryContext, index: KeywordIndex, rows: np.ndarray,
                       bm25: np.ndarray, matched: np.ndarray, semantic: np.ndarray,
                       products: Sequence[Product], priors: np.ndarray | None = None,
                       vectors: np.ndarray | None = None, subset: np.ndarray | None = None
                       ) -> np.ndarray:
    """(len(rows), len(FEATURE_NAMES)) float32. `priors`: (n, 3) popularity, freshness,
    personal; `vectors`: (n, dim) candidate embeddings (pseudo-relevance feedback).

    `subset` (ascending positions in `rows`): only those candidates' rows of that matrix,
    (len(subset), n_features), equal to them; `products` and `priors` are then the subset's.
    What is relative to the candidate set (ranks, shares of the best, z-scores, the feedback
    of the top BM25F candidates) is still of all of `rows`; the per-candidate work (fields,
    titles, trigrams, the reading's intent) is done for the subset alone: a search's hard
    filters keep a fifth of its candidates at the median."""
    sub = np.arange(len(rows)) if subset is None else np.asarray(subset, dtype=np.int64)
    n = len(sub)
    out = np.zeros((n, len(FEATURE_NAMES)), dtype=np.float32)
    if n == 0:
        return out
    col = {name: i for i, name in enumerate(FEATURE_NAMES)}
    n_terms = max(len(ctx.term_ids), 1)
    mine = rows[sub]
    out[:, col["bm25f"]] = bm25[sub]
    out[:, col["bm25f_rel"]] = bm25[sub] / max(float(bm25.max()), 1e-6)
    out[:, col["bm25f_rank"]] = _rank_feature(bm25)[sub]
    per_field, _ = index.field_features(ctx.terms, mine, with_evidence=False)
    for fi, name in enumerate(FIELD_FEATURES[:per_field.shape[1]]):
        out[:, col[name]] = per_field[:, fi]
    out[:, col["matched_terms"]] = matched[sub]
    out[:, col["coverage"]] = np.minimum(matched[sub] / n_terms, 1.0)
    all_terms = (matched >= len(ctx.term_ids)) & (len(ctx.term_ids) > 0)
    out[:, col["all_terms"]] = all_terms[sub]
    out[:, col["query_len"]] = len(ctx.terms)
    out[:, col["spell_corrected"]] = float(bool(ctx.corrections))
    out[:, col["semantic"]] = semantic[sub]
    out[:, col["semantic_rel"]] = semantic[sub] - float(semantic.max())
    out[:, col["semantic_rank"]] = _rank_feature(semantic)[sub]
    out[:, col["semantic_z"]] = ((semantic[sub] - semantic.mean())
                                 / max(float(semantic.std()), 1e-6))
    out[:, col["query_max_bm25"]] = float(bm25.max())
    out[:, col["query_full_matches"]] = np.log1p(float(np.count_nonzero(all_terms)))
    idf_of = dict(zip(ctx.term_ids.tolist(), ctx.idf.tolist(), strict=True))
    titles = _Titles.of(*index.title_seq_.gather(mine))
    numeric = {i for i in ctx.ordered_ids if any(ch.isdigit() for ch in index.terms_[i])}
    for name, values in _title_features(ctx.ordered_ids, idf_of, titles, numeric).items():
        out[:, col[name]] = values
    lead = np.argsort(-bm25, kind="stable")[:10]  # the feedback's top BM25F candidates
    lead_titles = _Titles.of(*index.title_seq_.gather(rows[lead]))
    _feedback_features(out, col, titles, lead_titles, len(lead), ctx.term_ids)
    if vectors is not None and len(lead):
        centroid = vectors[lead].mean(axis=0)
        norm = float(np.linalg.norm(centroid))
        if norm > 0:  # all the candidates' cosines, as the subset's may round differently
            out[:, col["prf_semantic"]] = (vectors @ (centroid / norm))[sub]
    jaccard, cover = overlap_packed(trigram_ids(ctx.text), *index.title_grams_.gather(mine))
    out[:, col["trigram_jaccard"]] = jaccard
    out[:, col["trigram_cover"]] = cover
    if ctx.reading is not None:
        out[:, col["intent.category"]:col["intent.price"] + 1] = _intent_features(ctx.reading,
                                                                                 products)
    if priors is not None:
        out[:, col["popularity"]:col["personal"] + 1] = priors
    return out
