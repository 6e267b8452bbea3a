"""Accessibility pass with axe-core (vendored for the tests only, tests/web/vendor): every
storefront page and the dashboard, in both languages, at desktop and phone widths, with zero
serious or critical violations; the dashboard passes the language check too. Screenshots go
to the CI artifact folder."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from tests.web.test_storefront_features_browser import english_leaks, set_lang, untranslated

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
PAGES = [("home", "/", "#for-you .card"), ("search", "/search?q=空调", "#results .card"),
         ("zero", "/search?q=空调&price_max=1", "#rescue"),
         ("product", None, "#product .attrs"), ("cart", "/cart", "#app h1"),
         ("404", "/no-such-page", "#not-found")]


def serious_violations(page) -> list[str]:
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.filter(v => ['serious', 'critical'].includes(v.impact))
          .map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '));
    }""")
    return list(result)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("width,height", [(1280, 900), (390, 844)])
def test_storefront_has_no_serious_axe_violations(browser, live_shop, shots, lang, width,
                                                  height) -> None:
    context = browser.new_context(viewport={"width": width, "height": height},
                                  base_url=live_shop.url)
    page = context.new_page()
    set_lang(page, lang)
    first = sorted(live_shop.shop.products)[0]
    found = {}
    for name, path, ready in PAGES:
        page.goto(path or f"/item/{first}")
        page.wait_for_selector(ready)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(shots / f"a11y-{name}-{lang}-{width}.png"), full_page=True)
        found[name] = serious_violations(page)
    context.close()
    assert not any(found.values()), json.dumps(found, ensure_ascii=False, indent=1)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_dashboard_is_accessible_and_in_one_language(page, live_shop, shots, lang) -> None:
    set_lang(page, lang)
    page.add_init_script(f"sessionStorage.setItem('ss.adminKey', {json.dumps(live_shop.admin_key)})")
    page.goto("/admin")
    page.wait_for_selector("#privacy-box", timeout=180_000)
    page.wait_for_selector("#chart-funnel_daily .echart svg")
    page.screenshot(path=str(shots / f"dashboard-{lang}.png"), full_page=True)
    leaks = english_leaks(page) if lang == "en" else untranslated(page)
    assert not [x for x in leaks if not re.fullmatch(r"[\w\s.]*", x) or lang == "en"], leaks
    assert not serious_violations(page)
    ready = {"eval": "#panel-eval > *", "models": "#model-versions", "privacy": "#ledger",
             "merch": "#merch-history"}
    for tab, selector in ready.items():
        page.click(f"#tab-{tab}")
        page.wait_for_selector(selector)
        leaks = english_leaks(page) if lang == "en" else untranslated(page)
        assert not leaks, (tab, leaks)
        assert not serious_violations(page), tab
