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


@lru_cache(maxsize=50_000)
def common_word(word: str) -> bool:
    """True for a lower-case Latin word (or stem) common in English text."""
    if not word.isascii() or not word.isalpha():
        return False
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en") >= COMMON_ZIPF
