"""Typo tolerance against the catalogue's own vocabulary ("did you mean").

A symmetric-delete index (SymSpell-style) over the catalogue's terms: every term and its
one-character deletions point back to the term. A query word that is not in the vocabulary is
looked up by its own deletions (up to two) and the candidates are verified by true
Damerau-Levenshtein distance; the most frequent term at the smallest distance wins. Numbers,
model numbers, Chinese words and common English words (text/words.py: "lamp" is no slip of
"camp") are never "corrected".
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from shopsense.text.words import common_word

_LATIN_WORD_RE = re.compile(r"^[a-z]+$")


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def damerau(a: str, b: str, limit: int = 3) -> int:
    """Optimal-string-alignment distance, capped at `limit`."""
    if abs(len(a) - len(b)) >= limit:
        return limit
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) >= limit:
            return limit
        prev2, prev = prev, cur
    return min(prev[-1], limit)


class SpellCorrector:
    """Corrects words that are not in the vocabulary to frequent vocabulary words close by."""

    def __init__(self, min_length: int = 4, max_distance: int = 2, min_count: int = 1) -> None:
        if max_distance not in (1, 2):
            raise ValueError("max_distance must be 1 or 2")
        self.min_length = min_length
        self.max_distance = max_distance
        self.min_count = min_count
        self.counts_: dict[str, int] = {}
        self.deletes_: dict[str, list[str]] = {}

    def fit(self, term_counts: Mapping[str, int]) -> SpellCorrector:
        """`term_counts`: catalogue word -> number of documents containing it."""
        if not isinstance(term_counts, Mapping):
            raise TypeError("term_counts must be a mapping of word -> count")
        self.counts_ = {t: int(c) for t, c in term_counts.items() if c > 0}
        self.deletes_ = {}
        for term, count in self.counts_.items():
            if count < self.min_count or not _LATIN_WORD_RE.match(term) or len(term) < 3:
                continue
            for key in {term} | _deletes(term):
                self.deletes_.setdefault(key, []).append(term)
        return self

    def known(self, word: str) -> bool:
        return word in self.counts_

    def candidates(self, word: str) -> list[tuple[str, int, int]]:
        """(term, distance, count) for vocabulary terms within `max_distance`, best first."""
        keys = {word} | _deletes(word)
        if self.max_distance >= 2 and len(word) >= 6:
            keys |= {d2 for d in _deletes(word) for d2 in _deletes(d)}
        seen: dict[str, int] = {}
        for key in keys:
            for term in self.deletes_.get(key, ()):
                if term not in seen:
                    seen[term] = damerau(word, term, self.max_distance + 1)
        allowed = 1 if len(word) < 6 else self.max_distance
        found = [(t, d, self.counts_[t]) for t, d in seen.items() if d <= allowed]
        return sorted(found, key=lambda x: (x[1], -x[2], x[0]))

    def correct_word(self, word: str) -> str:
        if (len(word) < self.min_length or not _LATIN_WORD_RE.match(word)
                or self.known(word) or common_word(word)):
            return word
        found = self.candidates(word)
        return found[0][0] if found else word

    def correct_terms(self, terms: Iterable[str]) -> tuple[list[str], dict[str, str]]:
        """Corrected terms and the changes made (original -> correction)."""
        out, changes = [], {}
        for term in terms:
            fixed = self.correct_word(term)
            if fixed != term:
                changes[term] = fixed
            out.append(fixed)
        return out, changes

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "spell.json").write_text(json.dumps(
            {"config": {"min_length": self.min_length, "max_distance": self.max_distance,
                        "min_count": self.min_count}, "counts": self.counts_},
            ensure_ascii=False))

    @classmethod
    def load(cls, directory: Path) -> SpellCorrector:
        data = json.loads((directory / "spell.json").read_text(encoding="utf-8"))
        return cls(**data["config"]).fit(data["counts"])
