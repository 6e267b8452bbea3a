"""Keyword retrieval: query text -> analysed, spell-corrected terms -> BM25F candidates."""

from __future__ import annotations

import itertools
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
    compounds: list[str] = field(default_factory=list)  # "deck over" -> "deckover"
    expansions: list[str] = field(default_factory=list)  # the terms of the query's synonyms

    @property
    def match_terms(self) -> list[str]:
        """Terms scored by BM25F: the query's own, the compounds found in the catalogue and
        the terms of its synonyms."""
        return [*self.terms, *self.compounds, *self.expansions]


def compounds(terms: list[str], vocab: Collection[str]) -> list[str]:
    """Adjacent Latin terms whose concatenation is a catalogue term (deck + over)."""
    found = []
    for a, b in itertools.pairwise(terms):
        joined = a + b
        if a.isascii() and b.isascii() and joined in vocab and joined not in terms:
            found.append(joined)
    return found


def analyse(text: str, spell: SpellCorrector | None, vocab: Collection[str] = ()
            ) -> AnalysedQuery:
    terms = tokenize(text)
    changes: dict[str, str] = {}
    if spell is not None:
        terms, changes = spell.correct_terms(terms)
    return AnalysedQuery(text, terms, changes, compounds(terms, vocab))


class KeywordRetriever:
    """A `Retriever` over a `KeywordIndex`; signals: `bm25f`, `matched_terms`."""

    name = "keyword"

    def __init__(self, index: KeywordIndex, spell: SpellCorrector | None = None) -> None:
        self.index = index
        self.spell = spell

    def retrieve(self, query: str, k: int, *, exclude: Collection[str] = ()) -> list[Candidate]:
        analysed = analyse(query, self.spell, self.index.vocab_)
        scores, matched = self.index.score_all(analysed.match_terms)
        for item_id in exclude:
            row = self.index.row_of_.get(item_id)
            if row is not None:
                scores[row] = 0.0
        rows, values = top_k(scores, k)
        _, evidence = self.index.field_features(analysed.match_terms, rows)
        return [Candidate(self.index.item_ids_[r], float(s),
                          {"bm25f": float(s), "matched_terms": float(matched[r])},
                          {"matched": ev, "corrections": analysed.corrections})
                for r, s, ev in zip(rows.tolist(), values.tolist(), evidence, strict=True)]
