"""Autocomplete and "did you mean" from the catalogue's own words and shoppers' popular queries.

Completions come from sorted lists searched by prefix (bisect): popular queries (by count),
catalogue phrases (category names, brands), adjacent title-word pairs and catalogue words (by
document frequency), so "drill b" completes to "drill bit" and "空" to "空调". "Did you mean" rewrites only the
words the spell corrector changed, back into a surface form shoppers write.
"""

from __future__ import annotations

import bisect
import itertools
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

from shopsense.domain import Product
from shopsense.text.normalize import fold, normalize
from shopsense.text.tokenize import STOPWORDS, stem, tokenize

_WORD_RE = re.compile(r"[a-z][a-z0-9'-]*|[\u4e00-\u9fff]+")


class Suggester:
    """Prefix completions and surface forms of corrected words."""

    def __init__(self, max_words: int = 200_000) -> None:
        self.max_words = max_words
        self.words_: list[tuple[str, int]] = []  # sorted by word
        self.phrases_: list[tuple[str, int]] = []
        self.queries_: list[tuple[str, int]] = []
        self.pairs_: list[tuple[str, int]] = []  # adjacent title words, "drill bit"
        self.surface_: dict[str, str] = {}  # stem -> most common surface word

    def fit(self, products: Iterable[Product], popular_queries: Mapping[str, int] | None = None
            ) -> Suggester:
        words: Counter[str] = Counter()
        phrases: Counter[str] = Counter()
        pairs: Counter[str] = Counter()
        for p in products:
            found = _WORD_RE.findall(fold(p.title))
            words.update(set(found))
            pairs.update({f"{a} {b}" for a, b in itertools.pairwise(found)
                          if a not in STOPWORDS and b not in STOPWORDS})
            if not p.title.isascii():  # Chinese words need the segmenter
                words.update(t for t in tokenize(p.title) if not t.isascii() and len(t) > 1)
            for part in (p.category.split(">")[-1].strip() if p.category else "", p.brand):
                if part:
                    phrases[normalize(part)] += 1
        self._set_words(words)
        self.phrases_ = sorted(phrases.items())
        self.pairs_ = sorted(pairs.most_common(self.max_words))
        self.set_queries(popular_queries or {})
        return self

    def _set_words(self, words: Counter[str]) -> None:
        kept = [(w, c) for w, c in words.most_common(self.max_words)
                if w not in STOPWORDS and len(w) > 1]
        self.words_ = sorted(kept)
        best: dict[str, tuple[int, str]] = {}
        for word, count in kept:
            key = stem(word)
            if key not in best or count > best[key][0]:
                best[key] = (count, word)
        self.surface_ = {k: w for k, (_, w) in best.items()}

    def set_queries(self, counts: Mapping[str, int]) -> None:
        merged: Counter[str] = Counter()
        for q, c in counts.items():
            if q and q.strip():
                merged[normalize(q)] += int(c)
        self.queries_ = sorted(merged.items())

    @staticmethod
    def _prefixed(items: list[tuple[str, int]], prefix: str, limit: int) -> list[tuple[str, int]]:
        lo = bisect.bisect_left(items, (prefix, -1))
        hi = bisect.bisect_left(items, (prefix + "\U0010ffff", -1))
        return sorted(items[lo:hi], key=lambda x: (-x[1], x[0]))[:limit]

    def complete(self, prefix: str, k: int = 10) -> list[dict[str, object]]:
        """Up to `k` completions: {"text", "source": query|catalog|word, "count"}."""
        text = normalize(prefix)
        if not text:
            return []
        out: dict[str, dict[str, object]] = {}
        for source, items in (("query", self.queries_), ("catalog", self.phrases_)):
            for phrase, count in self._prefixed(items, text, k):
                out.setdefault(phrase, {"text": phrase, "source": source, "count": count})
        head, _, last = text.rpartition(" ")
        if head and last:
            before, _, prev = head.rpartition(" ")
            for pair, count in self._prefixed(self.pairs_, f"{prev} {last}", k):
                phrase = f"{before} {pair}".strip()
                out.setdefault(phrase, {"text": phrase, "source": "catalog", "count": count})
        if last:
            for word, count in self._prefixed(self.words_, last, k):
                phrase = f"{head} {word}".strip()
                out.setdefault(phrase, {"text": phrase, "source": "word", "count": count})
        return list(out.values())[:k]

    def did_you_mean(self, query: str, corrections: Mapping[str, str]) -> str | None:
        """The query with each corrected word replaced by a surface form; None if unchanged."""
        if not corrections:
            return None
        words = normalize(query).split()
        changed = False
        for i, word in enumerate(words):
            key = stem(word)
            if key in corrections:
                fixed = corrections[key]
                words[i] = self.surface_.get(fixed, fixed)
                changed = True
        return " ".join(words) if changed else None

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "suggest.json").write_text(json.dumps(
            {"max_words": self.max_words, "words": self.words_, "phrases": self.phrases_,
             "queries": self.queries_, "pairs": self.pairs_}, ensure_ascii=False))

    @classmethod
    def load(cls, directory: Path) -> Suggester:
        data = json.loads((directory / "suggest.json").read_text(encoding="utf-8"))
        out = cls(data["max_words"])
        out._set_words(Counter(dict((w, c) for w, c in data["words"])))
        out.phrases_ = [tuple(x) for x in data["phrases"]]  # type: ignore[misc]
        out.queries_ = [tuple(x) for x in data["queries"]]  # type: ignore[misc]
        out.pairs_ = [tuple(x) for x in data.get("pairs", [])]  # type: ignore[misc]
        return out
