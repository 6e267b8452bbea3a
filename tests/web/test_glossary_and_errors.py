"""The catalogue glossary (operator files first, then what bilingual listings teach), its
endpoint, the store's 404 page for unknown pages (JSON errors for the API), and the vendored
chart library pinned by checksum."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shopsense.api.app import create_app
from shopsense.config import ServeSettings, Settings
from shopsense.domain import Product
from shopsense.index.glossary import (
    attribute_names,
    brand_names,
    leaf_names,
    learn_glossary,
    read_file,
)
from shopsense.web.routes import STATIC

ROOT = Path(__file__).resolve().parents[2]


def _products() -> list[Product]:
    rows = []
    for i, colour in enumerate(["white", "black", "grey"]):
        rows.append(Product(f"E{i}", f"Gree Wall-Mounted Air Conditioner 1.5 HP, {colour.title()}",
                            description=f"Gree air conditioner: power: 1.5 HP, colour: {colour}.",
                            category="家电 > 空调", brand="Gree",
                            attributes={"power": "1.5 HP", "colour": colour}))
        rows.append(Product(f"Z{i}", "格力(GREE) 空调 挂机 1.5匹 白色",
                            description="格力空调，匹数：1.5匹，颜色：白色。",
                            category="家电 > 空调", brand="格力",
                            attributes={"power": "1.5匹", "colour": "白色"}))
        rows.append(Product(f"S{i}", f"Anta Men's Running Shoes, {colour.title()}",
                            category="鞋靴 > 运动鞋", brand="Anta", attributes={"colour": colour}))
    return rows


def test_learned_attribute_names_brands_and_leaf_names() -> None:
    products = _products()
    names = attribute_names(products)
    assert names["power"] == {"en": "power", "zh": "匹数"}
    assert names["colour"] == {"en": "colour", "zh": "颜色"}
    assert brand_names(products) == {"格力": "GREE"}
    leaves = leaf_names(products, ["Gree", "Anta"])
    assert leaves["家电 > 空调"] == "Air conditioner"  # a word pair beats single words
    assert leaves["鞋靴 > 运动鞋"] in {"Running shoes", "Running", "Shoes"}
    # colours and other attribute values never name a category
    assert "White" not in leaves.values()


def test_operator_file_wins_and_fills_the_rest(tmp_path: Path) -> None:
    op = tmp_path / "glossary.json"
    op.write_text(json.dumps({"categories": {"家电": "Home appliances",
                                             "家电 > 空调": "Home appliances > ACs"},
                              "values": {"白色": "white"}, "brands": {"格力": "Gree"},
                              "attributes": {"power": {"en": "cooling power"}}}),
                  encoding="utf-8")
    g = learn_glossary(_products(), [op, tmp_path / "missing.json"])
    assert g.categories["家电 > 空调"] == "Home appliances > ACs"
    assert g.brands["格力"] == "Gree"  # the operator's spelling, not the title's GREE
    assert g.attributes["power"] == {"en": "cooling power", "zh": "匹数"}
    assert g.values["白色"] == "white"
    assert g.category_en("鞋靴 > 运动鞋").endswith(("Running shoes", "Running", "Shoes"))
    assert g.category_en("家电 > 冰箱") == "Home appliances > 冰箱"  # unknown leaf keeps its name


def test_demo_category_tree_and_bad_files_are_read(tmp_path: Path) -> None:
    tree = tmp_path / "categories.json"
    tree.write_text(json.dumps({"nodes": {"家电": {"path_en": "Appliances"}}}), encoding="utf-8")
    assert read_file(tree) == {"categories": {"家电": "Appliances"}}
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    assert read_file(bad) == {}
    bad.write_text("[1, 2]", encoding="utf-8")
    assert read_file(bad) == {}


@pytest.fixture
def client(tmp_path: Path):
    settings = Settings(home=tmp_path, serve=ServeSettings(require_keys=False))
    (tmp_path / "glossary.json").write_text(json.dumps({"values": {"白色": "white"}}),
                                            encoding="utf-8")
    with TestClient(create_app(settings)) as c:
        yield c


def test_glossary_endpoint(client) -> None:
    body = client.get("/web/glossary.json").json()
    assert set(body) == {"categories", "attributes", "values", "brands"}
    assert body["values"] == {"白色": "white"}


@pytest.mark.parametrize("path", ["/nonexistent-page", "/a/b/c", "/search/extra"])
def test_unknown_pages_get_the_store_404_page(client, path: str) -> None:
    page = client.get(path, headers={"Accept": "text/html"})
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]
    assert '"status": 404' in page.text and "/static/shop.js" in page.text


@pytest.mark.parametrize("path", ["/v1/nope", "/web/nope.json"])
def test_unknown_api_paths_keep_the_json_error_shape(client, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 404
    assert answer.json() == {"error": {"code": "not_found", "message": "Not Found", "field": None}}
    wrong = client.put("/admin")
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_vendored_libraries_are_pinned_with_their_licences() -> None:
    echarts = STATIC / "vendor" / "echarts"
    readme = (STATIC / "vendor" / "README.md").read_text(encoding="utf-8")
    assert "6.1.0" in readme and _sha(echarts / "echarts.min.js") in readme
    assert "Apache License" in (echarts / "LICENSE").read_text(encoding="utf-8")
    axe = ROOT / "tests" / "web" / "vendor"
    assert _sha(axe / "axe-core" / "axe.min.js") in (axe / "README.md").read_text(encoding="utf-8")
    admin = (ROOT / "src" / "shopsense" / "web" / "templates" / "admin.html").read_text(encoding="utf-8")
    assert "/static/vendor/echarts/echarts.min.js" in admin
