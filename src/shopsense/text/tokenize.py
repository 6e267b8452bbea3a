"""How text becomes index terms, for Chinese and English alike.

Text is normalised first (`text.normalize`), then Chinese runs are segmented with rjieba's
`cut_for_search` (which adds sub-words: 变频空调 -> 变频 / 空调 / 变频空调) and Latin runs are split
into words, numbers (`1/2`, `1.5`, `1-1/2`) and model numbers (`sc-141` -> `sc`, `141`, `sc141`),
then lightly stemmed (`faucets` -> `faucet`, `mowing` -> `mow`). Stop words are dropped.
"""

from __future__ import annotations

import re
from functools import lru_cache

import rjieba

from shopsense.text.normalize import normalize

STOPWORDS: frozenset[str] = frozenset({
    "a", "an", "the", "and", "or", "for", "with", "of", "to", "in", "on", "by", "at", "from",
    "is", "are", "be", "x", "&", "my", "your", "that", "this", "it", "as",
    "的", "了", "和", "与", "及", "或", "我", "想", "要", "买", "一个", "一台", "一双", "一款",
})

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN_RE = re.compile(rf"[{_CJK}]+|[^{_CJK}]+")
_IS_CJK_RE = re.compile(rf"[{_CJK}]")
_WORD_RE = re.compile(r"\d+-\d+/\d+|\d+/\d+|\d+\.\d+|[a-z0-9]+(?:-[a-z0-9]+)*")
_HAS_DIGIT_RE = re.compile(r"\d")
_HAS_ALPHA_RE = re.compile(r"[a-z]")


def stem(word: str) -> str:
    """A light English stemmer (plurals, -ing, -ed, final e); numbers and short words stay."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "zes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    elif word.endswith("ing") and len(word) > 5:
        word = word[:-3]
        if len(word) > 2 and word[-1] == word[-2] and word[-1] not in "lsz":
            word = word[:-1]
    elif word.endswith("ed") and len(word) > 4:
        word = word[:-2]
        if len(word) > 2 and word[-1] == word[-2] and word[-1] not in "lsz":
            word = word[:-1]
    if word.endswith("e") and len(word) > 4:  # texture / textured / texturing -> textur
        word = word[:-1]
    return word


def _latin_terms(run: str) -> list[str]:
    terms: list[str] = []
    for token in _WORD_RE.findall(run):
        if "-" in token and "/" not in token:
            parts = [p for p in token.split("-") if p]
            terms.extend(stem(p) for p in parts)
            joined = "".join(parts)
            if _HAS_DIGIT_RE.search(joined) and _HAS_ALPHA_RE.search(joined):
                terms.append(joined)
        else:
            terms.append(stem(token))
    return terms


@lru_cache(maxsize=65536)
def _cjk_terms(run: str) -> tuple[str, ...]:
    return tuple(t for t in rjieba.cut_for_search(run) if t.strip())


def tokenize(text: str, *, keep_stopwords: bool = False) -> list[str]:
    """Index / query terms of `text`, in order (sub-words of Chinese words follow them)."""
    terms: list[str] = []
    for run in _RUN_RE.findall(normalize(text)):
        if _IS_CJK_RE.match(run):
            terms.extend(_cjk_terms(run))
        else:
            terms.extend(_latin_terms(run))
    if keep_stopwords:
        return terms
    return [t for t in terms if t not in STOPWORDS]


def words(text: str) -> list[str]:
    """Surface words for phrase matching: like `tokenize` but without Chinese sub-words."""
    out: list[str] = []
    for run in _RUN_RE.findall(normalize(text)):
        if _IS_CJK_RE.match(run):
            out.extend(t for t in rjieba.cut(run) if t.strip())
        else:
            out.extend(_latin_terms(run))
    return [t for t in out if t not in STOPWORDS]
