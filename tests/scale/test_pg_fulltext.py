"""PostgreSQL full-text keyword retrieval over pre-segmented Chinese and English terms."""

from __future__ import annotations

import pytest

pytest.importorskip("psycopg_pool", reason="psycopg-pool (scale extra) not installed")

from shopsense.domain import Product
from shopsense.index.filter import ProductFilter
from shopsense.store import open_store
from shopsense.store.pg_fulltext import PgFullTextIndex, tsquery_of
from shopsense.text.tokenize import tokenize

ITEMS = [
    Product("a", "格力变频空调 1.5匹", brand="格力", category="家电 > 空调", price=3999.0),
    Product("b", "美的空调 大1匹", brand="美的", category="家电 > 空调", price=2599.0),
    Product("c", "华为蓝牙耳机", brand="华为", category="数码 > 耳机", price=499.0),
    Product("d", "Wireless earbuds with charging case", brand="Anker",
            category="Electronics > Headphones", price=59.0),
    Product("e", "Air conditioner remote", category="Appliances > Parts",
            description="works with Gree air conditioners", price=9.0),
]


def test_segmented_chinese_and_english(pg_url: str) -> None:
    store = open_store(pg_url)
    store.upsert_products(ITEMS)
    index = PgFullTextIndex(pg_url)
    index.add(ITEMS)
    assert len(index) == 5
    ids, scores = index.search(tokenize("空调"), 10)
    assert set(ids) == {"a", "b"} and scores == sorted(scores, reverse=True)
    assert index.search(tokenize("耳机"), 10)[0] == ["c"]  # a 2-character term FTS5 misses
    ids, _ = index.search(tokenize("air conditioner"), 10)
    assert ids == ["e"]
    assert index.search(tokenize("earbud"), 10)[0] == ["d"]  # stemmed on both sides
    ids, _ = index.search(tokenize("格力 空调"), 10)
    assert ids[0] == "a"  # matches in title (A) and brand (B)
    cheap, _ = index.search(tokenize("空调"), 10, where=ProductFilter(price_max=3000.0))
    assert cheap == ["b"]
    index.add([Product("b", "美的冰箱", brand="美的", category="家电 > 冰箱")])
    assert index.search(tokenize("空调"), 10)[0] == ["a"]
    assert index.remove(["a", "zzz"]) == 1
    assert index.search(tokenize("空调"), 10) == ([], [])
    assert index.search(["it's", "a'b"], 5) == ([], [])  # quotes are escaped, not SQL
    index.close()
    store.close()


def test_tsquery_quoting() -> None:
    assert tsquery_of(["a", "a", "b'c", " "]) == "'a' | 'b''c'"
    assert tsquery_of([]) == ""


def test_every_term_mode_and_the_candidate_fill(pg_url: str) -> None:
    from shopsense.index.catalog import product_fields
    from shopsense.index.keyword import KeywordIndex
    from shopsense.retrieve.backends import PgFullTextCandidates

    open_store(pg_url).upsert_products(ITEMS)
    index = PgFullTextIndex(pg_url)
    index.add(ITEMS)
    assert tsquery_of(["a", "b"], every=True) == "'a' & 'b'"
    both = tokenize("格力 空调")
    assert index.search(both, 10, every=True)[0] == ["a"]
    assert set(index.search(both, 10)[0]) == {"a", "b"}
    keyword = KeywordIndex()
    keyword.add([(p.item_id, product_fields(p)) for p in ITEMS])
    lists = PgFullTextCandidates(index, keyword)
    bm25 = keyword.score_matches(both)  # PostgreSQL ranks by its own engine, not these
    rows = lists.top_rows(both, bm25, 10)  # 1 full match < a page: filled
    assert [keyword.item_ids_[r] for r in rows] == ["a", "b"]
    assert [keyword.item_ids_[r] for r in lists.top_rows(both, bm25, 1)] == ["a"]
