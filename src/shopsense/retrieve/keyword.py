"""Keyword retrieval: query text -> analysed, spell-corrected terms -> BM25F candidates."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from shopsense.domain import Candidate
from shopsense.index.keyword import KeywordIndex, top_k
from shopsense.text.spell import SpellCorrector
from shopsense.text.tokenize import tokenize


@dataclass
class AnalysedQuery:
    """The query's terms after tokenising and typo correction."""

    text: str
    terms: list[str]
    corrections: dict[str, str] = field(default_factory=dict)


def analyse(text: str, spell: SpellCorrector | None) -> AnalysedQuery:
    terms = tokenize(text)
    if spell is None:
        return AnalysedQuery(text, terms)
    fixed, changes = spell.correct_terms(terms)
    return AnalysedQuery(text, fixed, changes)


class KeywordRetriever:
    """A `Retriever` over a `KeywordIndex`; signals: `bm25f`, `matched_terms`."""

    name = "keyword"

    def __init__(self, index: KeywordIndex, spell: SpellCorrector | None = None) -> None:
        self.index = index
        self.spell = spell

    def retrieve(self, query: str, k: int, *, exclude: Collection[str] = ()) -> list[Candidate]:
        analysed = analyse(query, self.spell)
        scores, matched = self.index.score_all(analysed.terms)
        for item_id in exclude:
            row = self.index.row_of_.get(item_id)
            if row is not None:
                scores[row] = 0.0
        rows, values = top_k(scores, k)
        _, evidence = self.index.field_features(analysed.terms, rows)
        return [Candidate(self.index.item_ids_[r], float(s),
                          {"bm25f": float(s), "matched_terms": float(matched[r])},
                          {"matched": ev, "corrections": analysed.corrections})
                for r, s, ev in zip(rows.tolist(), values.tolist(), evidence, strict=True)]
