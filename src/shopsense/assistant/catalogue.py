"""Does the catalogue carry a product type? The "is it in the catalogue" test, in one place.

`presence(shop, subject)` answers for the words of "do you sell X?" / "有X吗": X is carried
when every content word of X is a known term of the search engine's keyword index and some
product holds all of them in its title or category. When X is not carried, `related` lists
the categories nearest to X by the search encoder (labelled as related, never as X).

The test is the search engine's (`SearchEngine.sells`, `index.sells.catalogue_sells`:
learned product words, a title holding every type word, or a close synonym by the encoder —
the test behind `no_exact_match` on a search answer); `carried_by_search` is the one place
that calls it. An engine without an understander, or a reading that took the type word for a
negation ("无人机" as "without 人机"), falls back to `carried_by_terms`: every content word of
X is a keyword-index term held by some product's title or category.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shopsense.knowledge.index import content_terms
from shopsense.text.tokenize import tokenize

RELATED_MIN_COSINE = 0.28  # USE cosines of a type and a category path it relates to
RELATED_WINDOW = 0.1  # ... and at most this far below the nearest one
_CACHE: dict[int, tuple[tuple[str, ...], np.ndarray]] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Presence:
    subject: str
    carried: bool
    related: list[str] = field(default_factory=list)  # category paths, nearest first
    terms: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"subject": self.subject, "carried": self.carried, "related": self.related}


def carried_by_search(shop: Any, subject: str, terms: list[str]) -> bool:
    """The search engine's in-catalogue test for `subject` (no `no_exact_match`)."""
    engine, understander = shop.models.search, shop.models.understander
    sells = getattr(engine, "sells", None)
    if sells is None or understander is None or getattr(engine, "understander", None) is None:
        return carried_by_terms(shop, terms)
    reading = understander.understand(subject)
    if reading.exclusions:  # "无人机" read as "without 人机": the type word was not seen
        return carried_by_terms(shop, terms)
    return sells(reading) is None


def carried_by_terms(shop: Any, terms: list[str]) -> bool:
    """Some product holds every term in its title or category (the engine's own index)."""
    keyword = shop.models.search.keyword
    if not terms or len(keyword.query_term_ids(terms)) < len(terms):
        return False  # a word no product uses
    matches = keyword.score_matches(terms)
    for row in matches.rows[matches.matched >= len(terms)][:500].tolist():
        product = shop.products.get(keyword.item_ids_[row])
        if product is not None and set(terms) <= set(tokenize(
                f"{product.title} {product.category}")):
            return True
    return False


def presence(shop: Any, subject: str, k: int = 3) -> Presence:
    terms = content_terms(subject)
    if not terms:
        return Presence(subject, True)
    if carried_by_search(shop, subject, terms):
        return Presence(subject, True, terms=tuple(terms))
    return Presence(subject, False, related_categories(shop, subject, k), tuple(terms))


def related_categories(shop: Any, subject: str, k: int = 3) -> list[str]:
    engine = shop.models.search
    categories = tuple(sorted({p.category for p in shop.products.values() if p.category}))
    if not categories:
        return []
    if engine.encoder is None:  # words only: categories of products sharing any word
        words = set(content_terms(subject))
        return [c for c in categories if words & set(tokenize(c))][:k]
    key = id(engine)
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is None or cached[0] != categories:
            cached = _CACHE[key] = (categories, engine.encoder.encode_documents(categories))
    cos = cached[1] @ engine.encoder.encode_query(subject)
    order = np.argsort(-cos, kind="stable")[:k]
    floor = max(RELATED_MIN_COSINE, float(cos[order[0]]) - RELATED_WINDOW)
    return [categories[i] for i in order.tolist() if cos[i] >= floor]


def glossary_of(shop: Any) -> Any:
    """The shop's glossary (`index.glossary.catalogue_glossary`)."""
    from shopsense.index.glossary import catalogue_glossary

    return catalogue_glossary(shop.products, shop.settings.home)


def category_label(shop: Any, path: str, language: str) -> str:
    """`path` in the shopper's language (its English name for "en")."""
    return path if language == "zh" else glossary_of(shop).category_en(path) or path
