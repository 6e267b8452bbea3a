"""What does the recommendation ranker see? One feature row per (shopper, candidate).

Features: every source's score and reciprocal rank (0 when the source did not propose the
item), how many sources agree, item popularity and age, price fit against the shopper's price
band, category / brand affinity from the history (or a `UserProfile`), history length and
whether the candidate shares the last item's category.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from shopsense.domain import Candidate, Product, UserProfile

CONTEXT_FEATURES: tuple[str, ...] = (
    "n_sources", "log_popularity", "item_age_days", "price_fit", "category_affinity",
    "brand_affinity", "same_category_as_last", "log_history_len",
)


def feature_names(source_names: Sequence[str]) -> list[str]:
    names = []
    for source in source_names:
        names += [f"{source}.score", f"{source}.rrank"]
    return [*names, *CONTEXT_FEATURES]


def merge_candidates(lists: Mapping[str, list[Candidate]]) -> list[Candidate]:
    """Union of per-source lists; signals gain `<source>.rank` (1-based), evidence merges."""
    merged: dict[str, Candidate] = {}
    for source, candidates in lists.items():
        for rank, cand in enumerate(candidates, start=1):
            into = merged.setdefault(cand.item_id, Candidate(cand.item_id, 0.0))
            into.signals.update(cand.signals)
            into.signals[f"{source}.rank"] = float(rank)
            for key, value in cand.evidence.items():
                into.evidence.setdefault(key, value)
    return list(merged.values())


@dataclass
class ShopperView:
    """The shopper facts the features need, from a profile or from the recent items."""

    category_share: dict[str, float]
    brand_share: dict[str, float]
    price_band: tuple[float, float] | None
    last_category: str
    history_len: int

    @classmethod
    def build(cls, recent_items: Sequence[str], products: Mapping[str, Product],
              profile: UserProfile | None = None) -> ShopperView:
        known = [products[i] for i in recent_items if i in products]
        cats = Counter(p.category for p in known if p.category)
        brands = Counter(p.brand for p in known if p.brand)
        prices = [p.price for p in known if p.price is not None]
        band = (float(np.percentile(prices, 25)), float(np.percentile(prices, 75))) if prices \
            else None
        cat_share = {c: n / sum(cats.values()) for c, n in cats.items()}
        brand_share = {b: n / sum(brands.values()) for b, n in brands.items()}
        if profile is not None:
            cat_share = profile.category_affinity or cat_share
            brand_share = profile.brand_affinity or brand_share
            band = profile.price_band or band
        return cls(cat_share, brand_share, band, known[-1].category if known else "",
                   len(recent_items))


def price_fit(price: float | None, band: tuple[float, float] | None) -> float:
    """1 inside the shopper's band, falling with the log-distance outside; 0.5 if unknown."""
    if price is None or band is None or price <= 0:
        return 0.5
    low, high = max(band[0], 1e-6), max(band[1], 1e-6)
    if low <= price <= high:
        return 1.0
    edge = low if price < low else high
    return math.exp(-abs(math.log(price / edge)))


def feature_matrix(candidates: Sequence[Candidate], source_names: Sequence[str],
                   shopper: ShopperView, products: Mapping[str, Product],
                   popularity: Mapping[str, float], now: float) -> np.ndarray:
    """(len(candidates), len(feature_names(source_names))) float32."""
    rows = np.zeros((len(candidates), 2 * len(source_names) + len(CONTEXT_FEATURES)),
                    dtype=np.float32)
    keys = [(source, f"{source}.rank") for source in source_names]
    affinity: dict[str, float] = {}  # per category, once per call
    history = math.log1p(shopper.history_len)
    for r, cand in enumerate(candidates):
        signals = cand.signals
        values = []
        for source, rank_key in keys:
            rank = signals.get(rank_key)
            values += [signals.get(source, 0.0), 1.0 / rank if rank else 0.0]
        product = products.get(cand.item_id)
        category = product.category if product else ""
        created = product.created_at if product and product.created_at else None
        if category not in affinity:
            affinity[category] = _affinity(category, shopper.category_share)
        values += [
            sum(1 for _, rank_key in keys if rank_key in signals),
            math.log1p(popularity.get(cand.item_id, 0.0)),
            min((now - created) / 86_400.0, 3650.0) if created else 0.0,
            price_fit(product.price if product else None, shopper.price_band),
            affinity[category],
            shopper.brand_share.get(product.brand, 0.0) if product and product.brand else 0.0,
            1.0 if category and category == shopper.last_category else 0.0,
            history,
        ]
        rows[r] = values
    return rows


def _affinity(category: str, shares: Mapping[str, float]) -> float:
    """Share of the history in this category or a parent / child of it."""
    if not category:
        return 0.0
    return float(sum(share for cat, share in shares.items()
                     if cat == category or cat.startswith(category + " > ")
                     or category.startswith(cat + " > ")))
