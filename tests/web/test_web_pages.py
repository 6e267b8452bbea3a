"""Page routes without a browser: the shells carry the public key and config, static files
are served from the package only, demo images exist for every leaf, nothing references a
remote URL, and the DP chart fonts include a CJK family when one is installed."""

from __future__ import annotations

import json
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient

from shopsense.api.app import create_app
from shopsense.config import ServeSettings, Settings
from shopsense.web.placeholders import placeholder_svg, valid_slug
from shopsense.web.routes import STATIC, TEMPLATES


@pytest.fixture
def client(tmp_path: Path):
    settings = Settings(home=tmp_path, serve=ServeSettings(require_keys=True))
    app = create_app(settings)
    app.state.public_key = "ssk_public_</script><b>"
    with TestClient(app) as c:
        yield c


@pytest.mark.parametrize("path", ["/", "/search?q=空调", "/item/P00001", "/cart"])
def test_storefront_shell_carries_the_public_key(client, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    raw = re.search(r'<script id="cfg" type="application/json">(.*?)</script>', page.text, re.S)
    assert raw is not None  # the key cannot close the script element early
    config = json.loads(raw.group(1))
    assert config["publicKey"] == "ssk_public_</script><b>"
    assert config["requireKeys"] is True and config["demoUsers"][0] == "u00001"
    assert config["popular"] == []  # no catalogue yet
    assert "/static/shop.js" in page.text


def test_dashboard_shell_and_static_files(client) -> None:
    assert "/static/admin.js" in client.get("/admin").text
    for name in ("shop.js", "search.js", "admin.js", "common.js", "i18n.js", "shop.css",
                 "favicon.svg"):
        assert client.get(f"/static/{name}").status_code == 200, name
    assert client.get("/static/../routes.py").status_code == 404
    assert client.get("/static/%2e%2e/routes.py").status_code == 404
    assert client.get("/static/nope.js").status_code == 404


def test_no_page_asset_points_at_the_network() -> None:
    remote = re.compile(r"(?:src|href)\s*=\s*[\"']?(?:https?:)?//|url\(\s*[\"']?https?://|"
                        r"fetch\(\s*[\"']https?://|import\s.*https?://")
    for path in [*STATIC.rglob("*.*"), *TEMPLATES.rglob("*.html")]:
        text = path.read_text(encoding="utf-8")
        assert not remote.search(text), path.name


def test_demo_images_are_valid_svg_for_any_slug(client, tmp_path: Path) -> None:
    from shopsense.demo.catalog import leaf_slug
    from shopsense.demo.taxonomy import LEAVES

    for leaf in LEAVES:
        slug = leaf_slug(leaf)
        assert valid_slug(slug), slug
        reply = client.get(f"/static/demo/{slug}.svg")
        assert reply.status_code == 200 and reply.headers["content-type"].startswith("image/svg")
        ElementTree.fromstring(reply.content)  # well-formed XML
    ElementTree.fromstring(placeholder_svg("a&b", "<x>"))
    assert client.get("/static/demo/..%2Fshop.db.svg").status_code == 404


def test_demo_generator_images_win_when_present(client, tmp_path: Path) -> None:
    images = tmp_path / "demo" / "images"
    images.mkdir(parents=True)
    (images / "boots.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" id="mine"/>')
    assert b'id="mine"' in client.get("/static/demo/boots.svg").content
    assert b'id="mine"' not in client.get("/static/demo/tents.svg").content


def test_category_names_come_from_the_demo_tree(client, tmp_path: Path) -> None:
    assert client.get("/web/categories.json").json() == {}
    (tmp_path / "demo").mkdir(exist_ok=True)
    (tmp_path / "demo" / "categories.json").write_text(json.dumps(
        {"nodes": {"家电 > 空调": {"path_en": "Appliances > Air Conditioners"}}}))
    assert client.get("/web/categories.json").json() == {
        "家电 > 空调": "Appliances > Air Conditioners"}


def test_every_ui_string_exists_in_both_languages() -> None:
    text = (STATIC / "i18n.js").read_text(encoding="utf-8")
    string = r'"(?:[^"\\]|\\.)*"'
    entries = re.findall(rf"^\s*([a-z_]+): \[({string}), ({string})\],$", text, re.M)
    assert len(entries) == len(re.findall(r"^\s*[a-z_]+: \[", text, re.M)) > 300  # none malformed
    pairs = {k: (json.loads(zh), json.loads(en)) for k, zh, en in entries}
    assert len(pairs) == len(entries)  # no message twice
    assert all(zh.strip() and en.strip() for zh, en in pairs.values())  # both languages
    assert not [k for k, (zh, _) in pairs.items() if not re.search(r"[\u4e00-\u9fff]", zh)
                and re.search(r"[a-z]{4}", zh)]  # a Chinese text that is still English
    used, added = set(), set()  # a tab's own script may add its messages (experiments.js)
    for path in STATIC.glob("*.js"):
        script = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"\bt\(\"([a-z_]+)\"", script))
        for block in re.findall(r"Object\.assign\(window\.I18N\.en, \{(.*?)\}\);", script, re.S):
            added |= set(re.findall(r"(?:^|[{,\s])([a-z_]+):\s*[\"'`]", block))
    used |= set(re.findall(r'data-i18n(?:-placeholder)?="([a-z_]+)"',
                           "".join(p.read_text(encoding="utf-8") for p in TEMPLATES.glob("*.html"))))
    prefixes = {u for u in used if u.endswith("_")}  # t("sort_" + name)
    assert used - prefixes - set(pairs) - added == set()
    assert all(any(k.startswith(p) for k in {*pairs, *added}) for p in prefixes)


def test_impressions_endpoint_needs_the_search_key_and_a_known_surface(tmp_path: Path) -> None:
    from shopsense.api.keys import create_key

    settings = Settings(home=tmp_path, serve=ServeSettings(require_keys=True))
    app = create_app(settings)
    key = {"X-API-Key": create_key(app.state.shop.store, "search")}
    body = {"surface": "similar", "items": ["P1", "P2"], "session_id": "web-1"}
    with TestClient(app) as c:
        assert c.post("/web/impressions", json=body).status_code == 401
        assert c.post("/web/impressions", json=body, headers=key).json() == {"recorded": 2}
        bad = c.post("/web/impressions", json={**body, "surface": "banner"}, headers=key)
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "surface"
        assert c.post("/web/impressions", json={"surface": "search"}, headers=key).status_code == 422
    stored = app.state.shop.store.execute("SELECT session_id, item_id FROM web_impressions")
    assert [r[1] for r in stored] == ["P1", "P2"]
    assert stored[0][0] != "web-1"  # pseudonymised at the door


def test_popular_searches_follow_the_catalogue(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    app = create_app(settings)
    app.state.shop.upsert_items([
        {"item_id": f"p{i}", "title": "t", "category": path}
        for i, path in enumerate(["家电 > 空调"] * 3 + ["鞋靴 > 运动鞋"] * 2 + ["食品 > 咖啡"])])
    with TestClient(app) as c:
        config = json.loads(re.search(r'id="cfg" type="application/json">(.*?)</script>',
                                      c.get("/").text, re.S).group(1))
    assert config["popular"][:3] == ["空调", "运动鞋", "咖啡"]
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "queries.jsonl").write_text("{}\n")
    with TestClient(app) as c:
        assert "running shoes under $80" in c.get("/").text
