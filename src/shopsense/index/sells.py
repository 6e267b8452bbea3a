"""Does the shop sell what a query asks for? The in-catalogue test, in zh and en.

A category reading may only become a hard filter when the product type the shopper named is
one the catalogue sells; otherwise the closest leaf would be forced onto an unknown type
(剃须刀 / shaver read as shampoo). `catalogue_sells(reading, understander, keyword)` answers with
`None` (the catalogue sells it, or the query names no product type) or a `NoExactMatch`
naming the words the shop has no product for. The type words are the query minus what the
reading explained (brands, attributes, prices, value words, exclusions, intent cues, filler);
they are sold when
1. learned product words of the catalogue cover them (空调, air conditioner, laptop), or
2. one product's title holds every one of them (keyword index; "down jacket"), or
3. their meaning is close to a learned product word (encoder; earbuds -> headphones,
   冰柜 -> 冰箱), cosine >= `SYNONYM_COSINE`, unless they use a product word only as the
   modifier of a head no product word explains (跑步机, 婴儿车, baby stroller: compounds are
   head-final, so these name other things), or
4. they are the start of a learned product word still being typed ("air condi", "lapt",
   "空"): search-as-you-type asks with every keystroke.
Search, the assistant and any other caller use this one function (see docs/API.md,
`no_exact_match`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from shopsense.domain import QueryReading
from shopsense.text.tokenize import tokenize

SYNONYM_COSINE = 0.7  # measured on the demo: in-catalogue synonyms 0.73-0.91, absent types <= 0.69
_STOP = frozenset(
    "for with the and or of to in on from me my some any is are what which that this it you "
    "your very more less than good best new nice please show want need get do does sell sells "
    "have has got there i we a an buy find looking can could would like any thing things "
    "one ones not no without except excluding other than but".split())
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*|[\u4e00-\u9fff]+")
_HAN_STOP = re.compile(r"^(?:有|卖|吗|呢|么|吧|有没有|你们|你家|这里|请问|哪些|什么|买|要|想|"
                       r"一下|商品|东西|产品|的|不要|不想要|别|除了|除去|没有|不含|不带|以外|之外|"
                       r"不是|排除|去掉)+$")
_HAN_EDGES = re.compile(r"^(?:有没有|你们有|不想要|不要|除了|没有|不含|不带|有|卖|买|要|别)+|"
                        r"(?:以外|之外|吗|呢|么|吧|的)+$")


@dataclass(frozen=True)
class NoExactMatch:
    """The shop sells nothing of the type the query names; results are alternatives."""

    requested: str  # the type words as the shopper typed them
    language: str  # zh | en | mixed: the shopper's language

    def to_dict(self) -> dict[str, str]:
        zh = f"本店没有“{self.requested}”，以下是相近的其他商品"
        en = f"We don't sell “{self.requested}”; these are the closest alternatives"
        return {"requested": self.requested,
                "alternatives": "相近的其他商品" if self.language != "en" else
                "Closest alternatives",
                "message_zh": zh, "message_en": en}


def type_words(reading: QueryReading) -> tuple[str, list[tuple[int, int]]]:
    """The query with every span the reading explained blanked out (except product words),
    and the spans of the product words."""
    query = reading.query
    explained: list[tuple[int, int]] = []
    for slot in (*reading.brands, *reading.attributes, *reading.model_numbers,
                 *reading.exclusions, reading.price_min, reading.price_max,
                 reading.value_preference, reading.intent):
        if slot is not None and slot.span is not None:
            explained.append(slot.span)
    masked = "".join(" " if any(a <= i < b for a, b in explained) else ch
                     for i, ch in enumerate(query))
    terms = [s.span for s in reading.product_terms if s.span is not None]
    return masked, terms


def _content_words(masked: str) -> list[tuple[int, int]]:
    out = []
    for m in _WORD.finditer(masked):
        word = m.group()
        if word.isascii():
            if len(word) >= 2 and word.lower() not in _STOP:
                out.append((m.start(), m.end()))
        elif not _HAN_STOP.fullmatch(word):
            stripped = _HAN_EDGES.sub("", word)
            if stripped:
                begin = m.start() + word.index(stripped)
                out.append((begin, begin + len(stripped)))
    return out


def catalogue_sells(reading: QueryReading, understander: Any, keyword: Any,
                    correct: Callable[[str], str] | None = None) -> NoExactMatch | None:
    """None when the catalogue sells the product type `reading` names (or it names none);
    else the words it does not sell. `understander`: a fitted `QueryUnderstander` (its
    learned product words and encoder); `keyword`: the catalogue's `KeywordIndex`;
    `correct`: a spelling corrector of index terms (typos: "lapop" is a laptop)."""
    masked, term_spans = type_words(reading)
    words = _content_words(masked)
    unknown = [(a, b) for a, b in words if not any(s <= a and b <= e for s, e in term_spans)]
    if not unknown:
        return None
    query = reading.query
    start, end = min(a for a, _ in words), max(b for _, b in words)
    phrase = re.sub(r"\s+", " ", query[start:end]).strip()
    if _begins_a_product_word(phrase, understander) or _in_a_title(phrase, keyword, correct):
        return None
    if not _product_word_as_modifier(phrase, understander) and \
            _close_to_product_word(phrase, understander):
        return None
    return NoExactMatch(phrase, reading.language)


def _product_word_as_modifier(phrase: str, understander: Any) -> bool:
    """`phrase` names another thing *for* a product word: compounds are head-final in both
    languages, so a product word followed by a head no product word explains is a different
    type (跑步机 treadmill is not 跑步鞋, 婴儿车 is not 婴儿奶粉, 空调遥控器, baby stroller), however
    close its meaning; a product word at the end is a kind of it (变频空调, wireless headphones)."""
    terms = [str(t).lower() for t in getattr(understander, "terms_", {}) or {}]
    lowered = phrase.lower().strip()
    if lowered.isascii():
        words = lowered.split()
        term_words = {w for t in terms if t.isascii() for w in t.split()}
        return len(words) >= 2 and words[-1] not in term_words and any(
            w in term_words for w in words[:-1])
    han = [t for t in terms if not t.isascii()]
    ends = any(lowered.endswith(t) for t in han)
    return not ends and any(lowered.startswith(t) and len(lowered) > len(t) for t in han)


def _begins_a_product_word(phrase: str, understander: Any) -> bool:
    """`phrase` is how a learned product word begins (at least 3 letters, or one Han
    character): the shopper is still typing it."""
    lowered = phrase.lower()
    if len(lowered) < (3 if lowered.isascii() else 1):
        return False
    return any(str(term).lower().startswith(lowered)
               for term in getattr(understander, "terms_", {}) or {})


def _in_a_title(phrase: str, keyword: Any, correct: Callable[[str], str] | None) -> bool:
    """Some live product's title holds every term of `phrase` (spelling corrected)."""
    terms = list(dict.fromkeys(correct(t) if correct else t for t in tokenize(phrase)))
    ids = keyword.query_term_ids(terms)
    if not terms or len(ids) < len({t for t in terms if t}):
        return False
    matches = keyword.score_matches(terms)
    rows = matches.rows[matches.matched >= len(ids)]
    if rows.size == 0:
        return False
    counts = keyword.term_counts("title", rows[:2000], ids)
    return bool((counts > 0).all(axis=1).any())


def _close_to_product_word(phrase: str, understander: Any) -> bool:
    memo: dict[str, bool] | None = getattr(understander, "sells_memo_", None)
    if memo is None:
        memo = understander.sells_memo_ = {}
    if phrase not in memo:
        if len(memo) > 20_000:
            memo.clear()
        memo[phrase] = _nearest_product_word(phrase, understander)
    return memo[phrase]


def _nearest_product_word(phrase: str, understander: Any) -> bool:
    vectors = product_word_vectors(understander)
    if vectors is None:
        return False
    from shopsense.text.understand.encoder import load_encoder

    encode = load_encoder(understander.encoder)
    if encode is None:
        return False
    vector = encode([phrase])[0]
    return float(np.max(vectors @ vector)) >= SYNONYM_COSINE


def product_word_vectors(understander: Any) -> np.ndarray | None:
    """Unit vectors of the understander's learned product words (computed once, kept)."""
    cached = getattr(understander, "term_vectors_", None)
    if cached is not None:
        return cached
    terms = list(getattr(understander, "terms_", {}) or {})
    if not terms or getattr(understander, "encoder", "none") == "none":
        return None
    from shopsense.text.understand.encoder import load_encoder

    encode = load_encoder(understander.encoder)
    if encode is None:
        return None
    vectors = np.asarray(encode(terms), dtype=np.float32)
    understander.term_vectors_ = vectors
    return vectors
