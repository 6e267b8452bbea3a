"""The storefront's shopper-facing features in headless chromium, in both languages and at
desktop (1280×900) and phone (390×844) widths: search as you type, multi-select facets and the
price slider, the phone filter sheet, pages without dead ends, the language check (English
pages show no Chinese outside product content; Chinese pages no untranslated UI string), and
a just-bought durable that does not fill "for you" after a reload."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}

# Text shown in the page's own language: every text node, placeholder, aria-label and title
# outside content marked with another `lang` (product titles, descriptions, typed queries).
VISIBLE_TEXT = """lang => {
  const out = [];
  const foreign = (el) => { const owner = el.closest('[lang]'); return owner && !owner.getAttribute('lang').startsWith(lang); };
  const hidden = (el) => el.closest('[hidden], script, style, template, dialog:not([open]), #cfg') ||
    (el.closest('details:not([open])') && !el.closest('summary'));
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!el || hidden(el) || foreign(el) || !node.textContent.trim()) continue;
    out.push(node.textContent.trim());
  }
  document.querySelectorAll('[placeholder], [aria-label], [title]').forEach((el) => {
    if (hidden(el) || foreign(el)) return;
    for (const a of ['placeholder', 'aria-label', 'title']) if (el.getAttribute(a)) out.push(el.getAttribute(a));
  });
  return out;
}"""
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def english_leaks(page) -> list[str]:
    return [t for t in page.evaluate(VISIBLE_TEXT, "en") if CJK.search(t)]


def untranslated(page) -> list[str]:
    """English UI strings (or raw i18n keys) shown on a Chinese page."""
    texts = page.evaluate(VISIBLE_TEXT, "zh")
    phrases = page.evaluate("""() => Object.entries(window.I18N.en)
        .filter(([k, v]) => v !== window.I18N.zh[k])
        .flatMap(([k, v]) => v.split(/\\{[a-z]+\\}/)).map(s => s.trim())
        .filter(s => s.length >= 4 && /[A-Za-z]{3}/.test(s))""")
    keys = page.evaluate("() => Object.keys(window.I18N.zh).filter(k => k.includes('_'))")
    body = "\n".join(texts)
    return [p for p in phrases if p in body] + [k for k in keys if re.search(rf"\b{k}\b", body)]


def set_lang(page, lang: str) -> None:
    page.add_init_script(f"localStorage.setItem('ss.lang', JSON.stringify('{lang}'))")


def wait_results(page) -> None:
    page.wait_for_selector("#results .card, #rescue")
    page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_language_check_on_every_page(page, live_shop, shots, lang) -> None:
    set_lang(page, lang)
    query = "air conditioner" if lang == "en" else "空调"
    check = english_leaks if lang == "en" else untranslated
    visited = {}
    page.goto("/")
    page.wait_for_selector("#for-you .card")
    page.wait_for_load_state("networkidle")
    visited["home"] = check(page)
    page.goto("/search?q=" + query)
    wait_results(page)
    page.screenshot(path=str(shots / f"lang-search-{lang}.png"), full_page=True)
    visited["search"] = check(page)
    first = page.get_attribute("#results .card", "data-item")
    page.goto(f"/item/{first}")
    page.wait_for_selector("#product .attrs")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(shots / f"lang-product-{lang}.png"), full_page=True)
    visited["product"] = check(page)
    if lang == "en":  # attribute names read as words, not raw keys
        headers = page.eval_on_selector_all("#product .attrs th", "ths => ths.map(t => t.textContent)")
        assert headers and not any("_" in h for h in headers), headers
    page.goto(f"/search?q={query}&price_max=1")
    page.wait_for_selector("#rescue #alternatives li")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(shots / f"lang-zero-{lang}.png"), full_page=True)
    visited["zero"] = check(page)
    page.goto("/no-such-page")
    page.wait_for_selector("#not-found")
    visited["404"] = check(page)
    assert not any(visited.values()), visited


def test_search_as_you_type_with_highlights_and_keys(page, live_shop, shots) -> None:
    set_lang(page, "en")
    page.goto("/")
    page.wait_for_selector("#for-you .card")
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/v1/search" in r.url else None)
    page.click("#q")
    page.keyboard.type("air condi", delay=30)  # debounced: not one request per key
    page.wait_for_selector("#suggest li.product")
    assert len([u for u in requests if "k=4" in u]) <= 3
    titles = page.eval_on_selector_all("#suggest li.product .sg-title", "els => els.map(e => e.innerHTML)")
    # the typed words are highlighted wherever a title writes them (a Chinese title reached
    # through the reading "air condi" → 空调 has no typed word to mark)
    written = [t for t in titles if "air" in t.lower() or "condi" in t.lower()]
    assert written and all("<mark>" in t for t in written), titles
    kinds = page.eval_on_selector_all("#suggest li.term small", "els => els.map(e => e.textContent)")
    assert kinds and not any(k in ("word", "query", "catalog") for k in kinds)  # kinds in words
    assert page.locator("#suggest li.product img").count() > 0
    assert page.locator("#suggest li.product .price").count() > 0
    page.screenshot(path=str(shots / "instant-en.png"))
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert page.get_attribute("#q", "aria-activedescendant") == "sg-1"
    page.keyboard.press("Enter")  # the second row: a product
    page.wait_for_selector("#product")
    assert urlparse(page.url).path.startswith("/item/")
    page.go_back()  # the URL kept the state: back returns to the home page
    page.wait_for_selector("#for-you .card")
    assert urlparse(page.url).path == "/"


def test_instant_requests_are_cancelled_when_typing_on(page, live_shop) -> None:
    page.goto("/")
    page.wait_for_selector("#for-you .card")
    page.evaluate("""() => { window.__aborted = 0; const orig = window.fetch;
        window.fetch = (url, opts) => { const p = orig(url, opts);
          if (opts && opts.signal) opts.signal.addEventListener('abort', () => window.__aborted++);
          return p; }; }""")
    page.click("#q")
    page.route("**/v1/search?*k=4*", lambda route: (page.wait_for_timeout(400), route.continue_()))
    page.keyboard.type("手机")
    page.wait_for_timeout(250)
    page.keyboard.type(" 华为")
    page.wait_for_selector("#suggest li.product")
    assert page.evaluate("window.__aborted") >= 1  # the older request was aborted
    page.unroute("**/v1/search?*k=4*")


def test_multi_select_facets_and_price_slider(page, live_shop, shots) -> None:
    set_lang(page, "en")
    page.goto("/search?q=air conditioner")
    wait_results(page)
    links = page.locator("#facet-brand a")
    assert links.count() >= 2
    first_values = links.nth(0).get_attribute("data-values").split("|")
    second_values = links.nth(1).get_attribute("data-values").split("|")
    links.nth(0).click()
    page.wait_for_selector("#facet-brand a.active")
    links = page.locator("#facet-brand a:not(.active)")
    links.first.click()
    page.wait_for_function("document.querySelectorAll('#facet-brand a.active').length === 2")
    wait_results(page)
    chosen = parse_qs(urlparse(page.url).query)["brand"]
    assert set(first_values) <= set(chosen) and len(chosen) >= 2
    page.screenshot(path=str(shots / "facets-multi-en.png"), full_page=True)
    # the slider: drag the upper handle down, the URL gets price_max and results obey it
    handle = page.locator("#price-hi")
    low, high = float(handle.get_attribute("min")), float(handle.get_attribute("max"))
    target = low + (high - low) * 0.5
    handle.evaluate("(el, v) => { el.value = v; el.dispatchEvent(new Event('input')); el.dispatchEvent(new Event('change')); }", target)
    page.wait_for_function("new URLSearchParams(location.search).has('price_max')")
    wait_results(page)
    limit = float(parse_qs(urlparse(page.url).query)["price_max"][0])
    prices = [float(re.sub(r"[^\d.]", "", p)) for p in page.eval_on_selector_all(
        "#results .price", "els => els.map(e => e.textContent)")]
    assert all(p <= limit for p in prices)
    assert page.locator("#facet-price .histogram .bar").count() >= 1  # the distribution
    assert second_values  # a second brand existed to pick
    page.screenshot(path=str(shots / "facets-price-en.png"), full_page=True)


def test_long_facets_fold_and_can_be_searched(page, live_shop, shots) -> None:
    for query in ("空调", "手机", "运动鞋", "零食", "shoes", "coffee"):
        page.goto("/search?q=" + query)
        wait_results(page)
        if page.locator("#facet-brand li.extra").count():
            break
    brand = page.locator("#facet-brand")
    extra = brand.locator("li.extra")
    assert extra.count() > 0 and not extra.first.is_visible()  # folded behind "show more"
    brand.locator("button.more").click()
    assert extra.first.is_visible()
    find = brand.locator(".facet-find")
    if find.count():
        name = extra.first.locator("a").inner_text()
        find.fill(name[:3])
        visible = brand.locator("li:visible a").all_inner_texts()
        assert visible and all(name[:3].lower() in v.lower() for v in visible)
    page.screenshot(path=str(shots / "facets-long-zh.png"), full_page=True)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_phone_filter_sheet_shows_n_results(browser, live_shop, shots, lang) -> None:
    context = browser.new_context(viewport=PHONE, base_url=live_shop.url, is_mobile=True,
                                  locale="zh-CN" if lang == "zh" else "en-US")
    page = context.new_page()
    set_lang(page, lang)
    page.goto("/search?q=" + ("手机" if lang == "zh" else "phone"))
    wait_results(page)
    assert not page.locator("aside.facets").is_visible()  # no inline filters above results
    total = int(re.sub(r"\D", "", page.inner_text("#total")))
    page.click("#filters-open")
    page.wait_for_selector("#filter-sheet[open] #sheet-apply:not([disabled])")
    page.screenshot(path=str(shots / f"phone-sheet-{lang}.png"))
    before_url = page.url
    page.locator("#filter-sheet #facet-brand a").first.click()  # staged, not applied
    page.wait_for_function("t => !document.getElementById('sheet-apply').disabled && "
                           "!document.getElementById('sheet-apply').textContent.includes(String(t))",
                           arg=total)
    assert page.url == before_url
    label = page.inner_text("#sheet-apply")
    staged = int(re.sub(r"\D", "", label))
    assert 0 < staged < total
    page.click("#sheet-apply")
    page.wait_for_function("new URLSearchParams(location.search).has('brand')")
    wait_results(page)
    assert int(re.sub(r"\D", "", page.inner_text("#total"))) == staged
    page.screenshot(path=str(shots / f"phone-after-sheet-{lang}.png"), full_page=True)
    context.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_dead_ends(page, live_shop, shots, lang) -> None:
    set_lang(page, lang)
    # zero results: each condition the shopper could let go of, with its count, and popular
    # items of the nearest category
    query = "空调" if lang == "zh" else "air conditioner"
    page.goto(f"/search?q={query}&attr.colour=purple&price_max=1")
    page.wait_for_selector("#rescue #alternatives li")
    page.wait_for_selector("#rescue #popular-near .card")
    counts = page.eval_on_selector_all("#alternatives .count", "els => els.map(e => e.textContent)")
    assert counts and all(int(re.sub(r"\D", "", c)) > 0 for c in counts)
    popular = page.eval_on_selector_all("#popular-near .card", "cards => cards.map(c => c.dataset.item)")
    assert any(live_shop.shop.products[i].category == "家电 > 空调" for i in popular)
    page.screenshot(path=str(shots / f"zero-results-{lang}.png"), full_page=True)
    page.locator("#alternatives a").first.click()  # one click away from results
    page.wait_for_selector("#results .card")
    page.goto("/search?q=qqqqqqqqqqqq")
    page.wait_for_selector("#rescue #popular-near .card")
    page.screenshot(path=str(shots / f"zero-results-nonsense-{lang}.png"), full_page=True)
    # a page past the last one becomes the last page
    page.goto("/search?q=" + ("空调" if lang == "zh" else "air conditioner") + "&page=50")
    page.wait_for_selector("#results .card")
    current = int(page.inner_text("#pager .current")) if page.locator("#pager .current").count() else 1
    assert parse_qs(urlparse(page.url).query).get("page", ["1"]) == [str(current)]
    assert current < 50
    # unknown pages and products: the store's 404 page with a way back
    for path in ("/nonexistent-page", "/item/NO-SUCH-ITEM"):
        response = page.goto(path)
        assert response.status == 404
        page.wait_for_selector("#not-found a.pill")
    page.screenshot(path=str(shots / f"not-found-{lang}.png"), full_page=True)
    api = httpx.get(live_shop.url + "/v1/nope", timeout=30)
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"


def test_bought_durables_do_not_fill_for_you(page, live_shop, shots) -> None:
    page.goto("/search?q=空调")
    wait_results(page)
    ids = page.eval_on_selector_all("#results .card", "cards => cards.map(c => c.dataset.item)")[:2]
    for item in ids:  # buy two air conditioners through the storefront
        page.goto(f"/item/{item}")
        page.wait_for_selector("#add-to-cart")
        page.click("#add-to-cart")
    page.goto("/cart")
    page.click("#place-order")
    page.wait_for_selector("#order-done")
    page.goto("/")
    page.reload()
    page.wait_for_selector("#for-you .card")
    page.wait_for_load_state("networkidle")
    shown = page.eval_on_selector_all("#for-you .card", "cards => cards.map(c => c.dataset.item)")[:6]
    categories = [live_shop.shop.products[i].category for i in shown]
    page.screenshot(path=str(shots / "for-you-after-durables.png"), full_page=True)
    assert sum(c == "家电 > 空调" for c in categories) <= 1, categories
