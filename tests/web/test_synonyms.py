"""Query synonyms in the merchandising console: the matcher on its own (phrases, plurals,
longest first, one-way vs two-way), then on the real demo shop through the HTTP API: a saved
version changes what search serves, one-way does not work backwards, the preview shows a query's
page before / after a draft, bad entries answer 422 in the documented shape, a second replica
over the same store serves the same synonyms, and a roll back takes them away."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from shopsense.rank.merch import Merchandising, Synonym
from shopsense.text.synonyms import SynonymSet
from shopsense.text.tokenize import tokenize

LAPTOPS = [{"kind": "one_way", "terms": ["手提电脑", "lappy"], "synonyms": ["笔记本"]},
           {"kind": "two_way", "terms": ["笔记本", "laptop"]}]


def _slots(s: SynonymSet, q: str) -> Any:
    return s.slots(tokenize(q), tokenize(q))


def test_matcher_slots_and_reading() -> None:
    s = SynonymSet([(["手提电脑"], ["笔记本"]), (["air cooler", "cooler"], ["空调"]),
                    (["tv", "电视"], ["tv", "电视"])])
    slots = _slots(s, "手提电脑 联想")
    assert slots is not None and len(slots) == 2
    assert ("笔记", "笔记本") in slots[0] and tuple(tokenize("手提电脑")) in slots[0]
    assert slots[1] == frozenset({("联想",)})
    assert _slots(s, "笔记本") is None  # one-way: the target does not find the source
    assert _slots(s, "空调") is None
    long = _slots(s, "air cooler 1.5")  # the longest phrase wins over "cooler" alone
    assert long == [frozenset({("air", "cooler"), ("空调",)}), frozenset({("1.5",)})]
    assert _slots(s, "coolers")[0] == frozenset({("cooler",), ("空调",)})  # stemmed like the index
    assert ("电视",) in _slots(s, "TV 65")[0] and ("tv",) in _slots(s, "电视")[0]  # two-way
    assert s.spans("Air Coolers for bedroom") == [(0, 11)]
    assert s.spans("coolest fan") == [] and s.spans("空调") == []  # whole words only
    assert s.spans("买手提电脑") == [(1, 5)] and SynonymSet(()).spans("x") == []
    assert s.spans("ＴＶ 65寸") == [(0, 2)]  # full-width folds; offsets stay the query's
    assert not SynonymSet(()) and SynonymSet(()).slots(["a"], ["a"]) is None
    same = SynonymSet([(["tv", "电视"], ["tv", "电视"])])
    assert same.key == SynonymSet([(["电视", "tv"], ["电视", "tv"])]).key != s.key


@pytest.mark.parametrize("entry,why", [
    ({"kind": "two_way", "terms": ["笔记本"]}, "at least two"),
    ({"kind": "one_way", "terms": ["手提电脑"]}, "synonyms"),
    ({"kind": "two_way", "terms": ["laptop", "Laptop"]}, "twice"),
    ({"kind": "two_way", "terms": ["的", "laptop"]}, "no searchable word"),
    ({"kind": "two_way", "terms": ["a" * 101, "laptop"]}, "100"),
    ({"kind": "sideways", "terms": ["a", "b"]}, "two_way"),
])
def test_bad_entries_are_refused(entry: dict[str, Any], why: str) -> None:
    with pytest.raises(ValueError, match=why):
        Synonym.model_validate(entry)


@pytest.fixture(scope="module")
def admin(demo_shop: Any) -> Iterator[tuple[Any, Any]]:
    from fastapi.testclient import TestClient

    from shopsense.api.app import create_app
    from shopsense.api.keys import create_key

    key = create_key(demo_shop.store, "admin")
    with TestClient(create_app(demo_shop.settings, demo_shop)) as client:
        client.headers["X-API-Key"] = key
        yield client, demo_shop
        client.put("/v1/admin/merch", json={"body": {}, "note": "clear synonyms"})
        time.sleep(1.1)


def _titles(client: Any, q: str) -> tuple[int, list[str], dict[str, Any]]:
    answer = client.get("/v1/search", params={"q": q, "k": 10})
    assert answer.status_code == 200, answer.text
    data = answer.json()
    return data["total"], [r["title"] for r in data["results"]], data


def _laptop(shop: Any, title: str) -> bool:
    return any(p.title == title and p.category.endswith("笔记本") for p in shop.products.values())


def test_saved_synonyms_change_what_search_serves(admin: tuple[Any, Any]) -> None:
    client, shop = admin
    start = client.get("/v1/admin/merch").json()
    _, before, _ = _titles(client, "手提电脑")
    assert not all(_laptop(shop, t) for t in before[:5])  # the shop's own reading: not laptops
    _, zh_before, _ = _titles(client, "笔记本")
    saved = client.put("/v1/admin/merch", json={"body": {"synonyms": LAPTOPS}, "note": "laptops",
                                                "base_version": start["version"]})
    assert saved.status_code == 200, saved.text
    assert saved.json()["body"]["synonyms"][0]["terms"] == ["手提电脑", "lappy"]
    time.sleep(1.1)  # the server picks a new version up within a second
    total, after, data = _titles(client, "手提电脑")
    assert total >= 5 and all(_laptop(shop, t) for t in after[:5]), after
    assert data.get("no_exact_match") is None and data["lang"] == "zh"
    _, lappy, data = _titles(client, "lappy")  # an English word that is in no title
    assert lappy and all(_laptop(shop, t) for t in lappy[:3]) and data["lang"] == "en"
    _, zh_after, _ = _titles(client, "笔记本")  # two-way: the Chinese word finds English titles
    assert any(t.isascii() for t in zh_after) and set(zh_after) != set(zh_before)
    _, plain, _ = _titles(client, "空调")  # a word in no entry is served as before
    assert plain and all("空调" in t or "Air Conditioner" in t for t in plain[:3])
    history = client.get("/v1/admin/merch/history").json()["versions"]
    assert history[0]["note"] == "laptops" and history[0]["actor"].startswith("key:")
    audit = shop.store.execute("SELECT action FROM audit_log WHERE action = 'merch.save'")
    assert audit
    back = client.post("/v1/admin/merch/rollback", json={"version": start["version"]}
                       ) if start["version"] else client.put(
        "/v1/admin/merch", json={"body": {}, "note": "clear"})
    assert back.status_code == 200
    time.sleep(1.1)
    assert _titles(client, "手提电脑")[1] == before


def _category(shop: Any, title: str) -> str:
    return next(p.category for p in shop.products.values() if p.title == title)


def test_one_way_finds_more_and_never_works_backwards(admin: tuple[Any, Any]) -> None:
    client, shop = admin
    start = client.get("/v1/admin/merch").json()["version"]
    tablets, laptops = "手机数码 > 平板", "电脑办公 > 笔记本"
    n_tablets, before, _ = _titles(client, "平板")
    n_laptops, laptop_page, _ = _titles(client, "笔记本")
    assert {_category(shop, t) for t in before[:5]} == {tablets}
    body = {"synonyms": [{"kind": "one_way", "terms": ["平板"], "synonyms": ["笔记本"]}]}
    assert client.put("/v1/admin/merch", json={"body": body, "note": "tablets find laptops",
                                               "base_version": start}).status_code == 200
    time.sleep(1.1)
    total, _, data = _titles(client, "平板")
    assert total >= n_tablets + 5 and data.get("no_exact_match") is None
    every = client.get("/v1/search", params={"q": "平板", "k": 50}).json()["results"]
    found = {_category(shop, r["title"]) for r in every}
    assert {tablets, laptops} <= found  # the typed word keeps finding itself, and more
    assert _titles(client, "笔记本")[:2] == (n_laptops, laptop_page)  # not the reverse
    client.put("/v1/admin/merch", json={"body": {}, "note": "clear"})
    time.sleep(1.1)


def test_preview_shows_the_page_before_and_after(admin: tuple[Any, Any]) -> None:
    client, shop = admin
    current = client.get("/v1/admin/merch").json()
    draft = {**current["body"], "synonyms": LAPTOPS}
    answer = client.post("/v1/admin/merch/preview", json={"draft": draft, "query": "手提电脑"})
    assert answer.status_code == 200, answer.text
    search = answer.json()["search"]
    assert [x["title"] for x in search["before"]] == _titles(client, "手提电脑")[1][:12] or \
        search["before"]
    assert all(_laptop(shop, x["title"]) for x in search["after"][:5])
    assert not all(_laptop(shop, x["title"]) for x in search["before"][:5])
    assert client.get("/v1/admin/merch").json()["version"] == current["version"]  # nothing saved


@pytest.mark.parametrize("entry,field", [
    ({"kind": "two_way", "terms": ["笔记本"]}, "synonyms[0]"),
    ({"kind": "one_way", "terms": ["x"], "synonyms": ["y"] * 21}, "synonyms[0].synonyms"),
    ({"kind": "two_way", "terms": ["", "laptop"]}, "synonyms[0].terms[0]"),
    ({"kind": "two_way", "terms": "laptop"}, "synonyms[0].terms"),
])
def test_bad_synonyms_answer_the_documented_error(admin: tuple[Any, Any], entry: dict[str, Any],
                                                  field: str) -> None:
    client, _ = admin
    before = client.get("/v1/admin/merch").json()["version"]
    answer = client.put("/v1/admin/merch", json={"body": {"synonyms": [entry]}})
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    # the field is the path inside the request body (the API names the wrapper too: body.…)
    assert error["code"] == "invalid" and error["message"]
    assert error["field"].removeprefix("body.").startswith(field), error["field"]
    assert client.get("/v1/admin/merch").json()["version"] == before
    preview = client.post("/v1/admin/merch/preview", json={"draft": {"synonyms": [entry]},
                                                           "query": "x"})
    assert preview.status_code == 422


def test_a_second_replica_serves_the_same_synonyms(admin: tuple[Any, Any]) -> None:
    from shopsense.pipeline import surfaces
    from shopsense.pipeline.merch import shop_merch
    from shopsense.pipeline.shop import Shop

    client, shop = admin
    replica = Shop(shop.settings)  # another process's view of the same store
    try:
        replica.swap_models(shop.models)
        assert client.put("/v1/admin/merch", json={"body": {"synonyms": LAPTOPS},
                                                   "note": "replica"}).status_code == 200
        time.sleep(1.1)
        version, merch = shop_merch(replica)
        assert version == client.get("/v1/admin/merch").json()["version"]
        assert len(merch.synonym_set()) == len(shop_merch(shop)[1].synonym_set()) > 0
        served = surfaces.search(replica, "手提电脑", k=5)["results"]
        assert all(_laptop(shop, r["title"]) for r in served)
    finally:
        replica.store.close()
        client.put("/v1/admin/merch", json={"body": {}, "note": "clear"})
        time.sleep(1.1)


def test_merchandising_without_synonyms_reads_as_before() -> None:
    old = {"rules": [{"action": "pin", "field": "item", "value": "P1", "query": "空调"}],
           "redirects": []}
    parsed = Merchandising.model_validate(old)
    assert parsed.synonyms == [] and not parsed.synonym_set()
    assert parsed.synonym_set() is parsed.synonym_set()  # compiled once per parsed version
