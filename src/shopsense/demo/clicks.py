"""How a demo shopper reacts to a list shown to them: the known utility the online simulation
(`evaluation.simulate`) replays against live configurations.

A registered shopper's latent tastes (`shoppers_truth.jsonl`: preferred categories with
weights, favourite and disliked brands, price band) give each product an attraction in
[0, 1], the same ingredients the event generator draws from (`demo.sessions.Simulator`):

    attraction = category_weight(item) x (0.45 x price_fit + 0.55 x brand)     (other leaves: x 0.05)

with price_fit = exp(-((price quantile in its category - band centre) / 0.28)^2) and brand 1 for
a favourite, 0 for a disliked one, 0.4 otherwise. A shopper examines position p with
probability 1 / (1 + p)^0.8 and clicks an examined item with probability 0.6 x attraction, so
the true click-through of any list is known in closed form (`expected_clicks`).
"""

from __future__ import annotations

import math
import random
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shopsense.demo.shoppers import BAND_CENTRE
from shopsense.domain import Product

OTHER_LEAF = 0.05
CLICK_SCALE = 0.6


def examination(position: int) -> float:
    return 1.0 / (1.0 + position) ** 0.8


@dataclass(frozen=True)
class ShopperTaste:
    user_id: str
    band: str
    categories: dict[str, float]
    favourites: frozenset[str]
    disliked: frozenset[str]

    @classmethod
    def from_truth(cls, row: Mapping[str, Any]) -> ShopperTaste:
        weights = dict(zip(row["categories"], row["category_weights"], strict=True))
        top = max(weights.values(), default=1.0) or 1.0
        return cls(row["user_id"], row["price_band"], {c: w / top for c, w in weights.items()},
                   frozenset(a for names in row["favourite_brands"] for a in names),
                   frozenset(a for names in row["disliked_brands"] for a in names))


class ClickModel:
    """Attraction of products for shoppers, and the clicks a shown list draws."""

    def __init__(self, products: Iterable[Product]) -> None:
        self.products = {p.item_id: p for p in products}
        prices: dict[str, list[float]] = defaultdict(list)
        for p in self.products.values():
            if p.price is not None:
                prices[p.category].append(float(p.price))
        self._prices = {c: sorted(v) for c, v in prices.items()}

    def quantile(self, product: Product) -> float:
        prices = self._prices.get(product.category)
        if not prices or product.price is None:
            return 0.5
        return bisect_left(prices, float(product.price)) / max(len(prices) - 1, 1)

    def attraction(self, shopper: ShopperTaste, item_id: str) -> float:
        product = self.products.get(item_id)
        if product is None:
            return 0.0
        leaf = shopper.categories.get(product.category, OTHER_LEAF)
        fit = math.exp(-(((self.quantile(product) - BAND_CENTRE[shopper.band]) / 0.28) ** 2))
        brand = 1.0 if product.brand in shopper.favourites else \
            0.0 if product.brand in shopper.disliked else 0.4
        return leaf * (0.45 * fit + 0.55 * brand)

    def click_chance(self, shopper: ShopperTaste, item_id: str, position: int) -> float:
        return examination(position) * CLICK_SCALE * self.attraction(shopper, item_id)

    def expected_clicks(self, shopper: ShopperTaste, items: Sequence[str]) -> float:
        return sum(self.click_chance(shopper, i, p) for p, i in enumerate(items))

    def clicks(self, shopper: ShopperTaste, items: Sequence[str], rng: random.Random
               ) -> list[int]:
        """Positions clicked (each examined and chosen independently)."""
        return [p for p, i in enumerate(items) if rng.random() < self.click_chance(shopper, i, p)]
