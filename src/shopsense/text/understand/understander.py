"""`QueryUnderstander`: a query -> `QueryReading` in the catalogue's own vocabulary.

Answers: what a shopper asked for — language, intent, category, brands, model numbers, price
bounds, value preference, attributes, exclusions, product words — each with a confidence and
the span it came from. Everything catalogue-specific is learned in `fit(products, queries)`;
the optional character CRF tagger adds brand / product-word spans in free Chinese text.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from shopsense.domain import Product, QueryReading
from shopsense.memo import Memo
from shopsense.text.understand.brands import learn_brands
from shopsense.text.understand.category import (
    CategoryClassifier,
    deepest_confident,
    learn_terms,
    node_probabilities,
    node_words,
    training_texts,
)
from shopsense.text.understand.encoder import CategoryCentroids, SurfaceVectors, load_encoder
from shopsense.text.understand.gazetteer import Entry, Gazetteer, compact
from shopsense.text.understand.lexicon import Group, has_han, learn_attributes
from shopsense.text.understand.parse import Parsed, parse_query
from shopsense.text.understand.price import PriceParser

CONFIG_FILE = "config.json"
LEXICON_FILE = "lexicon.json"


class QueryUnderstander:
    """Learns lexicons + a category model from a catalogue; reads queries in ~1 ms.

    usd_rate: shop-currency units per US dollar when the shop prices in CNY (the demo's fixed
    7.2); encoder: "use" links zh/en names at fit time and backs up the category model for
    words the catalogue never uses, "none" keeps everything lexical; category_threshold: the
    probability a category needs before it is reported; seed: the classifier's seed.
    """

    def __init__(self, usd_rate: float = 7.2, encoder: str = "use",
                 category_threshold: float = 0.5, seed: int = 0) -> None:
        self.usd_rate = usd_rate
        self.encoder = encoder
        self.category_threshold = category_threshold
        self.seed = seed
        self.tagger_: Any = None

    # ---- learning -------------------------------------------------------------------------
    def fit(self, products: Iterable[Product], queries: Iterable[str] = ()) -> QueryUnderstander:
        items = [p for p in products if isinstance(p, Product)]
        if not items:
            raise ValueError("fit needs at least one Product")
        if self.encoder not in ("use", "none"):
            raise ValueError(f"encoder must be 'use' or 'none', got {self.encoder!r}")
        if self.usd_rate <= 0:
            raise ValueError("usd_rate must be > 0")
        encode = load_encoder(self.encoder)
        self.brands_ = learn_brands(items, encode)
        self.attributes_, self.models_ = learn_attributes(items, encode)
        surfaces = [s for g in self.brands_ + self.attributes_ for s in g.surfaces]
        excluded = {compact(s)[0] for s in surfaces}
        excluded |= {compact(w)[0] for s in surfaces if s.isascii()
                     for w in re.split(r"[^0-9a-zA-Z]+", s) if w}
        han_surfaces = {compact(s)[0] for g in self.attributes_ for s in g.surfaces
                        if has_han(s)}
        self.terms_ = learn_terms(items, excluded, han_surfaces)
        currencies = Counter(p.currency.upper() for p in items if p.currency)
        self.currency_ = currencies.most_common(1)[0][0] if currencies else "CNY"
        self.neutral_words_ = sorted({s.lower() for g in self.attributes_ for s in g.surfaces
                                      if isinstance(s, str) and s.isascii() and len(s) <= 4})
        self.centroids_ = CategoryCentroids.fit(items, encode) if encode else None
        surfaces = [(i, text) for i, g in enumerate(self.attributes_) if not g.weak
                    and g.values != (True,) for text in g.surfaces if isinstance(text, str)]
        self.surface_vectors_ = SurfaceVectors.fit(surfaces, encode) if encode else None
        self._fit_category(items, [q for q in queries if q and q.strip()])
        self._build()
        return self

    def _fit_category(self, items: Sequence[Product], queries: Sequence[str]) -> None:
        brand_names = {}
        for group in self.brands_:
            top = max(group.categories, key=lambda c: group.categories[c])
            if group.categories[top] >= 0.6:
                brand_names.update({v: top for v in group.values})
        texts, labels = training_texts(items, self.terms_, brand_names)
        if len(set(labels)) < 2:
            self.classifier_ = None
            return
        self.classifier_ = CategoryClassifier(seed=self.seed).fit(texts, labels)
        if queries:  # self-training: logged queries the first model reads confidently
            self._build()
            extra = [(q, r.category.value) for q in queries
                     if (r := self.understand(q)).category is not None
                     and r.category.confidence >= 0.8 and r.category.value in self.classifier_.classes_]
            if extra:
                self.classifier_ = CategoryClassifier(seed=self.seed).fit(
                    texts + [q for q, _ in extra], labels + [c for _, c in extra])

    def _build(self) -> None:
        """Index the learned lexicons for matching (after fit or load)."""
        gazetteer = Gazetteer()
        for i, group in enumerate(self.brands_):
            gazetteer.add_all(group.surfaces, Entry("brand", i, priority=2))
            gazetteer.add_all(group.lines, Entry("brand_line", i, priority=2))
        for i, group in enumerate(self.attributes_):
            kind = "weak_attribute" if group.weak else "attribute"
            gazetteer.add_all(group.surfaces, Entry(kind, i, priority=1))
        for phrase in self.terms_:
            gazetteer.add(phrase, Entry("term", phrase, priority=0))
        for model in self.models_:
            gazetteer.add(model, Entry("model", model, priority=3))
        self.gazetteer_ = gazetteer
        leaves = self.classifier_.classes_ if self.classifier_ is not None else [
            c for shares in self.terms_.values() for c in shares]
        self.node_words_ = node_words(self.terms_, leaves)
        self.brand_words_ = {s.lower(): i for i, g in enumerate(self.brands_) for s in g.surfaces
                             if isinstance(s, str) and s.isascii() and s.isalpha() and len(s) >= 5}
        phrases = [*self.terms_, *(s for g in self.brands_ + self.attributes_
                                   for s in g.surfaces if isinstance(s, str))]
        self.lexicon_words_ = frozenset(w for p in phrases for w in re.findall(r"[a-z]+", p.lower()))
        self.price_parser_ = PriceParser(self.currency_, {"CNY": 1.0, "USD": self.usd_rate})
        self.readings_ = Memo(8192, 3600.0)  # a reading depends only on the query and the model

    def term_shares(self, phrase: str) -> dict[str, float]:
        """The categories a learned product word asks for: its leaf shares, or the whole node
        when it names a node above several leaves (鞋 -> 鞋靴, not only 运动鞋)."""
        node = self.node_words_.get(phrase)
        return {node: 1.0} if node is not None else self.terms_[phrase]

    def use_tagger(self, tagger: Any) -> QueryUnderstander:
        """Add a trained `CrfTagger` as an extra signal (brand / product words in zh text)."""
        self.tagger_ = tagger
        if hasattr(self, "readings_"):
            self.readings_.clear()
        return self

    # ---- reading --------------------------------------------------------------------------
    def understand(self, query: str) -> QueryReading:
        """The structured reading of `query` (see `shopsense.domain.QueryReading`)."""
        if not hasattr(self, "gazetteer_"):
            raise RuntimeError("QueryUnderstander is not fitted; call fit() or load()")
        reading = self.readings_.get(query)
        if reading is None:
            parsed: Parsed = parse_query(self, query)
            reading = parsed.reading()
            self.readings_.put(query, reading)
        return reading

    def category_probabilities(self, text: str) -> dict[str, float]:
        """Leaf category -> probability for `text` from the classifier alone."""
        if self.classifier_ is None or not text.strip():
            return {}
        probs = self.classifier_.predict_proba(text)
        return dict(zip(self.classifier_.classes_, probs.tolist(), strict=True))

    def pick_category(self, leaf_probs: dict[str, float]) -> tuple[str, float] | None:
        if not leaf_probs:
            return None
        classes = list(leaf_probs)
        nodes = node_probabilities(classes, np.array([leaf_probs[c] for c in classes]))
        return deepest_confident(nodes, self.category_threshold)

    # ---- persistence ----------------------------------------------------------------------
    def save(self, directory: str | Path) -> None:
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        config = {"usd_rate": self.usd_rate, "encoder": self.encoder,
                  "category_threshold": self.category_threshold, "seed": self.seed}
        (out / CONFIG_FILE).write_text(json.dumps(config, indent=2), encoding="utf-8")
        lexicon = {"brands": [g.to_json() for g in self.brands_],
                   "attributes": [g.to_json() for g in self.attributes_],
                   "models": self.models_, "terms": self.terms_, "currency": self.currency_,
                   "neutral_words": self.neutral_words_}
        (out / LEXICON_FILE).write_text(json.dumps(lexicon, ensure_ascii=False), encoding="utf-8")
        if self.classifier_ is not None:
            self.classifier_.save(out)
        if self.centroids_ is not None:
            self.centroids_.save(out)
        if self.surface_vectors_ is not None:
            self.surface_vectors_.save(out)

    @classmethod
    def load(cls, directory: str | Path) -> QueryUnderstander:
        src = Path(directory)
        config = json.loads((src / CONFIG_FILE).read_text(encoding="utf-8"))
        self = cls(**config)
        lexicon = json.loads((src / LEXICON_FILE).read_text(encoding="utf-8"))
        self.brands_ = [Group.from_json(g) for g in lexicon["brands"]]
        self.attributes_ = [Group.from_json(g) for g in lexicon["attributes"]]
        self.models_ = dict(lexicon["models"])
        self.terms_ = {k: dict(v) for k, v in lexicon["terms"].items()}
        self.currency_ = lexicon["currency"]
        self.neutral_words_ = list(lexicon["neutral_words"])
        has_model = (src / "category.json").exists()
        self.classifier_ = CategoryClassifier.load(src) if has_model else None
        self.centroids_ = CategoryCentroids.load(src)
        self.surface_vectors_ = SurfaceVectors.load(src)
        self._build()
        return self
