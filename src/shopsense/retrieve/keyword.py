"""Keyword retrieval's query analysis: query text -> tokenised, spell-corrected terms and the
compounds the catalogue knows (the BM25F scoring is retrieve.hybrid's)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection
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


def analyse(text: str, spell: SpellCorrector | None, vocab: Collection[str] = (),
            correct: Callable[[str], str] | None = None) -> AnalysedQuery:
    """`text`'s terms, spelling-corrected by `correct` (a term -> its correction) when given,
    else by `spell`."""
    terms = tokenize(text)
    changes: dict[str, str] = {}
    if correct is not None:
        fixed = [correct(t) for t in terms]
        changes = {t: f for t, f in zip(terms, fixed, strict=True) if f != t}
        terms = fixed
    elif spell is not None:
        terms, changes = spell.correct_terms(terms)
    return AnalysedQuery(text, terms, changes, compounds(terms, vocab))
