"""Category and brand clauses, read through a look-up table of the catalogue's codes, keep
exactly the products the per-product rule keeps (below a path; any alias, any case)."""

from __future__ import annotations

import numpy as np

from shopsense.domain import Product
from shopsense.index.catalog import ProductTable
from shopsense.rank.filters import Clause, category_matches, category_rows, clause_mask

PRODUCTS = [Product(f"p{i}", "t", category=c, brand=b) for i, (c, b) in enumerate([
    ("家电 > 空调", "格力"), ("家电 > 空调 > 挂机", "Gree"), ("家电 > 空调器", "美的"),
    ("家电", "gree"), ("服装 > 连衣裙", ""), ("家电 > 空调", "Midea")])]


def test_category_and_brand_clauses_keep_what_the_rule_keeps() -> None:
    table = ProductTable()
    table.add(PRODUCTS)
    rows = np.asarray([5, 0, 2, 3, 1, 4], dtype=np.int64)
    for path in ("家电 > 空调", "家电", "服装", "无"):
        expected = [category_matches(PRODUCTS[r].category, path) for r in rows.tolist()]
        assert clause_mask(Clause("category", path), table, rows).tolist() == expected
        assert clause_mask(Clause("not_category", path), table, rows).tolist() == [
            not e for e in expected]
        assert category_rows(table, path).tolist() == [
            r for r, p in enumerate(PRODUCTS) if category_matches(p.category, path)]
    for names in (("GREE", "格力"), ("midea",), ()):
        lowered = {n.lower() for n in names}
        expected = [PRODUCTS[r].brand.lower() in lowered for r in rows.tolist()]
        assert clause_mask(Clause("brand", names), table, rows).tolist() == expected
    assert clause_mask(Clause("category", "家电"), table, rows[:0]).tolist() == []
