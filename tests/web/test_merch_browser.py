"""The merchandising console against the real server: rules stored in the store as audited
versions change what search and recommendations serve (pins, excludes by brand and attribute,
query redirects, schedules), a stale edit is refused, a roll back restores an older version,
and the console previews a query's page before / after a draft and saves it."""

from __future__ import annotations

import json
import time

import httpx
import pytest

pytestmark = pytest.mark.browser


def _api(live_shop, method: str, path: str, body=None, key=None):
    headers = {"X-API-Key": key or live_shop.admin_key}
    answer = httpx.request(method, live_shop.url + path, json=body, headers=headers, timeout=60)
    return answer


def _search(live_shop, q: str) -> dict:
    answer = httpx.get(live_shop.url + "/v1/search", params={"q": q, "k": 12},
                       headers={"X-API-Key": live_shop.public_key}, timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _save(live_shop, body: dict, note: str, base: int | None = None) -> dict:
    answer = _api(live_shop, "PUT", "/v1/admin/merch", {"body": body, "note": note, "base_version": base})
    assert answer.status_code == 200, answer.text
    time.sleep(1.1)  # replicas (and this server) pick a new version up within a second
    return answer.json()


def test_stored_rules_change_what_is_served(live_shop) -> None:
    start = _api(live_shop, "GET", "/v1/admin/merch").json()
    before = _search(live_shop, "空调")["results"]
    products = live_shop.shop.products
    phone = next(i for i, p in sorted(products.items()) if p.category.startswith("手机数码"))
    top_brand = before[0]["brand"]
    white = next((r for r in before if r["attributes"].get("colour") == "白色"), None)
    rules = [{"action": "pin", "field": "item", "value": phone, "position": 0, "query": "空调"},
             {"action": "exclude", "field": "brand", "value": top_brand, "query": "空调",
              "surfaces": ["search"]},
             {"action": "exclude", "field": "attribute", "key": "colour", "value": "白色",
              "query": "空调"},
             {"action": "pin", "field": "item", "value": phone, "position": 0, "query": "冰箱",
              "start": time.time() + 3600}]  # scheduled: not yet
    saved = _save(live_shop, {"rules": rules, "redirects": [
        {"query": "售后", "url": "/cart"}]}, "sale week", base=start["version"])
    assert saved["version"] == start["version"] + 1 and saved["actor"].startswith("key:")
    after = _search(live_shop, "空调")["results"]
    assert after[0]["item_id"] == phone
    assert all(r["brand"] != top_brand for r in after)
    assert all(r["attributes"].get("colour") != "白色" for r in after)
    if white is not None:
        assert white["item_id"] not in {r["item_id"] for r in after}
    assert _search(live_shop, "冰箱")["results"][0]["item_id"] != phone  # scheduled later
    assert _search(live_shop, "售后").get("redirect") == "/cart"
    # a stale edit is refused; the history says who and why; a roll back is a new version
    stale = _api(live_shop, "PUT", "/v1/admin/merch", {"body": {"rules": []}, "base_version": start["version"]})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "conflict"
    bad = _api(live_shop, "PUT", "/v1/admin/merch", {"body": {"rules": [{"action": "pin", "field": "brand", "value": "x"}]}})
    assert bad.status_code == 422 and "error" in bad.json()
    history = _api(live_shop, "GET", "/v1/admin/merch/history").json()["versions"]
    assert history[0]["note"] == "sale week"
    assert _api(live_shop, "GET", "/v1/admin/merch", key=live_shop.public_key).status_code == 403
    if start["version"]:
        back = _api(live_shop, "POST", "/v1/admin/merch/rollback", {"version": start["version"]})
    else:
        back = _api(live_shop, "PUT", "/v1/admin/merch", {"body": {}, "note": "clear"})
    assert back.status_code == 200
    time.sleep(1.1)
    assert _search(live_shop, "空调")["results"][0]["item_id"] == before[0]["item_id"]
    assert _api(live_shop, "POST", "/v1/admin/merch/rollback", {"version": 9999}).status_code == 404


def test_recommendation_rules_and_preview(live_shop) -> None:
    start = _api(live_shop, "GET", "/v1/admin/merch").json()
    draft = {"rules": [{"action": "exclude", "field": "category", "value": "家电",
                        "surfaces": ["recommend"]}]}
    preview = _api(live_shop, "POST", "/v1/admin/merch/preview",
                   {"draft": draft, "query": "空调", "user": "u00001"}).json()
    cats = lambda items: [live_shop.shop.products[x["item_id"]].category for x in items]  # noqa: E731
    assert not any(c.startswith("家电") for c in cats(preview["recommend"]["after"]))
    assert preview["search"]["before"] == preview["search"]["after"]  # a recommend-only rule
    _save(live_shop, draft, "no appliances in for-you", base=start["version"])
    served = httpx.get(live_shop.url + "/v1/recommend", params={"user": "u00001", "k": 12},
                       headers={"X-API-Key": live_shop.public_key}, timeout=60).json()["results"]
    assert served and not any(c.startswith("家电") for c in cats(served))
    _save(live_shop, {}, "clear")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_console_previews_and_saves(page, live_shop, shots, lang) -> None:
    products = live_shop.shop.products
    phone = next(i for i, p in sorted(products.items()) if p.category.startswith("手机数码"))
    page.add_init_script(f"localStorage.setItem('ss.lang', JSON.stringify('{lang}'));"
                         f"sessionStorage.setItem('ss.adminKey', {json.dumps(live_shop.admin_key)});"
                         "sessionStorage.setItem('ss.adminTab', 'merch')")
    page.goto("/admin")
    page.wait_for_selector("#merch-rules")
    form = page.locator("#rule-form")
    form.locator("select[name=action]").select_option("pin")
    form.locator("select[name=field]").select_option("item")
    form.locator("input[name=value]").fill(phone)
    form.locator("input[name=query]").fill("空调")
    form.locator("#add-rule").click()
    page.wait_for_selector("#merch-rules tr[data-i='0']")
    page.fill("#preview-form input[name=query]", "空调")
    page.click("#run-preview")
    page.wait_for_selector("#preview-search")
    after = page.locator("#preview-search > div").nth(1).locator("li").first
    assert after.get_attribute("data-item") == phone and "m-new" in after.get_attribute("class")
    page.screenshot(path=str(shots / f"merch-console-{lang}.png"), full_page=True)
    page.fill("#save-note", "pin a phone for the demo")
    page.click("#save-merch")
    page.wait_for_selector("#merch-history td:has-text('pin a phone for the demo')")
    page.wait_for_function("document.getElementById('save-merch').disabled")  # nothing unsaved
    time.sleep(1.1)
    page.goto("/search?q=空调")
    page.wait_for_selector("#results .card")
    assert page.get_attribute("#results .card", "data-item") == phone
    _save(live_shop, {}, "clear")
