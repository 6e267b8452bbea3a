"""Facet counts over a product table: the whole match set, top-level categories, prices."""

from __future__ import annotations

from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from shopsense.domain import Product
from shopsense.index.catalog import ProductTable
from shopsense.rank.filters import PRICE_EDGES, facets

PATHS = ("家电 > 空调", "家电 > 冰箱", "Tools > Drills > Cordless", "Tools", "", "Garden > Hose")


def _assert_top(got: dict[str, int], counts: Counter[str], k: int) -> None:
    """`got` is a top-`k` of `counts` (ties may resolve either way), largest first."""
    assert len(got) == min(k, len(counts))
    assert all(counts[name] == n for name, n in got.items())
    assert list(got.values()) == sorted(got.values(), reverse=True)
    left_out = [n for name, n in counts.items() if name not in got]
    assert not got or not left_out or min(got.values()) >= max(left_out)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(PATHS), st.sampled_from(("a", "b", "")),
                          st.one_of(st.none(), st.floats(0, 6000), st.sampled_from((10.0, 2500.0, 5000.0)))), min_size=1, max_size=40),
       st.data())
def test_facets_equal_counts_by_hand(rows: list[tuple[str, str, float | None]],
                                     data: st.DataObject) -> None:
    table = ProductTable()
    split = data.draw(st.integers(0, len(rows)))  # two batches: codes grow between them
    products = [Product(str(i), "t", category=c, brand=b, price=p)
                for i, (c, b, p) in enumerate(rows)]
    table.add(products[:split])
    table.add(products[split:])
    match = np.asarray(sorted(data.draw(st.sets(st.integers(0, len(rows) - 1)))), np.int64)
    got = facets(table, match, top=3)
    chosen = [rows[r] for r in match.tolist()]
    tops = Counter(c.split(">")[0].strip() for c, _, _ in chosen if c)
    _assert_top(got["top_category"], tops, 3)
    _assert_top(got["category"], Counter(c for c, _, _ in chosen if c), 3)
    _assert_top(got["brand"], Counter(b for _, b, _ in chosen if b), 3)
    bands = Counter(_band(p) for _, _, p in chosen if p is not None)
    assert got["price"] == dict(bands)  # unknown prices are in no band


def _band(price: float) -> str:
    """The facet label of a price, by hand from the edges."""
    edges = PRICE_EDGES
    if price < edges[0]:
        return f"<{int(edges[0])}"
    if price >= edges[-1]:
        return f">={int(edges[-1])}"
    low = max(e for e in edges if e <= price)
    return f"{int(low)}-{int(edges[edges.index(low) + 1])}"
