"""Query synonyms as the search matches them: a query phrase that has synonyms becomes one
"slot" that any of its alternatives fills.

- two-way {笔记本, laptop, notebook}: a query holding any of them also finds the others;
- one-way 手提电脑 -> 笔记本: a query holding 手提电脑 also finds 笔记本, not the reverse.

`SynonymSet.slots(raw, terms)` reads the query's terms (as typed and as spell-corrected, same
length) left to right, longest phrase first, and answers the query as slots: each a set of
alternatives, an alternative a tuple of index terms that must all be present (a Chinese word
brings its sub-words: 笔记本 -> (笔记, 笔记本)). None when no phrase of the set occurs, so a
query without synonyms takes the plain path. Phrases are tokenised like the index
(text/tokenize.py), so "laptops" matches "laptop" and full-width forms match.

`SynonymSet.spans(text)` are the character spans of the phrases with synonyms in a query, so
that the understanding does not read a product type into them (手提电脑 is not a tablet: the
slot decides what it finds).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence

from shopsense.text.normalize import fold
from shopsense.text.tokenize import tokenize

Alternative = tuple[str, ...]
Slot = frozenset[Alternative]


class SynonymSet:
    """Compiled synonyms: `entries` are (phrases typed, phrases they also find); a two-way
    group is given as (members, members)."""

    def __init__(self, entries: Iterable[tuple[Sequence[str], Sequence[str]]]) -> None:
        self.alternatives_: dict[Alternative, set[Alternative]] = {}
        typed_phrases: set[str] = set()
        canonical = []
        for typed, found in entries:
            sources = [t for t in (tuple(tokenize(p)) for p in typed) if t]
            targets = {t for t in (tuple(tokenize(p)) for p in found) if t}
            canonical.append([sorted(typed), sorted(found)])
            for source in sources:
                self.alternatives_.setdefault(source, {source}).update(targets)
            typed_phrases.update(p for p in (_base(fold(x)) for x in typed) if p)
        self.longest_ = max((len(s) for s in self.alternatives_), default=0)
        self.key = hashlib.sha1(json.dumps(sorted(canonical), ensure_ascii=False)
                                .encode()).hexdigest()[:16]  # for caches of query stages
        phrases = sorted(typed_phrases, key=len, reverse=True)
        self._pattern = re.compile("|".join(_phrase_pattern(p) for p in phrases)) \
            if phrases else None

    def __bool__(self) -> bool:
        return bool(self.alternatives_)

    def __len__(self) -> int:
        return len(self.alternatives_)

    def _at(self, seqs: Sequence[Sequence[str]], i: int) -> tuple[int, Alternative] | None:
        for n in range(min(self.longest_, max(len(s) for s in seqs) - i), 0, -1):
            for seq in seqs:
                phrase = tuple(seq[i:i + n])
                if len(phrase) == n and phrase in self.alternatives_:
                    return n, phrase
        return None

    def slots(self, raw: Sequence[str], terms: Sequence[str]) -> list[Slot] | None:
        """The query as slots (see the module), or None when no synonym phrase occurs."""
        found = self.match(raw, terms)
        return None if found is None else [slot for _, slot in found]

    def match(self, raw: Sequence[str], terms: Sequence[str]
              ) -> list[tuple[Alternative, Slot]] | None:
        """Each slot with the terms it stands for (a synonym phrase as the query holds it,
        before any spelling correction), or None when no synonym phrase occurs."""
        if not self.alternatives_ or not terms:
            return None
        seqs = [list(terms)] if list(raw) == list(terms) or len(raw) != len(terms) \
            else [list(raw), list(terms)]
        out: list[tuple[Alternative, Slot]] = []
        found = False
        i = 0
        while i < len(terms):
            hit = self._at(seqs, i)
            if hit is None:
                out.append(((terms[i],), frozenset({(terms[i],)})))
                i += 1
                continue
            n, phrase = hit
            out.append((phrase, frozenset(self.alternatives_[phrase])))
            found = True
            i += n
        return out if found else None

    def spans(self, text: str) -> list[tuple[int, int]]:
        """[start, end) character spans of the phrases with synonyms in `text` (whole words
        for Latin phrases, plurals too)."""
        if self._pattern is None or len(fold(text)) != len(text):
            return [] if self._pattern is None else self._folded_spans(text)
        return [m.span() for m in self._pattern.finditer(fold(text))]

    def _folded_spans(self, text: str) -> list[tuple[int, int]]:
        """Spans when folding changes the length: per character, so offsets stay the query's."""
        folded = [fold(ch) or " " for ch in text]
        starts, pos = [], 0
        for part in folded:
            starts.append(pos)
            pos += len(part)
        assert self._pattern is not None
        out = []
        for m in self._pattern.finditer("".join(folded)):
            a = max(i for i, s in enumerate(starts) if s <= m.start())
            b = max(i for i, s in enumerate(starts) if s < m.end()) + 1
            out.append((a, b))
        return out

    def expansion_terms(self, slots: Sequence[Slot]) -> list[str]:
        """Index terms of the slots' alternatives (scored by BM25F beside the query's own)."""
        seen: dict[str, None] = {}
        for slot in slots:
            for alternative in sorted(slot):
                for term in alternative:
                    seen.setdefault(term, None)
        return list(seen)


def _phrase_pattern(phrase: str) -> str:
    """A phrase in folded query text: Chinese anywhere, Latin as whole words (plural too)."""
    body = r"\s+".join(re.escape(w) for w in phrase.split())
    if phrase.isascii():
        return rf"(?<![a-z0-9]){body}(?:s|es)?(?![a-z0-9])"
    return body


def _base(text: str) -> str:
    return " ".join(text.split())


EMPTY = SynonymSet(())

__all__ = ["EMPTY", "Alternative", "Slot", "SynonymSet"]
