"""One brand, one value: entity facets with zh / en names, multi-select counts that follow the
other selections, attribute labels and booleans in words."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from shopsense.domain import Product
from shopsense.index.entities import Entities
from shopsense.pipeline import surfaces
from shopsense.pipeline.search import SearchEngine
from shopsense.pipeline.search_facets import entity_filters, facet_view
from shopsense.rank.filters import Clause

PRODUCTS = [
    Product("g1", "格力 空调 1.5匹", category="家电 > 空调", brand="格力", price=2999,
            attributes={"energy_class": "一级能效", "wifi": True}),
    Product("g2", "Gree air conditioner 1 HP", category="家电 > 空调", brand="Gree", price=2599,
            attributes={"energy_class": "Class 1", "wifi": False}),
    Product("m1", "美的 空调 挂机", category="家电 > 空调", brand="美的", price=1999,
            attributes={"energy_class": "一级能效", "wifi": True}),
    Product("h1", "Hisense air conditioner", category="家电 > 空调", brand="Hisense", price=1799,
            attributes={"energy_class": "Class 3", "wifi": True}),
]


def _entities(tmp_path: Path | None = None) -> Entities:
    groups = [SimpleNamespace(values=("格力", "Gree")), SimpleNamespace(values=("美的", "Midea"))]
    attrs = [SimpleNamespace(key="energy_class", values=("一级能效", "Class 1"))]
    override = None
    if tmp_path is not None:
        override = tmp_path / "entities.json"
        override.write_text(json.dumps({"brands": [{"zh": "海信", "en": "Hisense"}],
                                         "attribute_labels": {"wifi": {"zh": "无线联网",
                                                                       "en": "Wi-Fi"}}}))
    return Entities.build(groups, attrs, override)


def test_brand_entities_merge_aliases_and_read_in_the_shoppers_language(tmp_path: Path) -> None:
    entities = _entities(tmp_path)
    raw = {"brand": {"格力": 5, "Gree": 3, "美的": 2, "Hisense": 1, "海信": 1},
           "attributes": {"energy_class": {"一级能效": 4, "Class 1": 2, "Class 3": 1},
                          "wifi": {"True": 3, "False": 1}}}
    zh = facet_view(raw, entities, "zh")
    assert zh["brand"][0] == {"value": "Gree", "label": "格力", "count": 8, "selected": False}
    assert {b["label"] for b in zh["brand"]} == {"格力", "美的", "海信"}
    en = facet_view(raw, entities, "en", [Clause("brand", ("格力",))])
    assert en["brand"][0] == {"value": "Gree", "label": "Gree", "count": 8, "selected": True}
    assert en["attributes"]["energy_class"][0]["count"] == 6
    assert en["attribute_labels"] == {"energy_class": "Energy class", "wifi": "Wi-Fi"}
    assert {v["label"] for v in zh["attributes"]["wifi"]} == {"是", "否"}
    assert {v["label"] for v in en["attributes"]["wifi"]} == {"Yes", "No"}


def test_a_selected_entity_matches_every_alias() -> None:
    entities = _entities()
    [brand, attr] = entity_filters([Clause("brand", ("Gree",)),
                                    Clause("attribute", ("energy_class", ("Class 1",)))],
                                   entities)
    assert set(brand.value) == {"格力", "Gree"}
    assert set(attr.value[1]) == {"一级能效", "Class 1"}


def test_multi_select_counts_follow_the_other_selections(tmp_path: Path) -> None:
    engine = SearchEngine.build(PRODUCTS)
    engine.entities_ = (engine.understander, _entities(tmp_path))
    one = engine.search("空调 air conditioner", k=10, filters=[Clause("brand", ("Gree",))])
    assert {r.item_id for r in one.results} == {"g1", "g2"}  # the entity: both aliases
    brands = engine.facet_view(one.facets, "en", [Clause("brand", ("Gree",))])["brand"]
    counts = {b["value"]: (b["count"], b["selected"]) for b in brands}
    assert counts["Gree"] == (2, True) and counts["Midea"][0] == 1  # others keep their counts
    both = engine.search("空调 air conditioner", k=10,
                         filters=[Clause("brand", ("Gree", "Midea"))])  # OR within a field
    assert {r.item_id for r in both.results} == {"g1", "g2", "m1"}
    wifi = engine.search("空调 air conditioner", k=10,
                         filters=[Clause("brand", ("Gree", "Midea")),
                                  Clause("attribute", ("wifi", ("True",)))])  # AND across
    assert {r.item_id for r in wifi.results} == {"g1", "m1"}
    view = engine.facet_view(wifi.facets, "zh", [Clause("attribute", ("wifi", ("True",)))])
    assert {v["label"]: v["count"] for v in view["attributes"]["wifi"]} == {"是": 2, "否": 1}


def test_api_answer_has_one_value_per_brand(demo_shop) -> None:  # type: ignore[no-untyped-def]
    data = surfaces.search(demo_shop, "空调")
    brands = data["facets"]["brand"]
    assert data["lang"] == "zh" and brands
    assert all({"value", "label", "count", "selected"} == set(b) for b in brands)
    assert len({b["label"] for b in brands}) == len(brands)
    en = surfaces.search(demo_shop, "air conditioner", lang="en")["facets"]["brand"]
    assert {b["value"] for b in en} == {b["value"] for b in brands}
