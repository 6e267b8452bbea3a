"""Character trigrams of titles: how much of the query's *writing* a title shares.

Term matching misses what shoppers type around words: typos the corrector leaves ("ceilng"),
words joined or split ("doorknob" / "door knob"), unit formats ("3/4in" / "3/4 in."; not
"2x4" / "2 in. x 4 in.": no trigram in common). The text is lower-cased, reduced to its words
(letters, digits, Han characters, "3/4", "1.5") joined by single spaces and padded with one
space at each end; its character trigrams are hashed into `BUCKETS` (a stable hash, so saved
indexes stay valid) and kept per title as a sorted array. `overlap` gives each candidate's
trigram Jaccard with the query and the share of the query's trigrams its title holds (ranker
features: +0.017 nDCG@10 in 4-fold cross-validation on the Home Depot training split,
benchmarks/README.md).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

BUCKETS = 1 << 20
_WORD = re.compile(r"[a-z0-9\u4e00-\u9fff]+(?:[./][a-z0-9\u4e00-\u9fff]+)*")
_EMPTY = np.zeros(0, dtype=np.int32)


def trigram_ids(text: str) -> np.ndarray:
    """Sorted distinct hashed trigrams of `text` (int32, < BUCKETS)."""
    words = _WORD.findall(text.lower())
    if not words:
        return _EMPTY
    padded = " " + " ".join(words) + " "
    cp = np.frombuffer(padded.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    mixed = ((cp[:-2] * 1_000_003) ^ cp[1:-1]) * 1_000_003 ^ cp[2:]
    return np.unique(mixed & (BUCKETS - 1)).astype(np.int32)


def overlap(query: np.ndarray, titles: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(Jaccard, share of the query's trigrams held) of each title's trigrams with `query`'s,
    float32, vectorised over the concatenated titles."""
    lengths = np.fromiter((len(t) for t in titles), dtype=np.int64, count=len(titles))
    flat = np.concatenate(titles) if len(titles) else _EMPTY
    return overlap_packed(query, flat, lengths)


def overlap_packed(query: np.ndarray, flat: np.ndarray, lengths: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """`overlap` of the titles `flat` holds end to end, `lengths[i]` trigrams for title i."""
    n = len(lengths)
    if n == 0 or len(query) == 0 or lengths.sum() == 0:
        return np.zeros(n, np.float32), np.zeros(n, np.float32)
    owner = np.repeat(np.arange(n), lengths)
    inter = np.bincount(owner[np.isin(flat, query, assume_unique=False)], minlength=n)
    union = len(query) + lengths - inter
    return ((inter / np.maximum(union, 1)).astype(np.float32),
            (inter / len(query)).astype(np.float32))
