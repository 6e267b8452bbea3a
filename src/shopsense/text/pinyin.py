"""Chinese homophone typos against the catalogue's own words (空掉 -> 空调).

Pinyin input makes Chinese typos homophones: the shopper picks a character with the same
sound. `PinyinCorrector.fit(term_counts)` indexes every Chinese catalogue word (2-6
characters) under each toneless pinyin spelling it can have (heteronyms included: 调 is tiao
and diao); `correct(text)` replaces a Chinese word the catalogue does not know by the most
frequent catalogue word that sounds the same and shares at least one character.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Mapping

_HAN_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")
_HAN_WORD = re.compile(r"^[\u4e00-\u9fff]{2,6}$")
MAX_SPELLINGS = 8  # pinyin spellings indexed per word (heteronym combinations)


def spellings(word: str) -> list[str]:
    """The toneless pinyin spellings of `word` (first MAX_SPELLINGS heteronym combinations)."""
    readings = [_readings(ch) for ch in word]  # per character: a phrase reads one way only
    if not all(readings):
        return []
    combos = itertools.islice(itertools.product(*[r[:3] for r in readings]), MAX_SPELLINGS)
    return list(dict.fromkeys(" ".join(c) for c in combos))


@functools.lru_cache(maxsize=65536)
def _readings(ch: str) -> tuple[str, ...]:
    from pypinyin import Style, pinyin

    found = pinyin(ch, style=Style.NORMAL, heteronym=True, errors="ignore")
    return tuple(dict.fromkeys(found[0])) if found else ()


class PinyinCorrector:
    """Homophone correction of Chinese words, learned from the catalogue's vocabulary."""

    def __init__(self, min_count: int = 2) -> None:
        self.min_count = min_count
        self.counts_: dict[str, int] = {}
        self.by_sound_: dict[str, list[str]] = {}

    def fit(self, term_counts: Mapping[str, int]) -> PinyinCorrector:
        """`term_counts`: catalogue word -> documents holding it (Chinese words are kept)."""
        self.counts_ = {t: int(c) for t, c in term_counts.items()
                        if c >= self.min_count and _HAN_WORD.match(t)}
        self.by_sound_ = {}
        for term in self.counts_:
            for key in spellings(term):
                self.by_sound_.setdefault(key, []).append(term)
        return self

    def correct_word(self, word: str) -> str:
        if word in self.counts_ or not _HAN_WORD.match(word):
            return word
        best: tuple[int, str] | None = None
        for key in spellings(word):
            for term in self.by_sound_.get(key, ()):
                if len(term) == len(word) and term != word and set(term) & set(word):
                    if best is None or self.counts_[term] > best[0]:
                        best = (self.counts_[term], term)
        return best[1] if best else word

    def correct(self, text: str) -> tuple[str, dict[str, str]]:
        """`text` with unknown Chinese words replaced by their homophones, and the changes."""
        if not self.counts_:
            return text, {}
        import rjieba

        changes: dict[str, str] = {}
        for run in _HAN_RUN.findall(text):
            words = [w for w in rjieba.cut(run) if w.strip()]
            if run not in self.counts_:
                words = [run] if len(words) > 1 and self.correct_word(run) != run else words
            for word in words:
                fixed = self.correct_word(word)
                if fixed != word:
                    changes[word] = fixed
        for wrong, right in changes.items():
            text = text.replace(wrong, right)
        return text, changes
