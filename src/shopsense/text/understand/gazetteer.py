"""Longest-match lookup of known phrases (brands, attribute values, product words) in a query.

Answers: which catalogue phrases occur in a query and where. Matching ignores case, width,
accents, spaces, hyphens and apostrophes ("little swan" = "LittleSwan", "noise-cancelling" =
"Noise Cancelling"), and a phrase that starts or ends with a Latin letter or digit must sit on
a word boundary ("red" is not found in "shredder", "8kg" not in "18kg").
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from shopsense.text.understand.numerals import fold_width

_DROPPED = frozenset(" \t\n-_'’`·")


@dataclass(frozen=True, slots=True)
class Entry:
    kind: str  # brand | attribute | term | model | weak_attribute
    payload: Any
    priority: int = 0  # wins ties of equal length


@dataclass(frozen=True, slots=True)
class Match:
    start: int  # offsets into the original query
    end: int
    surface: str
    entries: tuple[Entry, ...]


_FOLDED: dict[str, str] = {}


def _fold_char(ch: str) -> str:
    folded = _FOLDED.get(ch)
    if folded is None:
        lowered = fold_width(ch).lower()
        if len(lowered) != 1:
            lowered = ch
        base = unicodedata.normalize("NFKD", lowered)
        stripped = "".join(c for c in base if not unicodedata.combining(c))
        folded = stripped if len(stripped) == 1 else lowered
        if len(_FOLDED) < 100_000:
            _FOLDED[ch] = folded
    return folded


def fold(text: str) -> str:
    """Lower case, half width, accents removed; one output character per input character."""
    return "".join(_fold_char(ch) for ch in text)


def compact(text: str) -> tuple[str, list[int]]:
    """The folded text without spaces / hyphens / apostrophes, and each kept char's offset."""
    folded = fold(text)
    chars, offsets = [], []
    for i, ch in enumerate(folded):
        minus = (ch == "-" and i + 1 < len(folded) and folded[i + 1].isdigit()
                 and (i == 0 or not folded[i - 1].isalnum()))
        if ch not in _DROPPED or minus:
            chars.append(ch)
            offsets.append(i)
    return "".join(chars), offsets


def _latin(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


class Gazetteer:
    """Phrase -> entries; `find` returns leftmost-longest non-overlapping matches."""

    def __init__(self) -> None:
        self.entries: dict[str, list[Entry]] = {}
        self.lengths: list[int] = []

    def add(self, phrase: str, entry: Entry) -> None:
        key, _ = compact(phrase)
        if not key:
            return
        bucket = self.entries.setdefault(key, [])
        if entry not in bucket:
            bucket.append(entry)
        if len(key) not in self.lengths:
            self.lengths.append(len(key))
            self.lengths.sort(reverse=True)

    def add_all(self, phrases: Iterable[str], entry: Entry) -> None:
        for phrase in phrases:
            self.add(phrase, entry)

    def find(self, query: str, blocked: Iterable[tuple[int, int]] = ()) -> list[Match]:
        key, offsets = compact(query)
        folded = fold(query)
        taken = [False] * len(key)
        blocked_chars = {i for start, end in blocked for i in range(start, end)}
        for i, offset in enumerate(offsets):
            if offset in blocked_chars:
                taken[i] = True
        matches: list[Match] = []
        i = 0
        while i < len(key):
            hit = self._longest(key, i, offsets, folded, taken)
            if hit is None:
                i += 1
                continue
            length, surface = hit
            start, end = offsets[i], offsets[i + length - 1] + 1
            matches.append(Match(start, end, query[start:end], tuple(self.entries[surface])))
            i += length
        return matches

    def _longest(self, key: str, i: int, offsets: list[int], folded: str,
                 taken: list[bool]) -> tuple[int, str] | None:
        for length in self.lengths:
            if i + length > len(key):
                continue
            surface = key[i:i + length]
            if surface not in self.entries or any(taken[i:i + length]):
                continue
            start, end = offsets[i], offsets[i + length - 1] + 1
            if _latin(surface[0]) and start > 0 and _latin(folded[start - 1]):
                continue
            if _latin(surface[-1]) and end < len(folded) and _latin(folded[end]):
                continue
            return length, surface
        return None
