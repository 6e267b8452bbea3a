"""Keyword retrieval's query analysis: query text -> tokenised, spell-corrected terms and the
compounds the catalogue knows (the BM25F scoring is retrieve.hybrid's)."""

from __future__ import annotations

import itertools
from collections.abc import Collection
from dataclasses import dataclass, field

from shopsense.text.spell import SpellCorrector
from shopsense.text.tokenize import tokenize


@dataclass
class AnalysedQuery:
    """The query's terms after tokenising and typo correction."""

    text: str
    terms: list[str]
    corrections: dict[str, str] = field(default_factory=dict)
    compounds: list[str] = field(default_factory=list)  # "deck over" -> "deckover"

    @property
    def match_terms(self) -> list[str]:
        """Terms scored by BM25F: the query's own plus the compounds found in the catalogue."""
        return [*self.terms, *self.compounds]


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
