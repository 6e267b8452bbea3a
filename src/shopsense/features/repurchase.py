"""Is this product bought again and again (a consumable) or once (a durable)?

The product attribute `consumable` (true/false) decides when present. Otherwise the answer is
learned from events: per category path, the share of (shopper, item) purchase pairs where the
same shopper bought the same item again later (smoothed towards 0 with `prior` pseudo-pairs),
plus the median days between such repurchases. A category with too little data inherits from
its parent path.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np

from shopsense.domain import Event, Product
from shopsense.features.frame import DAY, category_prefixes, normalise_category

MIN_GAP_S = 3600.0  # two purchases closer than this are one order logged twice
TRUE_WORDS = frozenset({"true", "1", "yes", "y", "是", "consumable"})
FALSE_WORDS = frozenset({"false", "0", "no", "n", "否", "durable"})


def consumable_attribute(product: Product) -> bool | None:
    """The product's own `consumable` attribute as a bool, or None when absent / unreadable."""
    value: Any = product.attributes.get("consumable") if product.attributes else None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    return None


@dataclass(slots=True)
class RepurchaseRates:
    """Learned per-category repurchase rates; see `learn_repurchase_rates`."""

    rate: dict[str, float] = field(default_factory=dict)  # category path -> share repurchased
    interval_days: dict[str, float] = field(default_factory=dict)  # median gap between buys
    support: dict[str, int] = field(default_factory=dict)  # (shopper, item) pairs seen
    threshold: float = 0.15
    min_support: int = 5

    def _lookup(self, table: Mapping[str, float], category: str) -> float | None:
        for path in reversed(category_prefixes(category)):
            if self.support.get(path, 0) >= self.min_support and path in table:
                return table[path]
        return None

    def rate_for(self, category: str) -> float | None:
        return self._lookup(self.rate, category)

    def interval_for(self, category: str) -> float | None:
        return self._lookup(self.interval_days, category)

    def is_consumable(self, product: Product) -> bool:
        """Attribute first; else learned rate >= threshold; unknown categories are durable."""
        own = consumable_attribute(product)
        if own is not None:
            return own
        rate = self.rate_for(product.category)
        return rate is not None and rate >= self.threshold


def learn_repurchase_rates(events: Iterable[Event], products: Mapping[str, Product], *,
                           prior: float = 2.0, threshold: float = 0.15,
                           min_support: int = 5) -> RepurchaseRates:
    """Count repeat purchases of the same item by the same shopper, per category path."""
    if prior < 0:
        raise ValueError(f"prior must be >= 0, got {prior}")
    times: dict[tuple[str, str], list[float]] = defaultdict(list)
    for e in events:
        if e.event_type == "purchase" and e.item_id and e.actor and e.item_id in products:
            times[(e.actor, e.item_id)].append(e.timestamp)
    pairs: dict[str, int] = defaultdict(int)
    repeats: dict[str, int] = defaultdict(int)
    gaps: dict[str, list[float]] = defaultdict(list)
    for (_, item_id), stamps in times.items():
        stamps.sort()
        steps = [b - a for a, b in pairwise(stamps) if b - a >= MIN_GAP_S]
        for path in category_prefixes(normalise_category(products[item_id].category)):
            pairs[path] += 1
            if steps:
                repeats[path] += 1
                gaps[path].extend(s / DAY for s in steps)
    return RepurchaseRates(
        rate={p: repeats[p] / (n + prior) for p, n in pairs.items()},
        interval_days={p: float(np.median(g)) for p, g in gaps.items() if g},
        support=dict(pairs), threshold=threshold, min_support=min_support,
    )
