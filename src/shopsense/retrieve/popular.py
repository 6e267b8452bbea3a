"""What is popular, and what is rising? Time-decayed popularity and trending (velocity).

Both score every item from weighted interactions (purchase > cart > view); a category in the
context limits them to that branch of the catalogue ("popular in 家电 > 空调").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from shopsense.domain import Event, Product
from shopsense.models.context import RecContext
from shopsense.models.interactions import NON_INTERACTIONS, Interactions
from shopsense.models.sequences import ItemIndex
from shopsense.models.source_base import DenseSource, event_weight

DAY = 86_400.0


def _flat(data: Interactions, items: ItemIndex) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(item index, weight, timestamp) of every interaction with a known item."""
    idx, weights, stamps = [], [], []
    for u, seq in enumerate(data.sequences):
        kinds = data.kinds[u] if data.kinds is not None else None
        times = data.timestamps[u] if data.timestamps is not None else None
        for j, item_id in enumerate(seq):
            i = items.get(item_id)
            if i < 0:
                continue
            idx.append(i)
            weights.append(event_weight(kinds[j]) if kinds is not None else 1.0)
            stamps.append(times[j] if times is not None else 0.0)
    return (np.asarray(idx, np.int64), np.asarray(weights, np.float64),
            np.asarray(stamps, np.float64))


class PopularRetriever(DenseSource):
    """Weighted interaction counts, each decayed by its age (half-life in days; 0 = no decay)."""

    def __init__(self, half_life_days: float = 14.0, name: str = "popular") -> None:
        super().__init__()
        if half_life_days < 0:
            raise ValueError("half_life_days must be >= 0")
        self.half_life_days = half_life_days
        self.name = name
        self.scores_: np.ndarray | None = None
        self.now_: float = 0.0

    def fit(self, data: Interactions, items: ItemIndex,
            products: Sequence[Product] = ()) -> PopularRetriever:
        self._set_catalogue(items, products)
        idx, weights, stamps = _flat(data, items)
        self.now_ = float(stamps.max()) if stamps.size else 0.0
        self.scores_ = np.bincount(idx, weights * self._decay(stamps), minlength=len(items))
        return self

    def _decay(self, stamps: np.ndarray) -> np.ndarray:
        if self.half_life_days <= 0:
            return np.ones_like(stamps)
        return np.exp2(-(self.now_ - stamps) / (self.half_life_days * DAY))

    def observe(self, event: Event) -> None:
        """Count one new event at once (decayed to the model's clock)."""
        items = self._require_items()
        if self.scores_ is None or not event.item_id or event.event_type in NON_INTERACTIONS:
            return
        i = items.get(event.item_id)
        if i >= 0:
            age = max(self.now_ - event.timestamp, 0.0)
            factor = 1.0 if self.half_life_days <= 0 else 2 ** (-age / (self.half_life_days * DAY))
            self.scores_[i] += event_weight(event.event_type) * factor

    def score_all(self, context: RecContext) -> np.ndarray:
        if self.scores_ is None:
            raise RuntimeError("PopularRetriever is not fitted")
        return np.where(self.scores_ > 0, self.scores_, -np.inf)

    def evidence(self, context: RecContext, index: int) -> dict[str, Any]:
        return {"popular_score": round(float(self.scores_[index]), 4)}  # type: ignore[index]

    def save(self, directory: Path) -> None:
        self._save_common(directory, {"kind": "popular", "half_life_days": self.half_life_days,
                                      "now": self.now_})
        np.save(directory / "scores.npy", self.scores_)

    @classmethod
    def load(cls, directory: Path) -> PopularRetriever:
        config, items, categories = cls._load_common(directory)
        source = cls(config["half_life_days"], name=config["name"])
        source.items_, source.categories_, source.now_ = items, categories, config["now"]
        source.scores_ = np.load(directory / "scores.npy", allow_pickle=False)
        return source


class TrendingRetriever(DenseSource):
    """Velocity: the recent daily rate (short half-life) above the usual rate (long one).

    score = rate_short - rate_long, where rate_h = decayed weight / (h / ln 2) per day; only
    items whose recent rate exceeds the usual one are proposed (so a steady best-seller is
    popular, not trending).
    """

    def __init__(self, short_days: float = 1.0, long_days: float = 14.0,
                 name: str = "trending") -> None:
        super().__init__()
        if not 0 < short_days < long_days:
            raise ValueError("need 0 < short_days < long_days")
        self.short_days, self.long_days, self.name = short_days, long_days, name
        self.short_ = PopularRetriever(short_days)
        self.long_ = PopularRetriever(long_days)

    def fit(self, data: Interactions, items: ItemIndex,
            products: Sequence[Product] = ()) -> TrendingRetriever:
        self._set_catalogue(items, products)
        self.short_.fit(data, items, products)
        self.long_.fit(data, items, products)
        return self

    def observe(self, event: Event) -> None:
        self.short_.observe(event)
        self.long_.observe(event)

    def score_all(self, context: RecContext) -> np.ndarray:
        if self.short_.scores_ is None or self.long_.scores_ is None:
            raise RuntimeError("TrendingRetriever is not fitted")
        short = self.short_.scores_ / (self.short_days / math.log(2))
        long = self.long_.scores_ / (self.long_days / math.log(2))
        velocity = short - long
        return np.where(velocity > 0, velocity, -np.inf)

    def evidence(self, context: RecContext, index: int) -> dict[str, Any]:
        assert self.short_.scores_ is not None and self.long_.scores_ is not None
        return {"recent_rate": round(float(self.short_.scores_[index]) * math.log(2)
                                     / self.short_days, 3),
                "usual_rate": round(float(self.long_.scores_[index]) * math.log(2)
                                    / self.long_days, 3)}

    def save(self, directory: Path) -> None:
        self._save_common(directory, {"kind": "trending", "short_days": self.short_days,
                                      "long_days": self.long_days})
        self.short_.save(directory / "short")
        self.long_.save(directory / "long")

    @classmethod
    def load(cls, directory: Path) -> TrendingRetriever:
        config, items, categories = cls._load_common(directory)
        source = cls(config["short_days"], config["long_days"], name=config["name"])
        source.items_, source.categories_ = items, categories
        source.short_ = PopularRetriever.load(directory / "short")
        source.long_ = PopularRetriever.load(directory / "long")
        return source
