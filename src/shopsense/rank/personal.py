"""How a shopper's history moves search results: affinity boosts and dismissal penalties.

Boost: the shopper's share of engagement with the item's category (or a parent of it), with its
brand, and whether its price sits in the shopper's usual band. Penalty: an item the shopper
dismissed sinks, and so do its close variants (same brand and category, or an encoder cosine
above `variant_cosine`); the penalty halves every `half_life_days`. Adjustments are scaled to the
spread of the ranker's scores for the query, and every one is recorded as a signal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from shopsense.domain import Product, UserProfile


@dataclass
class Adjustment:
    """Per-candidate personal signals (aligned with the candidates)."""

    boost: np.ndarray  # (n,) >= 0
    penalty: np.ndarray  # (n,) >= 0
    evidence: list[dict[str, object]]


class PersonalReranker:
    """Adds `weight * affinity * scale` and subtracts the decayed dismissal penalty."""

    def __init__(self, weight: float = 0.5, half_life_days: float = 14.0,
                 dismiss_penalty: float = 3.0, variant_penalty: float = 1.5,
                 variant_cosine: float = 0.9) -> None:
        if half_life_days <= 0:
            raise ValueError("half_life_days must be positive")
        self.weight = weight
        self.half_life_days = half_life_days
        self.dismiss_penalty = dismiss_penalty
        self.variant_penalty = variant_penalty
        self.variant_cosine = variant_cosine

    def decay(self, dismissed_at: float, now: float) -> float:
        age_days = max(now - dismissed_at, 0.0) / 86400.0
        return float(0.5 ** (age_days / self.half_life_days))

    def affinity(self, profile: UserProfile, product: Product,
                 categories: dict[str, tuple[float, str | None]] | None = None
                 ) -> tuple[float, dict[str, object]]:
        """`categories`: a memo of the category part for one profile (candidates share few
        categories)."""
        score, why = 0.0, {}
        if product.category:
            part = categories.get(product.category) if categories is not None else None
            if part is None:
                part = _category_part(profile, product.category)
                if categories is not None:
                    categories[product.category] = part
            score += part[0]
            if part[1] is not None:
                why["category"] = part[1]
        brand_share = profile.brand_affinity.get(product.brand, 0.0) if product.brand else 0.0
        if brand_share:
            score += brand_share
            why["brand"] = product.brand
        if profile.price_band and product.price is not None:
            low, high = profile.price_band
            if low <= product.price <= high:
                score += 0.25
                why["price_band"] = [low, high]
        return score, why

    def adjust(self, profile: UserProfile | None, products: Sequence[Product],
               now: float, vectors: np.ndarray | None = None,
               dismissed_products: Sequence[Product] = (),
               dismissed_vectors: np.ndarray | None = None) -> Adjustment:
        """`vectors`: (n, d) unit vectors of the candidates; `dismissed_*`: the dismissed items."""
        n = len(products)
        boost, penalty = np.zeros(n, np.float32), np.zeros(n, np.float32)
        evidence: list[dict[str, object]] = [{} for _ in range(n)]
        if profile is None:
            return Adjustment(boost, penalty, evidence)
        categories: dict[str, tuple[float, str | None]] = {}
        for j, product in enumerate(products):
            value, why = self.affinity(profile, product, categories)
            boost[j] = self.weight * value
            if why:
                evidence[j]["affinity"] = why
            when = profile.dismissed.get(product.item_id)
            if when is not None:
                penalty[j] = self.dismiss_penalty * self.decay(when, now)
                evidence[j]["dismissed"] = product.item_id
        self._variants(profile, products, now, vectors, dismissed_products, dismissed_vectors,
                       penalty, evidence)
        return Adjustment(boost, penalty, evidence)

    def _variants(self, profile: UserProfile, products: Sequence[Product], now: float,
                  vectors: np.ndarray | None, dismissed_products: Sequence[Product],
                  dismissed_vectors: np.ndarray | None, penalty: np.ndarray,
                  evidence: list[dict[str, object]]) -> None:
        if not dismissed_products:
            return
        by_kind: dict[tuple[str, str], list[int]] = {}  # (brand, category) -> dismissed
        for d, gone in enumerate(dismissed_products):
            by_kind.setdefault((gone.brand, gone.category), []).append(d)
        close: dict[int, list[int]] = {}  # candidate -> dismissed items its vector is close to
        if vectors is not None and dismissed_vectors is not None and len(dismissed_vectors):
            rows, cols = np.nonzero(vectors @ dismissed_vectors.T >= self.variant_cosine)
            for j, d in zip(rows.tolist(), cols.tolist(), strict=True):
                close.setdefault(j, []).append(d)
        for j, product in enumerate(products):
            if product.item_id in profile.dismissed:
                continue
            same = by_kind.get((product.brand, product.category), ()) if product.brand else ()
            near = close.get(j, ())
            for d in sorted({*same, *near}):  # in the dismissed items' order
                gone = dismissed_products[d]
                value = self.variant_penalty * self.decay(profile.dismissed[gone.item_id], now)
                if value > penalty[j]:
                    penalty[j] = value
                    evidence[j]["variant_of_dismissed"] = gone.item_id


def _category_part(profile: UserProfile, category: str) -> tuple[float, str | None]:
    """The affinity of `category` from the profile's category shares (a path, its ancestors
    and descendants count), and the last path that matched."""
    score, matched = 0.0, None
    for path, share in profile.category_affinity.items():
        if category == path or category.startswith(path + " > ") \
                or path.startswith(category + " > "):
            score += share
            matched = path
    return score, matched
