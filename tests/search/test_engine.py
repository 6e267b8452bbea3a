"""The search pipeline end to end on a small bilingual catalogue with the real USE encoder."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from shopsense.domain import Product, QueryReading, Slot, UserProfile
from shopsense.pipeline.search import SearchEngine
from shopsense.rank.filters import user_clauses


def _categories(engine: SearchEngine, query: str, k: int = 2) -> list[str]:
    return [r.product.category for r in engine.search(query, k=k).results if r.product]


@pytest.mark.parametrize(("query", "category", "k"), [
    ("空调", "家电 > 空调", 3),
    ("air conditioner", "家电 > 空调", 3),
    ("运动鞋", "鞋靴 > 运动鞋", 3),
    ("running shoes", "鞋靴 > 运动鞋", 3),
    ("冰箱", "家电 > 冰箱", 2),
    ("refrigerator", "家电 > 冰箱", 1),
    ("television", "家电 > 电视", 1),
    ("手机", "手机数码 > 手机", 2),
    ("smartphone", "手机数码 > 手机", 1),
])
def test_zh_en_and_cross_lingual_queries_find_the_category(bilingual_engine: SearchEngine,
                                                           query: str, category: str, k: int
                                                           ) -> None:
    assert _categories(bilingual_engine, query, k) == [category] * k


def test_results_carry_signals_and_evidence(bilingual_engine: SearchEngine) -> None:
    top = bilingual_engine.search("格力空调", k=1).results[0]
    assert top.item_id == "ac1"
    assert {"ranker", "bm25f", "semantic", "coverage"} <= set(top.signals)
    assert top.evidence["matched"]["title"] and "空调" in top.evidence["matched"]["title"]
    assert top.signals["semantic"] > 0


def test_filters_facets_sort_and_pagination(bilingual_engine: SearchEngine) -> None:
    response = bilingual_engine.search("空调", k=2)
    assert response.total == 3
    assert response.facets["brand"] == {"格力": 2, "美的": 1}
    assert response.facets["availability"] == {"in_stock": 2, "out_of_stock": 1}
    cheap = bilingual_engine.search("空调", filters=user_clauses(price_max=2500))
    assert [r.item_id for r in cheap.results] == ["ac2"]
    in_stock = bilingual_engine.search("空调", filters=user_clauses(available_only=True))
    assert {r.item_id for r in in_stock.results} == {"ac1", "ac2"}
    by_price = bilingual_engine.search("空调", sort="price_asc")
    assert [r.item_id for r in by_price.results] == ["ac2", "ac1", "ac3"]
    newest = bilingual_engine.search("空调", sort="newest")
    assert [r.item_id for r in newest.results] == ["ac3", "ac2", "ac1"]
    page2 = bilingual_engine.search("空调", sort="price_asc", k=2, page=2)
    assert [r.item_id for r in page2.results] == ["ac3"] and page2.total == 3
    attr = bilingual_engine.search("运动鞋", filters=user_clauses(attributes={"colour": ["black"]}))
    assert {r.item_id for r in attr.results} == {"sh1", "sh3"}
    with pytest.raises(ValueError):
        bilingual_engine.search("空调", sort="cheapest")


def test_reading_becomes_hard_filters_and_soft_boosts(bilingual_engine: SearchEngine) -> None:
    reading = QueryReading("格力空调", language="zh", category=Slot("家电 > 空调", 0.9),
                           brands=(Slot(("格力", "Gree"), 0.8),))
    response = bilingual_engine.search("格力空调", reading=reading)
    assert {r.item_id for r in response.results} == {"ac1", "ac3"}
    assert {f["kind"] for f in response.applied_filters} == {"category", "brand"}
    soft = QueryReading("空调", category=Slot("家电 > 空调", 0.9), brands=(Slot(("美的",), 0.3),))
    boosted = bilingual_engine.search("空调", reading=soft)
    assert boosted.results[0].item_id == "ac2"
    assert boosted.results[0].signals["intent.boost"] > 0
    excluded = QueryReading("空调 不要格力", exclusions=(Slot(("brand", ("格力", "Gree")), 0.9),))
    assert [r.item_id for r in bilingual_engine.search("空调", reading=excluded).results] == ["ac2"]


def test_a_filter_that_empties_the_results_is_relaxed_and_reported(
        bilingual_engine: SearchEngine) -> None:
    reading = QueryReading("索尼空调", category=Slot("家电 > 空调", 0.9),
                           brands=(Slot(("索尼", "Sony"), 0.7),))
    response = bilingual_engine.search("索尼空调", reading=reading)
    assert response.results and all(r.product.category == "家电 > 空调"
                                     for r in response.results if r.product)
    assert [f["kind"] for f in response.relaxed_filters] == ["brand"]
    user_only = bilingual_engine.search("空调", filters=user_clauses(brand="Sony"))
    assert user_only.total == 0 and user_only.relaxed_filters == []


def test_personal_affinity_lifts_and_dismissals_sink_with_decay(
        bilingual_engine: SearchEngine) -> None:
    now = time.time()
    plain = [r.item_id for r in bilingual_engine.search("运动鞋", k=3).results]
    fan = UserProfile("u1", category_affinity={"鞋靴 > 运动鞋": 0.2}, brand_affinity={"李宁": 0.8})
    lifted = bilingual_engine.search("运动鞋", k=3, profile=fan, now=now).results
    assert lifted[0].item_id == "sh2" and lifted[0].signals["personal.boost"] > 0
    fresh = UserProfile("u2", dismissed={plain[0]: now - 3600})
    sunk = bilingual_engine.search("运动鞋", k=3, profile=fresh, now=now).results
    assert sunk[-1].item_id == plain[0]
    assert sunk[-1].signals["personal.dismiss_penalty"] < 0
    old = UserProfile("u3", dismissed={plain[0]: now - 200 * 86400})
    decayed = bilingual_engine.search("运动鞋", k=3, profile=old, now=now).results
    assert decayed[0].item_id == plain[0]


def test_dismissed_items_drag_their_close_variants(bilingual_engine: SearchEngine) -> None:
    now = time.time()
    profile = UserProfile("u", dismissed={"ac1": now - 60})
    results = bilingual_engine.search("空调", k=3, profile=profile, now=now).results
    variant = next(r for r in results if r.item_id == "ac3")
    assert variant.signals["personal.dismiss_penalty"] < 0
    assert variant.evidence["personal"]["variant_of_dismissed"] == "ac1"


def test_did_you_mean_autocomplete_and_zero_result_log(tmp_path: Path, use_encoder,  # type: ignore[no-untyped-def]
                                                         bilingual_products) -> None:
    BILINGUAL = bilingual_products
    engine = SearchEngine.build(BILINGUAL, encoder=use_encoder,
                                zero_result_log=tmp_path / "zero.jsonl")
    response = engine.search("refridgerator", k=1)
    assert response.did_you_mean == "refrigerator"
    assert response.results[0].item_id == "fr1"
    assert {"text": "空调", "kind": "category", "kind_label": "分类"} in engine.autocomplete("空")
    assert not any("count" in s for s in engine.autocomplete("空"))  # counts never leave
    assert any(s["text"] == "running" for s in engine.autocomplete("runn"))
    assert engine.autocomplete("running s")[0]["text"] == "running shoes"  # title word pair
    engine.set_popularity({}, {"running shoes for men": 12})  # popular queries come first
    assert engine.autocomplete("running s")[0]["text"] == "running shoes for men"
    empty = SearchEngine.build(BILINGUAL, encoder=None, zero_result_log=tmp_path / "zero.jsonl")
    assert empty.search("xylophone").total == 0
    assert not (tmp_path / "zero.jsonl").exists()  # k-anonymous: one shopper logs nothing
    for n in range(10):  # privacy.zero_result_min_shoppers distinct shoppers
        empty.search("Xylophone", profile=UserProfile(f"u_{n:032x}"))
    logged = [json.loads(line) for line in (tmp_path / "zero.jsonl").read_text().splitlines()]
    assert [e["query"] for e in logged] == ["xylophone"]


def test_upsert_remove_save_load(tmp_path: Path, use_encoder,  # type: ignore[no-untyped-def]
                                 bilingual_products, catalogue) -> None:
    BILINGUAL = bilingual_products
    engine = catalogue.build(BILINGUAL, use_encoder)
    catalogue.upsert(engine, [Product("new1", "戴森 吸尘器 无线 V12", category="家电 > 吸尘器",
                                           brand="戴森", price=3990)])
    assert engine.search("吸尘器", k=1).results[0].item_id == "new1"
    assert engine.search("vacuum cleaner", k=1).results[0].item_id == "new1"
    catalogue.upsert(engine, [Product("ac1", "格力 空调 柜机 3匹", category="家电 > 空调",
                                           brand="格力", price=6999)])
    assert engine.search("柜机", k=1).results[0].item_id == "ac1"
    assert engine.search("空调", filters=user_clauses(price_max=3000)).total == 1
    catalogue.remove(engine, ["ac2"])
    assert "ac2" not in [r.item_id for r in engine.search("空调").results]
    engine.save(tmp_path / "search")
    loaded = SearchEngine.load(tmp_path / "search", encoder=use_encoder,
                               retrieval=catalogue.retrieval())
    for query in ("空调", "vacuum cleaner", "running shoes"):
        assert [r.item_id for r in loaded.search(query).results] == \
            [r.item_id for r in engine.search(query).results]
    assert len(loaded) == len(engine) == len(BILINGUAL)
    loaded.close()
    engine.close()


def test_reading_price_and_attribute_slots_filter(bilingual_engine: SearchEngine) -> None:
    reading = QueryReading("2500元以下 1匹空调", category=Slot("家电 > 空调", 0.9),
                           price_max=Slot(2500.0, 0.9),
                           attributes=(Slot(("power", ("1匹", "1 HP")), 0.8),))
    response = bilingual_engine.search("空调", reading=reading)
    assert [r.item_id for r in response.results] == ["ac2"]
    kinds = {f["kind"] for f in response.applied_filters}
    assert kinds == {"category", "price", "attribute"}
    assert response.reading is not None and response.reading["price_max"]["value"] == 2500.0
    assert response.results[0].signals["intent.price"] == 1.0
