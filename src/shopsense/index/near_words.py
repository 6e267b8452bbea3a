"""Is a word the shop has no product word for close in *meaning* to one, or only in writing?

`index/sells.py` asks this of type words no product word, title or typed prefix explains
(3. of its test): earbuds -> headphones, 尿不湿 -> 纸尿裤 are the sold type; 洗碗机 / 洗衣机,
床垫 / 床品, 睡衣 / 睡袋, dishwasher / washing machine only look alike. The sentence encoder's
cosine to the catalogue's learned product words decides, except where shared writing
inflates it (`lexical_neighbour`, `sibling_compound`); then the title classifier must agree,
and the writing the phrase does not share must not be another leaf's (`unshared_writing`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

SYNONYM_COSINE = 0.7  # measured on the demo: in-catalogue synonyms 0.73-0.91, absent types <= 0.69
# a lexical neighbour below NEIGHBOUR_COSINE also needs the catalogue's title classifier to
# put the phrase in the word's leaf. Demo (3,200 products), cosine / classifier: absent 洗碗机
# 0.80 / 0.26, dishwasher 0.76 / 0.25, 床垫 0.80 / 0.21, 冰柜 0.80 / 0.30, 睡衣 0.73 / 0.14;
# sold 耳麦 0.76 / 0.49, headset 0.81 / 0.51, 尿片 0.75 / 0.69, earphones 0.93, 洗头水 0.87.
# A classifier self-trained on logged queries reads single shared characters with more
# confidence (the trained demo home, 2026-12-06: 睡衣 / 睡袋 0.63, 冰柜 / 冰箱 0.98, 耳麦 1.0),
# hence also the test of the writing the neighbour does not share (`unshared_writing`)
NEIGHBOUR_COSINE = 0.85
NEIGHBOUR_CLASS = 0.45


def close_to_product_word(phrase: str, understander: Any) -> tuple[str | None, float] | None:
    """(the leaf of the closest product word, its cosine) when `phrase` means a sold type."""
    memo: dict[str, tuple[str | None, float] | None] | None = getattr(
        understander, "sells_memo_", None)
    if memo is None:
        memo = understander.sells_memo_ = {}
    if phrase not in memo:
        if len(memo) > 20_000:
            memo.clear()
        memo[phrase] = _nearest_product_word(phrase, understander)
    return memo[phrase]


def _nearest_product_word(phrase: str, understander: Any) -> tuple[str | None, float] | None:
    vectors = product_word_vectors(understander)
    if vectors is None:
        return None
    from shopsense.text.understand.encoder import load_encoder

    encode = load_encoder(understander.encoder)
    if encode is None:
        return None
    sims = vectors @ encode([phrase])[0]
    terms = list(understander.terms_)
    best: dict[str, tuple[float, str]] = {}  # leaf -> its closest word
    for i in np.flatnonzero(sims >= SYNONYM_COSINE).tolist():
        shares = understander.terms_[terms[i]] or {"": 1.0}
        leaf = max(shares, key=lambda c: shares[c])
        if float(sims[i]) > best.get(leaf, (-1.0, ""))[0]:
            best[leaf] = (float(sims[i]), terms[i])
    probs: dict[str, float] = {}

    def leaf_prob(leaf: str) -> float:
        if not probs:
            probs.update(understander.category_probabilities(phrase) or {"": 0.0})
        return probs.get(leaf, 0.0)

    def elsewhere(leaf: str, writing: str) -> bool:  # the classifier puts it in another leaf
        shares = understander.category_probabilities(writing) or {}
        other = max(shares, key=lambda c: shares[c], default=None)
        return other is not None and other != leaf and shares[other] >= NEIGHBOUR_CLASS

    kept = [(cos, leaf) for leaf, (cos, word) in best.items()
            if not _closeness_of_writing(phrase, word, cos, partial(leaf_prob, leaf),
                                         partial(elsewhere, leaf))]
    if not kept:
        return None
    cos, leaf = max(kept)
    return (leaf or None), round(cos, 4)


def _closeness_of_writing(phrase: str, word: str, cos: float, leaf_prob: Callable[[], float],
                          elsewhere: Callable[[str], bool] | None = None) -> bool:
    """The encoder finds `phrase` close to `word` for their shared writing, not their
    meaning: a sibling compound, or a lexical neighbour the title classifier does not put in
    `word`'s leaf (`leaf_prob()`), unless the cosine is high enough on its own. The
    classifier reads the shared writing too (睡 is only ever written in sleeping-bag titles,
    so it puts 睡衣 there at p 0.63): the neighbour is another type when the writing it does
    *not* share is, for the classifier, another leaf's (`elsewhere(writing)`: 衣 of 睡衣 is
    the washing machines' and the dresses', 垫 of 床垫 the yoga mats'); writing no leaf
    claims (麦 of 耳麦, 片 of 尿片) leaves the whole phrase's classification to decide."""
    if cos >= NEIGHBOUR_COSINE:
        return False
    if sibling_compound(phrase, word):
        return True
    if not lexical_neighbour(phrase, word):
        return False
    rest = unshared_writing(phrase, word)
    if rest and elsewhere is not None and elsewhere(rest):
        return True
    return leaf_prob() < NEIGHBOUR_CLASS


def unshared_writing(phrase: str, word: str) -> str:
    """The Han characters of `phrase` that `word` does not write ('' for Latin script, whose
    shared writing is a run of letters, not a character)."""
    if phrase.isascii() or word.isascii():
        return ""
    return "".join(ch for ch in phrase if "\u4e00" <= ch <= "\u9fff" and ch not in word)


def sibling_compound(phrase: str, word: str) -> bool:
    """Two Chinese compounds of one head that differ in one modifier character (洗碗机 /
    洗衣机: a dish machine is not a clothes machine): the same kind of thing, another type.
    (Homophone slips, 洗衣鸡, are corrected before this test.)"""
    if not phrase or len(phrase) != len(word) or phrase.isascii() or word.isascii():
        return False
    diff = [i for i, (a, b) in enumerate(zip(phrase, word, strict=True)) if a != b]
    return len(diff) == 1 and diff[0] < len(phrase) - 1


def lexical_neighbour(phrase: str, word: str) -> bool:
    """`phrase` and the product word `word` share writing without `word` being the phrase's
    head (its last word, or the end of a Chinese compound): 洗碗机 / 洗衣机, 床垫 / 床品,
    dishwasher / washing machine, necktie / crew neck; not 变频空调 / 空调, wireless headphones /
    headphones (kinds of it), nor earbuds / headphones (nothing shared)."""
    a, b = phrase.lower().strip(), word.lower().strip()
    if a == b:
        return False
    if a.isascii() and b.isascii():
        if a.split()[-1:] == b.split()[-1:] and a.endswith(" " + b):
            return False
        return any(b[i:i + 4] in a for i in range(len(b) - 3) if " " not in b[i:i + 4])
    if a.isascii() or b.isascii():
        return False
    return not a.endswith(b) and bool(set(a) & set(b))


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
