"""What does the recommendation ranker see? One feature row per (shopper, candidate).

Features: every source's score and reciprocal rank (0 when the source did not propose the
item), how many sources agree, item popularity and age, price fit against the shopper's price
band, category / brand affinity from the history (or a `UserProfile`), history length and
whether the candidate shares the last item's category. With the blend among the sources
(`blend`: SASRec's log-softmax + w x co-visits over the shopper's largest, models.blend), its
score is every candidate's own, whichever source proposed it, and so are its two parts
(`sasrec.logp`, `covisit.share`): a candidate outside SASRec's top 50 keeps its own SASRec
score instead of 0.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from shopsense.domain import Candidate, Product, UserProfile
from shopsense.features.profile import quartiles

CONTEXT_FEATURES: tuple[str, ...] = (
    "n_sources", "log_popularity", "item_age_days", "price_fit", "category_affinity",
    "brand_affinity", "same_category_as_last", "log_history_len",
)


BLEND_PARTS: tuple[str, ...] = ("sasrec.logp", "covisit.share")  # with `blend` only


def feature_names(source_names: Sequence[str]) -> list[str]:
    names = []
    for source in source_names:
        names += [f"{source}.score", f"{source}.rrank"]
    parts = BLEND_PARTS if "blend" in source_names else ()
    return [*names, *parts, *CONTEXT_FEATURES]


def add_blend_signals(candidates: Sequence[Candidate], items: Any,
                      parts: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    """Every candidate's own blend score and parts (`models.blend.blend_parts` over every
    item of this request) as signals; none where SASRec cannot score the shopper."""
    blend, logp, share = parts
    for cand in candidates:
        if cand.item_id not in items:
            continue
        i = items.index(cand.item_id)
        if np.isfinite(blend[i]):
            cand.signals.update({"blend": float(blend[i]), "sasrec.logp": float(logp[i]),
                                 "covisit.share": float(share[i])})


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
        band = quartiles(prices) if prices else None
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
    """(len(candidates), len(feature_names(source_names))) float32: the sources' scores and
    ranks read from each candidate's signals, then `feature_rows`."""
    n = len(candidates)
    signals = [c.signals for c in candidates]
    parts = BLEND_PARTS if "blend" in source_names else ()
    scores = np.zeros((n, len(source_names)))
    ranks = np.full((n, len(source_names)), np.nan)
    blend = np.zeros((n, len(parts)))
    if n:
        for j, source in enumerate(source_names):
            key = f"{source}.rank"
            ranks[:, j] = np.fromiter((s.get(key, np.nan) for s in signals), np.float64, n)
            scores[:, j] = np.fromiter((s.get(source, 0.0) for s in signals), np.float64, n)
        for j, part in enumerate(parts):
            blend[:, j] = np.fromiter((s.get(part, 0.0) for s in signals), np.float64, n)
    return feature_rows(scores, ranks, blend, [c.item_id for c in candidates], source_names,
                        shopper, products, np.fromiter((popularity.get(c.item_id, 0.0)
                                                        for c in candidates), np.float64, n),
                        now)


def feature_rows(scores: np.ndarray, ranks: np.ndarray, blend: np.ndarray,
                 item_ids: Sequence[str], source_names: Sequence[str],
                 shopper: ShopperView | None, products: Mapping[str, Product],
                 popularity: np.ndarray | None, now: float) -> np.ndarray:
    """The feature rows of candidates given as columns: `scores` / `ranks` (n, sources) (0 /
    NaN where a source did not propose the item), `blend` (n, len(BLEND_PARTS)) with the
    blend among the sources, else (n, 0), `popularity` (n,) (0 where unknown); the context
    columns from the products, or 0 without a `shopper` (for a ranker that does not read
    them: `reads_context`)."""
    n = len(item_ids)
    parts = BLEND_PARTS if "blend" in source_names else ()
    rows = np.zeros((n, 2 * len(source_names) + len(parts) + len(CONTEXT_FEATURES)),
                    dtype=np.float32)
    if n == 0:
        return rows
    agree = np.zeros(n)
    for j in range(len(source_names)):
        rank = ranks[:, j]
        present = ~np.isnan(rank)
        rows[:, 2 * j] = scores[:, j]
        rows[:, 2 * j + 1] = np.divide(1.0, rank, out=np.zeros(n), where=present & (rank != 0))
        agree += present
    start = 2 * len(source_names)
    for j in range(len(parts)):
        rows[:, start + j] = blend[:, j]
    if shopper is None or popularity is None:
        return rows
    known = [products.get(i) for i in item_ids]
    rows[:, start + len(parts):] = np.column_stack([
        agree,
        np.log1p(np.asarray(popularity, dtype=np.float64)),
        _age_days(known, now),
        _price_fits(known, shopper.price_band),
        *_shopper_match(known, shopper),
        np.full(n, math.log1p(shopper.history_len)),
    ])
    return rows


def _age_days(known: Sequence[Product | None], now: float) -> np.ndarray:
    """Days since each product was created, capped at ten years; 0 when unknown."""
    created = np.fromiter((p.created_at if p is not None and p.created_at else np.nan
                           for p in known), np.float64, len(known))
    return np.where(np.isnan(created), 0.0, np.minimum((now - created) / 86_400.0, 3650.0))


def _price_fits(known: Sequence[Product | None], band: tuple[float, float] | None
                ) -> np.ndarray:
    """`price_fit` of every product at once."""
    price = np.fromiter((p.price if p is not None and p.price is not None else np.nan
                         for p in known), np.float64, len(known))
    unknown = np.isnan(price) | ~(price > 0)
    if band is None:
        return np.full(len(known), 0.5)
    low, high = max(band[0], 1e-6), max(band[1], 1e-6)
    safe = np.where(unknown, low, price)
    edge = np.where(safe < low, low, high)
    fit = np.where((safe >= low) & (safe <= high), 1.0, np.exp(-np.abs(np.log(safe / edge))))
    return np.where(unknown, 0.5, fit)


def _shopper_match(known: Sequence[Product | None], shopper: ShopperView
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Category affinity, brand share and same-category-as-last of every product."""
    affinity: dict[str, float] = {}  # per category, once per call
    cats = [p.category if p is not None else "" for p in known]
    for category in set(cats):
        affinity[category] = _affinity(category, shopper.category_share)
    brands = shopper.brand_share
    last = shopper.last_category
    return (np.fromiter((affinity[c] for c in cats), np.float64, len(cats)),
            np.fromiter((brands.get(p.brand, 0.0) if p is not None and p.brand else 0.0
                         for p in known), np.float64, len(cats)),
            np.fromiter((1.0 if c and c == last else 0.0 for c in cats), np.float64, len(cats)))


def _affinity(category: str, shares: Mapping[str, float]) -> float:
    """Share of the history in this category or a parent / child of it."""
    if not category:
        return 0.0
    return float(sum(share for cat, share in shares.items()
                     if cat == category or cat.startswith(category + " > ")
                     or category.startswith(cat + " > ")))
