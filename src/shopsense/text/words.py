"""Is a Latin word a word of its own, not a slip? Word frequencies of English text.

The spelling corrector only knows the catalogue's vocabulary, so any other word is a
candidate typo: a shopper asking a furniture-free shop for a "lamp" was answered with camping
gear, "lamp" corrected to "camp" (one letter). A word common in English (Zipf frequency
>= `COMMON_ZIPF` in `wordfreq`'s lists: used more than ~3 times in a million words) is what
the shopper meant, so it is never corrected into a catalogue word; rare strings and common
slips ("recieve", "teh", "labtop") still are. Chinese words are never corrected by spelling
(homophones are, elsewhere: text/pinyin.py).
"""

from __future__ import annotations

from functools import lru_cache

COMMON_ZIPF = 3.5  # lamp 4.05, couch 4.17, pajamas 3.31; teh 3.04, recieve 2.75, labtop 0.0

# Whom or what occasion a product is for: a purpose, never a product type nor the beginning of
# one ("gift for mom" is not Momentum headphones; 送妈妈的礼物 is no product the shop lacks).
PURPOSE_WORDS = frozenset(
    "gift gifts present presents birthday christmas xmas anniversary valentine valentines "
    "valentine's mom mum mother mom's dad father dad's wife husband girlfriend boyfriend "
    "grandma grandpa grandmother grandfather parents friend friends teacher boss colleague "
    "him her".split())
PURPOSE_HAN = (r"礼物|礼品|送礼|送给|送|给|生日|圣诞节?|情人节|纪念日|父亲节|母亲节|妈妈|母亲|爸爸|父亲|"
               r"我爸|我妈|老爸|老妈|爸|妈|我|"
               r"老婆|老公|女朋友|男朋友|女友|男友|爷爷|奶奶|长辈|朋友|同事|老师|闺蜜|父母|领导")


@lru_cache(maxsize=50_000)
def common_word(word: str) -> bool:
    """True for a lower-case Latin word common in English text, or the stem of one (the
    spelling corrector sees stems: "tables" arrives as "tabl", no slip of "tab")."""
    if not word.isascii() or not word.isalpha():
        return False
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en") >= COMMON_ZIPF or word in _common_stems()


def load_word_lists() -> None:
    """Read the word list and build its stems now (0.4-1.5 s), not in a shopper's search."""
    _common_stems()


@lru_cache(maxsize=1)
def _common_stems() -> frozenset[str]:
    """The stems (text/tokenize.py) of the ~15k English words at or above `COMMON_ZIPF`."""
    from wordfreq import iter_wordlist, zipf_frequency

    from shopsense.text.tokenize import stem

    stems = set()
    for word in iter_wordlist("en"):
        if zipf_frequency(word, "en") < COMMON_ZIPF:
            break
        if word.isascii() and word.isalpha():
            stems.add(stem(word))
    return frozenset(stems)
