"""The model console in a real browser: two recommendation versions really trained on the live
shop's store, listed with their training figures in both languages at desktop and phone width
(no sideways scrolling, no untranslated strings); one click promotes the older version (the
server then serves it) and one rolls back to the version that served before, which pins it (a
notice with an Unpin button)."""

from __future__ import annotations

import json

import pytest
from tests.web.test_storefront_features_browser import english_leaks, set_lang, untranslated

from shopsense.training.pin import pinned

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def live_shop(tmp_path_factory):  # type: ignore[no-untyped-def]
    """A private shop: promoting and rolling back change what serves (search index included),
    which the session's shared shop must not see."""
    from tests.web.conftest import serve_live_shop

    with serve_live_shop(tmp_path_factory.mktemp("console-home")) as shop:
        yield shop


@pytest.fixture(scope="module")
def versions(live_shop):
    from shopsense.training.cards import write_card
    from shopsense.training.recs import train_from_store

    made = []
    for _ in range(2):
        summary = train_from_store(live_shop.shop.settings, max_minutes=0.05)
        made.append(summary["version"])
        write_card(live_shop.home, {"version": summary["version"], "seconds":
                                    summary.get("trained_seconds"), "recs": summary})
    original = live_shop.shop.models
    yield made
    live_shop.shop.swap_models(original)  # the other browser tests keep the quick models


def _open(page, live_shop, lang: str, size: str) -> None:
    page.set_viewport_size(SIZES[size])
    set_lang(page, lang)
    page.add_init_script(f"sessionStorage.setItem('ss.adminKey', {json.dumps(live_shop.admin_key)});"
                         "sessionStorage.setItem('ss.adminTab', 'models')")
    page.goto("/admin")
    page.wait_for_selector("#model-versions tr[data-version]")


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_versions_listed_in_both_languages(page, live_shop, shots, versions, lang, size) -> None:
    _open(page, live_shop, lang, size)
    rows = page.locator("#model-versions tr[data-version]")
    assert {rows.nth(i).get_attribute("data-version") for i in range(rows.count())} >= \
        set(versions)
    assert "fusion" in page.locator("#model-versions").inner_text().lower() or \
        "融合" in page.locator("#model-versions").inner_text()
    leaks = english_leaks(page) if lang == "en" else untranslated(page)
    assert not leaks, leaks
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= SIZES[size]["width"] + 1, f"the Models tab scrolls sideways ({width}px)"
    page.locator("#model-versions").screenshot(path=str(shots / f"models-{lang}-{size}.png"))


def test_promote_the_older_then_roll_back(page, live_shop, shots, versions) -> None:
    older, newer = versions
    _open(page, live_shop, "zh", "desktop")
    assert page.locator("#rollback-models").count() == 0  # the quick models: nothing before
    page.click(f"#model-versions button.v-promote[data-version='{newer}']")
    page.wait_for_selector(f"#model-versions tr.v-serving[data-version='{newer}']",
                           timeout=180_000)
    page.click(f"#model-versions button.v-promote[data-version='{older}']")
    page.wait_for_selector(f"#model-versions tr.v-serving[data-version='{older}']",
                           timeout=180_000)
    assert live_shop.shop.models.version == older
    row = page.locator(f"#model-versions tr[data-version='{older}']").inner_text()
    assert "上线" in row and "key:" in row  # who put it into service, and when
    page.screenshot(path=str(shots / "models-promoted-zh.png"), full_page=True)
    page.click("#rollback-models")
    page.wait_for_selector(f"#model-versions tr.v-serving[data-version='{newer}']",
                           timeout=180_000)
    assert live_shop.shop.models.version == newer
    # the roll back pins: a notice says so, in Chinese, and one click lifts it
    notice = page.locator("#models-pinned")
    notice.wait_for()
    assert newer in notice.inner_text() and "已锁定" in notice.inner_text()
    assert not untranslated(page), untranslated(page)
    page.locator("#model-versions").screenshot(path=str(shots / "models-pinned-zh.png"))
    page.click("#unpin-models")
    page.wait_for_selector("#models-pinned", state="detached")
    assert pinned(live_shop.home) is None
