"""Needs, not only words: purpose phrases ("适合学生", "送爸爸", "for travel", "办公") become soft
preferences, and availability is respected.

A purpose names a price band as quantiles of the category's own prices (learned from the
catalogue: "student" = the lower half of laptops' prices, whatever the shop's prices are) and
attributes it prefers. Preferences only reorder: the shopper's hard wishes still filter, and
nothing is dropped. Items out of stock go after those in stock unless the shopper asks for
them ("包括无货" / "including out of stock"). Purposes are configured in assistant.json
(`purposes`); the defaults are below.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from shopsense.assistant.lexicon import has_any
from shopsense.domain import Product

WANTS_UNAVAILABLE = ("包括无货", "包括缺货", "无货的也", "缺货的也", "including out of stock",
                     "even if out of stock", "out of stock ones too", "sold out ones")


class Purpose(BaseModel):
    words: tuple[str, ...] = Field(..., description="Phrases that name the purpose (zh + en).")
    label_zh: str
    label_en: str
    price_quantile_min: float | None = Field(None, ge=0, le=1)
    price_quantile_max: float | None = Field(None, ge=0, le=1)
    attributes: dict[str, list[Any]] = Field(default_factory=dict,
                                             description="Preferred attribute values.")
    categories: list[str] = Field(default_factory=list, description="Category path fragments "
                                  "it suits, for a request that names no product type.")


DEFAULT_PURPOSES: dict[str, Purpose] = {
    "student": Purpose(words=("学生", "大学生", "上学", "宿舍", "开学", "student", "college",
                              "university", "dorm", "for school"),
                       label_zh="学生", label_en="a student", price_quantile_max=0.4,
                      categories=["笔记本", "平板", "耳机", "鼠标"]),
    "gift_dad": Purpose(words=("送爸爸", "给爸爸", "送父亲", "给父亲", "父亲节", "老爸", "送老爸",
                               "for my dad", "for dad", "for my father", "gift for dad",
                               "father's day", "fathers day"),
                        label_zh="送爸爸", label_en="a gift for dad", price_quantile_min=0.4,
                        attributes={"gender": ["男", "men", "通用", "unisex"]},
                        categories=["智能手表", "茶叶", "耳机", "男装", "运动鞋", "手机"]),
    "gift": Purpose(words=("送礼", "礼物", "礼品", "送人", "gift", "present for"),
                    label_zh="送礼", label_en="a gift", price_quantile_min=0.4,
                    categories=["智能手表", "耳机", "茶叶", "口红", "平板"]),
    "travel": Purpose(words=("旅行", "旅游", "出差", "出行", "带出门", "travel", "trip",
                             "vacation", "holiday", "on the go"),
                      label_zh="旅行", label_en="travel",
                      attributes={"waterproof": [True], "noise_cancelling": [True]},
                      categories=["帐篷", "睡袋", "耳机", "运动鞋"]),
    "office": Purpose(words=("办公", "上班用", "工作用", "商务", "office", "for work",
                             "business"),
                      label_zh="办公", label_en="office work", price_quantile_max=0.75,
                      categories=["笔记本", "显示器", "鼠标"]),
}


def purpose_of(text: str, purposes: Mapping[str, Purpose]) -> str:
    """The first purpose a message names ("" for none)."""
    for name, purpose in purposes.items():
        if has_any(text, purpose.words):
            return name
    return ""


def wants_unavailable(text: str) -> bool:
    return has_any(text, WANTS_UNAVAILABLE)


class PriceBands:
    """Price quantiles per category, from the catalogue (recomputed when it changes size)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, int], np.ndarray] = {}
        self._lock = threading.Lock()

    def bounds(self, products: Mapping[str, Product], category: str,
               purpose: Purpose) -> tuple[float | None, float | None]:
        key = (category, len(products))
        with self._lock:
            prices = self._cache.get(key)
            if prices is None:
                prices = np.sort(np.asarray([p.price for p in products.values()
                                             if p.category == category and p.price is not None],
                                            dtype=np.float64))
                self._cache[key] = prices
        if not len(prices):
            return None, None
        low = (float(np.quantile(prices, purpose.price_quantile_min))
               if purpose.price_quantile_min is not None else None)
        high = (float(np.quantile(prices, purpose.price_quantile_max))
                if purpose.price_quantile_max is not None else None)
        return low, high


def fit(product: Product, purpose: Purpose | None, band: tuple[float | None, float | None]
        ) -> int:
    """How many of the purpose's preferences the product meets (price band, attributes)."""
    if purpose is None:
        return 0
    score = 0
    low, high = band
    if (low is not None or high is not None) and product.price is not None:
        score += int((low is None or product.price >= low) and
                     (high is None or product.price <= high))
    for key, values in purpose.attributes.items():
        value = product.attributes.get(key)
        score += int(value is not None and str(value).lower() in {str(v).lower()
                                                                   for v in values})
    return score


def arrange(products: Sequence[Product], purpose: Purpose | None,
            bands: Mapping[str, tuple[float | None, float | None]], *,
            unavailable_ok: bool) -> list[Product]:
    """In stock first (unless asked), then the better fit to the purpose; ties keep the
    engine's order."""
    def key(pair: tuple[int, Product]) -> tuple[int, int, int]:
        n, p = pair
        stock = 0 if (p.available or unavailable_ok) else 1
        return stock, -fit(p, purpose, bands.get(p.category, (None, None))), n
    return [p for _, p in sorted(enumerate(products), key=key)]
