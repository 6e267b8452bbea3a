"""Character features for the sequence tagger.

Answers: what a CRF sees at each character — a window of characters and character n-grams,
the character class (Han / Latin / digit / punctuation), and the rjieba segmentation around
it (the word the character sits in, its position in that word, its part of speech, and the
neighbouring words).
"""

from __future__ import annotations

from collections.abc import Sequence

import rjieba

PAD = "␂"


def char_class(ch: str) -> str:
    """H (Han), L (Latin letter), D (digit), S (space), P (anything else)."""
    if "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf":
        return "H"
    if ch.isascii() and ch.isalpha():
        return "L"
    if ch.isdigit():
        return "D"
    if ch.isspace():
        return "S"
    return "P"


def segment(text: str) -> list[tuple[int, int, str]]:
    """rjieba words as (start, end, part-of-speech), covering `text` left to right."""
    words: list[tuple[int, int, str]] = []
    pos = 0
    for word, tag in rjieba.tag(text):
        words.append((pos, pos + len(word), tag))
        pos += len(word)
    if pos != len(text):  # defensive: fall back to one word per character
        return [(i, i + 1, "x") for i in range(len(text))]
    return words


def _word_features(text: str) -> list[list[str]]:
    """Per character: its word, its place in the word, the word's POS, neighbouring words."""
    words = segment(text)
    per_char: list[list[str]] = [[] for _ in text]
    for k, (start, end, tag) in enumerate(words):
        word = text[start:end].lower()
        prev_word = text[words[k - 1][0]:words[k - 1][1]].lower() if k else PAD
        next_word = text[words[k + 1][0]:words[k + 1][1]].lower() if k + 1 < len(words) else PAD
        size = min(end - start, 4)
        for i in range(start, end):
            place = "S" if end - start == 1 else "B" if i == start else "E" if i == end - 1 else "M"
            per_char[i] = [
                f"w={word}", f"wp={place}", f"wl={size}{place}", f"pos={tag}", f"posp={tag}{place}",
                f"pw={prev_word}" if place in "BS" else "pw_in", f"nw={next_word}" if place in "ES"
                else "nw_in", f"wc={word}|{place}",
            ]
    return per_char


def sentence_features(chars: Sequence[str]) -> list[list[str]]:
    """Feature strings for every character of one text (value 1 each)."""
    text = "".join(chars)
    n = len(text)
    padded = PAD * 2 + text.lower() + PAD * 2
    classes = PAD * 2 + "".join(char_class(c) for c in text) + PAD * 2
    word_feats = _word_features(text)
    out: list[list[str]] = []
    for i in range(n):
        j = i + 2
        c = padded
        t = classes
        feats = [
            "b", f"c0={c[j]}", f"c-1={c[j - 1]}", f"c1={c[j + 1]}", f"c-2={c[j - 2]}",
            f"c2={c[j + 2]}", f"c-10={c[j - 1:j + 1]}", f"c01={c[j:j + 2]}",
            f"c-2-1={c[j - 2:j]}", f"c12={c[j + 1:j + 3]}", f"c-11={c[j - 1]}{c[j + 1]}",
            f"c-101={c[j - 1:j + 2]}", f"t0={t[j]}", f"t-101={t[j - 1:j + 2]}",
            f"t-2-1={t[j - 2:j]}", f"t12={t[j + 1:j + 3]}",
        ]
        feats.extend(word_feats[i])
        out.append(feats)
    return out
