"""The dashboard when the server refuses a release (409): the privacy budget of the rolling
window is spent, or the chosen window holds no shopper. The page says why in the operator's
language at once (no endless wait for a release, no raw server English), and the figures of the
budget message are the real ledger's."""

from __future__ import annotations

import json
import re

import pytest
from tests.web.test_storefront_features_browser import set_lang

pytestmark = pytest.mark.browser

WORDS = {("zh", "budget_exceeded"): "隐私预算已用完", ("en", "budget_exceeded"): "privacy budget is spent",
         ("zh", "empty_window"): "没有顾客行为", ("en", "empty_window"): "No shopper acted"}


def _refuse(page, code: str) -> list[str]:
    """GET answers 'no release yet' and POST the given refusal, as the server does."""
    posted: list[str] = []

    def handle(route) -> None:
        if route.request.method == "GET":
            body = {"error": {"code": "no_release", "message": "no analytics release yet",
                              "field": None}}
            return route.fulfill(status=404, json=body)
        posted.append(route.request.post_data or "")
        field = "epsilon" if code == "budget_exceeded" else "days"
        route.fulfill(status=409, json={"error": {"code": code, "message": "refused (en)",
                                                  "field": field}})

    page.route(re.compile(r".*/v1/admin/analytics(\?.*)?$"), handle)
    return posted


@pytest.mark.parametrize("code", ["budget_exceeded", "empty_window"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_refused_release_is_explained_in_the_operators_language(page, live_shop, lang,
                                                                   code) -> None:
    set_lang(page, lang)
    page.add_init_script(f"sessionStorage.setItem('ss.adminKey', {json.dumps(live_shop.admin_key)})")
    posted = _refuse(page, code)
    page.goto("/admin")
    box = page.wait_for_selector(f"#release-refused[data-code={code}]", timeout=30_000)
    text = box.inner_text()
    assert WORDS[(lang, code)] in text, text
    assert "refused (en)" not in text and "{" not in text, text  # no raw server text, no slots
    assert page.locator("#privacy-box").count() == 0
    assert page.locator("#release .loading").count() == 0  # not still "loading"
    assert len(posted) == 1 and json.loads(posted[0])["days"] == 90
    if code == "budget_exceeded":  # the real ledger's figures: its window and budget
        import httpx

        ledger = httpx.get(live_shop.url + "/v1/admin/privacy/ledger", timeout=30,
                           headers={"X-API-Key": live_shop.admin_key}).json()
        assert f"{ledger['window_days']:g}" in text and f"{ledger['budget']:g}" in text, text
    else:
        assert "90" in text, text
    page.fill("#release-form input[name=days]", "7")  # another window: asked again, answered
    page.click("#new-release")
    page.wait_for_function("document.querySelector('#release-refused') && "
                           "!document.querySelector('#release .loading')")
    assert len(posted) == 2 and json.loads(posted[1])["days"] == 7
    if code == "empty_window":
        page.wait_for_selector("#release-refused:has-text('7')")
