"""/admin's models tab says what orders search results and shows the held-out nDCG@10 of the
trained ranker beside the blend's (from `shopsense train`'s search report), in zh and en."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

pytestmark = pytest.mark.browser

REPORT = {"logged_queries": 812, "judged_queries": 0, "queries_used": 640,
          "serving": "lambdamart", "held_out_ndcg10": {"model": 0.6123, "blend": 0.5411,
                                                       "bm25f": 0.4987}}


def _open(page, live_shop, lang: str) -> str:  # type: ignore[no-untyped-def]
    page.add_init_script(f"localStorage.setItem('ss.lang', JSON.stringify('{lang}'));"
                         f"sessionStorage.setItem('ss.adminKey', {json.dumps(live_shop.admin_key)});"
                         "sessionStorage.setItem('ss.adminTab', 'models')")
    page.goto("/admin")
    page.wait_for_selector("#search-ranker")
    return page.inner_text("#search-ranker")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_models_tab_shows_trained_and_blend_figures(page, live_shop, shots, lang) -> None:  # type: ignore[no-untyped-def]
    shop = live_shop.shop
    before = shop.models
    shop.swap_models(replace(before, info={**(before.info or {}), "search": REPORT}))
    try:
        text = _open(page, live_shop, lang)
        assert "0.6123" in text and "0.5411" in text and "0.4987" in text
        assert ("训练的模型" in text and "混合打分" in text) if lang == "zh" else \
            ("trained model" in text and "blend" in text)
        assert ("812" in text and "640" in text)
        page.screenshot(path=str(shots / f"admin-search-ranker-{lang}.png"), full_page=True)
    finally:
        shop.swap_models(before)


def test_models_tab_says_when_no_ranker_was_trained(page, live_shop) -> None:  # type: ignore[no-untyped-def]
    text = _open(page, live_shop, "en")
    assert page.get_attribute("#search-ranker", "data-serving") == "blend"
    assert "untrained blend" in text and "background training" in text
