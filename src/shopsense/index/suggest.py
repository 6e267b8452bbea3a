"""Autocomplete and "did you mean" from the catalogue's own words and shoppers' popular queries.

Completions come from sorted lists searched by prefix (bisect): popular queries, catalogue
phrases (category names, brands), adjacent title-word pairs and catalogue words (by document
frequency), so "drill b" completes to "drill bit" and "空" to "空调"; an English last word with
no completion is completed as the closest word prefix (one slip: "labt" -> laptop). A logged
query is kept only when at least `min_shoppers` distinct shoppers searched it (privacy: never
one shopper's text), and no count is ever returned. Every suggestion says its `kind`
(query | category | brand | word) with a `kind_label` in the shopper's language. "Did you
mean" rewrites only the words the spell corrector changed, back into a surface form shoppers
write.
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
from shopsense.text.spell import damerau
from shopsense.text.tokenize import STOPWORDS, stem, tokenize

_WORD_RE = re.compile(r"[a-z][a-z0-9'-]*|[\u4e00-\u9fff]+")
KIND_LABELS: dict[str, tuple[str, str]] = {
    "query": ("热门搜索", "Popular search"), "category": ("分类", "Category"),
    "brand": ("品牌", "Brand"), "word": ("搜索词", "Search term"),
    "product": ("商品", "Product"), "correction": ("您是不是要找", "Did you mean"),
}


def kind_label(kind: str, lang: str) -> str:
    zh, en = KIND_LABELS[kind]
    return en if lang == "en" else zh


def language_of(text: str) -> str:
    return "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in text) else "en"


class Suggester:
    """Prefix completions and surface forms of corrected words."""

    def __init__(self, max_words: int = 200_000, min_shoppers: int = 10) -> None:
        self.max_words = max_words
        self.min_shoppers = min_shoppers
        self.words_: list[tuple[str, int]] = []  # sorted by word
        self.phrases_: list[tuple[str, int]] = []
        self.queries_: list[tuple[str, int]] = []
        self.pairs_: list[tuple[str, int]] = []  # adjacent title words, "drill bit"
        self.surface_: dict[str, str] = {}  # stem -> most common surface word
        self.kinds_: dict[str, str] = {}  # catalogue phrase -> category | brand

    def fit(self, products: Iterable[Product], popular_queries: Mapping[str, int] | None = None
            ) -> Suggester:
        words: Counter[str] = Counter()
        phrases: Counter[str] = Counter()
        kinds: dict[str, str] = {}
        pairs: Counter[str] = Counter()
        for p in products:
            found = _WORD_RE.findall(fold(p.title))
            words.update(set(found))
            pairs.update({f"{a} {b}" for a, b in itertools.pairwise(found)
                          if a not in STOPWORDS and b not in STOPWORDS})
            if not p.title.isascii():  # Chinese words need the segmenter
                words.update(t for t in tokenize(p.title) if not t.isascii() and len(t) > 1)
            for kind, part in (("category", p.category.split(">")[-1].strip()
                                if p.category else ""), ("brand", p.brand)):
                if part:
                    phrases[normalize(part)] += 1
                    kinds.setdefault(normalize(part), kind)
        self._set_words(words)
        self.phrases_ = sorted(phrases.items())
        self.kinds_ = kinds
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
        """`counts`: logged query -> distinct shoppers who searched it; only queries of at
        least `min_shoppers` shoppers are kept (the count orders them, never leaves)."""
        merged: Counter[str] = Counter()
        for q, c in counts.items():
            if q and q.strip():
                merged[normalize(q)] = max(merged[normalize(q)], int(c))
        self.queries_ = sorted((q, c) for q, c in merged.items() if c >= self.min_shoppers)

    @staticmethod
    def _prefixed(items: list[tuple[str, int]], prefix: str, limit: int) -> list[tuple[str, int]]:
        lo = bisect.bisect_left(items, (prefix, -1))
        hi = bisect.bisect_left(items, (prefix + "\U0010ffff", -1))
        return sorted(items[lo:hi], key=lambda x: (-x[1], x[0]))[:limit]

    def complete(self, prefix: str, k: int = 10, lang: str | None = None
                 ) -> list[dict[str, str]]:
        """Up to `k` completions: {"text", "kind", "kind_label"} (`lang`: zh | en, default the
        prefix's script)."""
        text = normalize(prefix)
        if not text:
            return []
        lang = lang or language_of(text)
        out: dict[str, str] = {}
        for phrase, _ in self._prefixed(self.queries_, text, k):
            out.setdefault(phrase, "query")
        for phrase, _ in self._prefixed(self.phrases_, text, k):
            out.setdefault(phrase, self.kinds_.get(phrase, "category"))
        head, _, last = text.rpartition(" ")
        if head and last:
            before, _, prev = head.rpartition(" ")
            for pair, _ in self._prefixed(self.pairs_, f"{prev} {last}", k):
                out.setdefault(f"{before} {pair}".strip(), "word")
        if last:
            words = self._prefixed(self.words_, last, k) or self.fuzzy_words(last, k)
            for word, _ in words:
                out.setdefault(f"{head} {word}".strip(), "word")
        return [{"text": t, "kind": kind, "kind_label": kind_label(kind, lang)}
                for t, kind in list(out.items())[:k]]

    def has_word(self, word: str) -> bool:
        i = bisect.bisect_left(self.words_, (word, -1))
        return i < len(self.words_) and self.words_[i][0] == word

    def likely_word(self, prefix: str) -> str | None:
        """The word an unfinished last word most likely is: its most frequent completion, or
        the closest word prefix one slip away ("lapt", "labt" -> laptop); None if complete."""
        if not prefix or self.has_word(prefix):
            return None
        found = self._prefixed(self.words_, prefix, 1) or self.fuzzy_words(prefix, 1)
        return found[0][0] if found else None

    def fuzzy_words(self, prefix: str, k: int) -> list[tuple[str, int]]:
        """Catalogue words whose beginning is one slip from an English `prefix` of 3+ letters
        ("labt" -> laptop), most frequent first; same first letter (typos rarely hit it)."""
        if len(prefix) < 3 or not prefix.isascii() or not prefix.isalpha():
            return []
        found = [(w, c) for w, c in self._prefixed(self.words_, prefix[0], 10**9)
                 if len(w) >= len(prefix) and damerau(prefix, w[:len(prefix)], 2) <= 1]
        return sorted(found, key=lambda x: (-x[1], x[0]))[:k]

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
            {"max_words": self.max_words, "min_shoppers": self.min_shoppers,
             "words": self.words_, "phrases": self.phrases_, "kinds": self.kinds_,
             "queries": self.queries_, "pairs": self.pairs_}, ensure_ascii=False))

    @classmethod
    def load(cls, directory: Path) -> Suggester:
        data = json.loads((directory / "suggest.json").read_text(encoding="utf-8"))
        out = cls(data["max_words"], data.get("min_shoppers", 10))
        out.kinds_ = dict(data.get("kinds", {}))
        out._set_words(Counter(dict((w, c) for w, c in data["words"])))
        out.phrases_ = [tuple(x) for x in data["phrases"]]  # type: ignore[misc]
        out.queries_ = [tuple(x) for x in data["queries"]]  # type: ignore[misc]
        out.pairs_ = [tuple(x) for x in data.get("pairs", [])]  # type: ignore[misc]
        return out
