"""Keyword matching with query synonyms (text/synonyms.py): a row matches a slot when it holds
every term of one of the slot's alternatives, and "enough of the query" counts slots, not terms,
so 手提电脑 -> 笔记本 finds notebooks with one slot to fill, as the query 笔记本 would."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from shopsense.index.keyword import KeywordIndex, KeywordMatches
from shopsense.retrieve.keyword import AnalysedQuery
from shopsense.text.synonyms import Slot, SynonymSet


def _rows_with_all(index: KeywordIndex, terms: Sequence[str]) -> np.ndarray | None:
    """Live rows holding every term (None when a term is not in the index)."""
    rows: np.ndarray | None = None
    for term in dict.fromkeys(terms):
        if not len(index.query_term_ids([term])):
            return None
        found = index.score_matches([term]).rows
        rows = found if rows is None else np.intersect1d(rows, found, assume_unique=True)
    return rows


def slot_matches(index: KeywordIndex, matches: KeywordMatches, slots: Sequence[Slot]
                 ) -> tuple[KeywordMatches, int]:
    """`matches` (BM25F of every query and alternative term) with `matched` counting the slots
    each row fills, and the number of slots the index can fill at all (the `n_known` that
    min-should-match applies to)."""
    counts = np.zeros(len(matches.rows), dtype=np.int32)
    known = 0
    for slot in slots:
        present: np.ndarray | None = None
        for alternative in sorted(slot):
            rows = _rows_with_all(index, alternative)
            if rows is not None:
                present = rows if present is None else np.union1d(present, rows)
        if present is not None:
            known += 1
            counts += np.isin(matches.rows, present).astype(np.int32)
    return KeywordMatches(matches.rows, matches.bm25, counts, matches.n_rows), known


def with_synonyms(query: AnalysedQuery, raw: Sequence[str], synonyms: SynonymSet
                  ) -> list[Slot] | None:
    """The query's slots, None without a synonym phrase. With one, `query` changes in place: a
    synonym phrase keeps its terms as typed (no spelling "fix": `lappy` is the operator's word,
    not `nappy`), and `expansions` gets its alternatives' terms for BM25F."""
    found = synonyms.match(raw, query.terms)
    if found is None:
        return None
    terms: list[str] = []
    for phrase, _ in found:
        terms.extend(phrase)
    query.corrections = {k: v for k, v in query.corrections.items() if v in terms}
    query.terms = terms
    query.compounds = [c for c in query.compounds if c not in terms]
    slots = [slot for _, slot in found]
    query.expansions = [t for t in synonyms.expansion_terms(slots) if t not in terms]
    return slots


__all__ = ["slot_matches", "with_synonyms"]
