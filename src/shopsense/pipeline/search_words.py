"""The words of a search query as the catalogue knows them: homophone typos (空掉 -> 空调), a
product word still being typed (lapt -> laptop), spelling slips onto product words only, the
in-catalogue test (does the shop sell the type the query names: index/sells.py) and the
autocomplete built on them. `QueryWords` is a mixin of `pipeline.search.SearchEngine`: it reads
the engine's index (keyword vocabulary, spell corrector, suggester, understander) and keeps its
catalogue-bound caches (`pinyin_`, `homophones_`, `typed_`, `types_`, `product_stems_`), which
the engine clears on catalogue writes.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import numpy as np

from shopsense.domain import QueryReading
from shopsense.index.nodes import category_nodes
from shopsense.index.sells import NoExactMatch, TypeReading, catalogue_sells, read_type_words
from shopsense.index.suggest import kind_label, language_of
from shopsense.index.typed import TypedWords
from shopsense.text.normalize import normalize
from shopsense.text.pinyin import PinyinCorrector
from shopsense.text.tokenize import tokenize

HOMOPHONE_MEMO = 20_000  # queries whose homophone reading is kept (then the memo restarts)


def reading_key(reading: QueryReading | None) -> str:
    """A cache key of a reading (each search asks twice; a cached query's reading is the
    understander's memoised one, so most keys are remembered)."""
    if reading is None:
        return ""
    try:
        return _remembered_key(reading)
    except TypeError:  # a slot value that cannot be hashed (a set, a list): not remembered
        return _reading_json(reading)


def _reading_json(reading: QueryReading) -> str:
    return json.dumps(reading.to_dict(), sort_keys=True, ensure_ascii=False, default=str)


_remembered_key = functools.lru_cache(maxsize=4096)(_reading_json)


class QueryWords:
    """Query words against the catalogue's words (see the module docstring)."""

    keyword: Any
    understander: Any
    spell: Any
    suggester: Any
    table: Any
    pinyin_: PinyinCorrector | None
    homophones_: dict[str, tuple[str, dict[str, str]]]
    typed_: tuple[Any, TypedWords] | None
    types_: dict[tuple[str, str, int], Any]
    product_stems_: set[str] | None
    search: Any

    def correct_homophones(self, query: str) -> tuple[str, dict[str, str]]:
        """`query` with Chinese words the catalogue does not know replaced by catalogue words
        that sound the same (空掉 -> 空调), and the changes; the corrector is learned from
        the keyword vocabulary on first use and after catalogue writes."""
        if not any("\u4e00" <= ch <= "\u9fff" for ch in query):
            return query, {}
        memo = self.homophones_  # asked on every search, cached stage or not; a catalogue
        known = memo.get(query)  # write meanwhile replaces the memo: this answer is not kept
        if known is None:
            if self.pinyin_ is None:
                self.pinyin_ = PinyinCorrector().fit(
                    {t: int(self.keyword.df_[i]) for t, i in self.keyword.vocab_.items()})
            if len(memo) >= HOMOPHONE_MEMO:
                memo.clear()
            known = memo[query] = self.pinyin_.correct(query)
        return known[0], dict(known[1])

    def complete_typed_word(self, query: str) -> tuple[str, dict[str, str]]:
        """`query` with an unfinished last word read as the product word it begins ('lapt'
        -> laptop, '空' -> 空调; index/typed.py), and {typed: completed}; needs the
        understander's learned product words."""
        u = self.understander
        if u is None or not getattr(u, "terms_", None):
            return query, {}
        if self.typed_ is None or self.typed_[0] is not u:
            vocab, df = self.keyword.vocab_, self.keyword.df_

            def weight(word: str) -> float:
                ids = [vocab.get(t) for t in tokenize(word)]
                return float(min((df[i] if i is not None else 0) for i in ids)) if ids else 0.0

            def known(word: str) -> bool:
                terms = tokenize(word)
                return bool(terms) and all(t in vocab for t in terms)

            self.typed_ = (u, TypedWords(u.terms_, known, weight))
        return self.typed_[1].complete(query)

    def sells(self, reading: QueryReading | None) -> NoExactMatch | None:
        """The in-catalogue test of `reading` (`index.sells.catalogue_sells`): None when the
        shop sells the product type it names, or names none; needs the understander."""
        if reading is None or self.understander is None:
            return None
        return catalogue_sells(reading, self.understander, self.keyword, self._product_typo)

    def read_type(self, reading: QueryReading) -> NoExactMatch | TypeReading | None:
        """`index.sells.read_type_words` over this catalogue: which leaf type words no
        product word covers point at (washer: the leaf of the titles that write it)."""
        key = (reading.query, reading_key(reading), id(self.understander))
        if key not in self.types_:
            def leaves(rows: np.ndarray) -> list[str]:
                return [self.table.products_[r].category for r in rows.tolist()]

            if len(self.types_) > 10_000:
                self.types_.clear()
            self.types_[key] = read_type_words(reading, self.understander, self.keyword,
                                               self._product_typo, leaves,
                                               category_nodes(self).names)
        return self.types_[key]

    def _product_typo(self, term: str) -> str:
        """A spelling correction of an index term, kept only when it lands on a product word
        (lapop -> laptop, not shaver -> haier)."""
        fixed = self.spell.correct_word(term)
        if fixed == term or abs(len(fixed) - len(term)) > 1:  # a slip, not neckti -> neck
            return term
        if self.product_stems_ is None:
            words = getattr(self.understander, "terms_", {}) or {}
            self.product_stems_ = {t for w in words for t in tokenize(w)}
        return fixed if fixed in self.product_stems_ else term

    def autocomplete(self, prefix: str, k: int = 10, lang: str | None = None
                     ) -> list[dict[str, object]]:
        """Completions, each {"text", "kind", "kind_label"}: the corrected query when the
        prefix holds a typo (only if it finds products), popular queries (typo-corrected and
        only when they find products), categories, brands, words, then up to 3 products with
        their price."""
        lang = lang or language_of(prefix)
        out: list[dict[str, object]] = []
        seen: set[str] = set()

        def add(item: dict[str, object]) -> None:
            if str(item["text"]) not in seen and len(out) < k:
                seen.add(str(item["text"]))
                out.append(item)

        corrected = self.corrected_query(prefix)
        if corrected is not None:
            add({"text": corrected, "kind": "correction",
                 "kind_label": kind_label("correction", lang)})
        head, _, last = normalize(prefix).rpartition(" ")
        completed, typed = self.complete_typed_word(prefix)  # as search reads it: "lapt"
        likely = None if corrected or typed else self.suggester.likely_word(last)
        if typed:
            corrected = completed
        elif likely:  # "labt": the products of the word it most likely is ("laptop")
            corrected = f"{head} {likely}".strip()
        for item in self.suggester.complete(prefix, k, lang):
            if item["kind"] == "query":
                text = self.corrected_query(item["text"]) or item["text"]
                if not self._finds(text):
                    continue
                item = {**item, "text": text}
            add(item)
        if len(prefix.strip()) >= 2 or typed:  # one Han character may begin a product word
            for r in self.search(corrected or prefix, k=3, with_facets=False,
                                 log_zero=False).results:
                if r.product is not None:
                    add({"text": r.product.title, "kind": "product",
                         "kind_label": kind_label("product", lang), "item_id": r.item_id,
                         "price": r.product.price, "currency": r.product.currency})
        return out

    def corrected_query(self, text: str) -> str | None:
        """`text` with its homophone (zh) and spelling (en) typos corrected, when that
        changes it and the corrected text finds products; else None."""
        fixed, changes = self.correct_homophones(text)
        words = fixed.split()
        spelled = []
        for word in words:  # an unknown English word one slip from a product word
            terms = tokenize(word) if word.isascii() else []
            if len(terms) == 1 and not self.spell.known(terms[0]):
                fix = self._product_typo(terms[0])
                if fix != terms[0]:
                    word = self.suggester.surface_.get(fix, fix)
            spelled.append(word)
        fixed = " ".join(spelled)
        if (not changes and fixed == " ".join(words)) or not self._finds(fixed):
            return None
        return fixed

    def _finds(self, text: str) -> bool:
        reading = self.understander.understand(text) if self.understander is not None else None
        return self.search(text, k=1, reading=reading, with_facets=False,
                           log_zero=False).total > 0
