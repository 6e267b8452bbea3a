"""Autocomplete a shopper can trust: typo-proof, only what finds products, popular queries only
when many distinct shoppers searched them, each suggestion with its kind in words."""

from __future__ import annotations

from shopsense.domain import Event, Product
from shopsense.index.suggest import Suggester
from shopsense.pipeline.search import SearchEngine
from shopsense.pipeline.search_open import event_popularity

PRODUCTS = [
    Product("ac1", "格力 冷暖空调 1.5匹", category="家电 > 空调", brand="格力", price=2999),
    Product("ac2", "美的 空调 挂机", category="家电 > 空调", brand="美的", price=1999),
    Product("lp1", "Lenovo ThinkPad laptop 14 inch", category="电脑办公 > 笔记本", brand="Lenovo",
            price=6999),
    Product("lp2", "HP laptop 16GB", category="电脑办公 > 笔记本", brand="HP", price=4299),
    Product("hp1", "Sony headphones noise cancelling", category="手机数码 > 耳机", brand="Sony",
            price=1999),
]


def _engine() -> SearchEngine:
    return SearchEngine.build(PRODUCTS)


def test_kinds_and_localised_labels() -> None:
    engine = _engine()
    found = engine.autocomplete("空", k=8)
    assert {"text": "空调", "kind": "category", "kind_label": "分类"} in found
    assert any(s["kind"] == "brand" for s in engine.autocomplete("格", k=8))
    english = engine.autocomplete("空", k=8, lang="en")
    assert {"text": "空调", "kind": "category", "kind_label": "Category"} in english
    assert all({"text", "kind", "kind_label"} <= set(s) and "count" not in s for s in found)


def test_products_come_with_their_price() -> None:
    products = [s for s in _engine().autocomplete("laptop", k=8) if s["kind"] == "product"]
    assert products and all(isinstance(s["price"], float | int) for s in products)
    assert {s["item_id"] for s in products} <= {"lp1", "lp2"}


def test_english_prefix_typo_completes_to_the_word() -> None:
    texts = [s["text"] for s in _engine().autocomplete("labt", k=8)]
    assert "laptop" in texts


def test_chinese_homophone_typo_suggests_the_corrected_query() -> None:
    found = _engine().autocomplete("空掉", k=8)
    assert found[0] == {"text": "空调", "kind": "correction", "kind_label": "您是不是要找"}
    assert "空掉" not in [s["text"] for s in found]


def test_popular_queries_need_many_distinct_shoppers_and_results() -> None:
    engine = _engine()
    events = [Event(f"e{i}", "search", 1.0 + i, session_id=f"s{i}", query="空调 挂机")
              for i in range(10)]
    events += [Event(f"m{i}", "search", 1.0 + i, session_id="one", query="空调 my secret")
               for i in range(50)]  # one shopper, many times: never suggested
    events += [Event(f"t{i}", "search", 1.0 + i, session_id=f"t{i}", query="空掉 挂机")
               for i in range(12)]  # a typo many shoppers made: suggested corrected
    items, queries = event_popularity(events)
    assert queries == {"空调 挂机": 10, "空调 my secret": 1, "空掉 挂机": 12}
    engine.set_popularity(items, queries)
    texts = [s["text"] for s in engine.autocomplete("空", k=8) if s["kind"] == "query"]
    assert "空调 挂机" in texts and not any("secret" in t for t in texts)
    typo = [s for s in engine.autocomplete("空掉", k=8)]
    assert "空掉 挂机" not in [s["text"] for s in typo]


def test_min_shoppers_is_configurable_and_saved(tmp_path) -> None:  # type: ignore[no-untyped-def]
    s = Suggester(min_shoppers=3).fit(PRODUCTS, {"laptop hp": 3, "laptop x": 2})
    assert [x["text"] for x in s.complete("laptop", 8) if x["kind"] == "query"] == ["laptop hp"]
    s.save(tmp_path)
    again = Suggester.load(tmp_path)
    assert again.min_shoppers == 3 and again.queries_ == s.queries_


def test_an_unfinished_or_slipped_word_shows_the_products_of_the_word_it_likely_is() -> None:
    engine = _engine()
    for prefix in ("lapt", "labt"):
        found = engine.autocomplete(prefix, k=8)
        products = {s["item_id"] for s in found if s["kind"] == "product"}
        assert products and products <= {"lp1", "lp2"}, (prefix, found)
