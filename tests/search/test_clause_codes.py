"""Category, brand and attribute clauses, read through look-up tables of the catalogue's codes,
keep exactly the products the per-product rule keeps (below a path; any alias, any case; an
attribute value as text, a missing attribute as "\0"), also for rows added later."""

from __future__ import annotations

import numpy as np

from shopsense.domain import Product
from shopsense.index.catalog import ProductTable
from shopsense.rank.filters import Clause, category_matches, category_rows, clause_mask

PRODUCTS = [Product(f"p{i}", "t", category=c, brand=b, attributes=a) for i, (c, b, a) in enumerate([
    ("家电 > 空调", "格力", {"colour": "White"}), ("家电 > 空调 > 挂机", "Gree", {"colour": "红色"}),
    ("家电 > 空调器", "美的", {"wifi": True}), ("家电", "gree", {"colour": None}),
    ("服装 > 连衣裙", "", {}), ("家电 > 空调", "Midea", {"colour": "white", "wifi": False})])]


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


def test_attribute_clauses_keep_what_the_rule_keeps() -> None:
    table = ProductTable()
    table.add(PRODUCTS[:3])
    rows = np.asarray([2, 0, 1], dtype=np.int64)
    clause = Clause("attribute", ("colour", ("white", "红色")))
    assert clause_mask(clause, table, rows).tolist() == [False, True, True]
    table.add(PRODUCTS[3:])  # rows added after the codes were first read
    rows = np.arange(len(PRODUCTS), dtype=np.int64)
    for key, values in (("colour", ("WHITE",)), ("colour", ("None",)), ("wifi", ("true",)),
                        ("wifi", ("false", "\0")), ("size", ("1.5匹",)), ("size", ("\0",))):
        wanted = {v.lower() for v in values}
        expected = [str(p.attributes.get(key, "\0")).lower() in wanted for p in PRODUCTS]
        for kind in ("attribute", "not_attribute"):
            got = clause_mask(Clause(kind, (key, values)), table, rows).tolist()
            assert got == (expected if kind == "attribute" else [not e for e in expected])
