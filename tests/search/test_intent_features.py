"""The reading's agreement features, computed for all candidates at once, equal the rule
applied to each product on its own (category below the path, brand alias, attribute values,
inclusive price bounds; an unknown price matches no bound)."""

from __future__ import annotations

import math

import numpy as np

from shopsense.domain import Product, QueryReading, Slot
from shopsense.rank.filters import category_matches, price_matches
from shopsense.rank.search_features import _intent_features

PRODUCTS = [
    Product("a", "t", category="家电 > 空调", brand="格力", price=2999.0,
            attributes={"colour": "white"}),
    Product("b", "t", category="家电 > 空调 > 挂机", brand="Gree", price=None),
    Product("c", "t", category="家电 > 空调器", brand="美的", price=math.nan,
            attributes={"colour": "red"}),
    Product("d", "t", category="家电", brand="gree", price=3000, attributes={"size": "1.5匹"}),
]


def _one(reading: QueryReading, p: Product) -> tuple[float, float, float, float]:
    cat = 0.0 if reading.category is None else (
        1.0 if category_matches(p.category, reading.category.value) else -1.0)
    names = {str(v).lower() for s in reading.brands for v in s.value}
    brand = 0.0 if not reading.brands else (1.0 if p.brand.lower() in names else -1.0)
    attr = sum(1.0 if p.attributes.get(s.value[0]) in s.value[1] else -0.5
               for s in reading.attributes)
    lo = reading.price_min.value if reading.price_min else None
    hi = reading.price_max.value if reading.price_max else None
    price = 0.0 if lo is None and hi is None else (
        1.0 if price_matches(p.price, lo, hi) else -1.0)
    return (cat, brand, attr, price)


def test_intent_features_equal_the_per_product_rule() -> None:
    readings = [
        QueryReading("q"),
        QueryReading("q", category=Slot("家电 > 空调", 0.9),
                     brands=(Slot(("格力", "Gree"), 0.9),),
                     attributes=(Slot(("colour", ("white", "白色")), 0.9),
                                 Slot(("size", ("1.5匹",)), 0.9)),
                     price_min=Slot(2999.0, 0.9), price_max=Slot(3000.0, 0.9)),
        QueryReading("q", price_max=Slot(2999.5, 0.9)),
        QueryReading("q", price_min=Slot(3000.0, 0.9)),
    ]
    for reading in readings:
        expected = np.asarray([_one(reading, p) for p in PRODUCTS], dtype=np.float32)
        assert np.array_equal(_intent_features(reading, PRODUCTS), expected)
    assert _intent_features(readings[1], PRODUCTS)[:, 3].tolist() == [1.0, -1.0, -1.0, 1.0]
