"""The demo store: Chinese, English and cross-lingual queries land in the expected category."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shopsense.pipeline.search import SearchEngine


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, use_encoder):  # type: ignore[no-untyped-def]
    from shopsense.demo.generate import generate_demo
    from shopsense.evaluation.search import load_catalog

    paths = generate_demo(tmp_path_factory.mktemp("demo"), n_products=600, n_users=10, days=3)
    products, _ = load_catalog(paths.products)
    queries = [json.loads(line) for line in Path(paths.queries).read_text().splitlines()]
    return SearchEngine.build(products, encoder=use_encoder), queries


def _in(category: str, expected: str) -> bool:
    return category == expected or category.startswith(expected + " > ")


@pytest.mark.parametrize(("query", "expected"), [
    ("空调", "家电 > 空调"), ("air conditioner", "家电 > 空调"),
    ("运动鞋", "鞋靴 > 运动鞋"), ("running shoes", "鞋靴 > 运动鞋"),
    ("连衣裙", "服饰 > 女装 > 连衣裙"), ("dress", "服饰 > 女装 > 连衣裙"),
])
def test_named_queries_return_their_category(demo, query: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    engine, _ = demo
    results = engine.search(query, k=5).results
    assert len(results) == 5
    assert all(_in(r.product.category, expected) for r in results)


def test_demo_query_set_top1_category_accuracy(demo) -> None:  # type: ignore[no-untyped-def]
    engine, queries = demo
    judged = [q for q in queries if q.get("expected_category")]
    hits: dict[str, list[bool]] = {}
    for q in judged:
        results = engine.search(q["query"], k=1).results
        ok = bool(results) and _in(results[0].product.category, q["expected_category"])
        hits.setdefault(q["lang"], []).append(ok)
    overall = sum(sum(v) for v in hits.values()) / len(judged)
    assert len(judged) >= 50 and overall >= 0.9
    assert len(hits["zh"]) >= 20 and len(hits["en"]) >= 20
    for lang in ("zh", "en"):  # the demo's English queries are cross-lingual
        assert sum(hits[lang]) / len(hits[lang]) >= 0.85, lang
