"""The dashboard's Experiments tab against the real server, in Chinese and English: running
and stopped experiments with their per-arm table, verdict and two drawn ECharts plots; the
form starts one, the Stop button stops it (the shop's configuration serves again)."""

from __future__ import annotations

import json

import httpx
import pytest

from shopsense.evaluation.simulate import load_tastes, simulate_experiment
from shopsense.pipeline import experiments

pytestmark = pytest.mark.browser

VARIANT = {"ranker": "fusion", "sources": ["covisit", "popular"]}


def _create(live_shop, kind: str) -> str:
    body = {"name": f"browser {kind}", "kind": kind, "surface": "for_you",
            "arms": [{"name": "learned", "overlay": {}}, {"name": "variant", "overlay": VARIANT}]}
    answer = httpx.post(live_shop.url + "/v1/admin/experiments", json=body, timeout=60,
                        headers={"X-API-Key": live_shop.admin_key})
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


@pytest.fixture
def traffic(live_shop):
    """A stopped A/B test and a running interleaving, each with simulated traffic; every
    experiment is stopped afterwards (the live shop is shared by the browser tests)."""
    shop = live_shop.shop
    tastes = load_tastes(live_shop.home / "demo" / "shoppers_truth.jsonl")
    ab = _create(live_shop, "ab")
    simulate_experiment(shop, tastes, ab, sessions=150, k=8, seed=1)
    experiments.stop(shop, ab)
    interleaving = _create(live_shop, "interleaving")
    simulate_experiment(shop, tastes, interleaving, sessions=150, k=8, seed=2)
    yield ab, interleaving
    for record in experiments.registry_of(shop).repo.list("running"):
        experiments.stop(shop, record.id)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_experiments_tab_shows_reports_and_plots(page, live_shop, traffic, shots,
                                                 lang) -> None:
    ab, interleaving = traffic
    page.add_init_script(f"localStorage.setItem('ss.lang', JSON.stringify('{lang}'));"
                         f"sessionStorage.setItem('ss.adminKey', {json.dumps(live_shop.admin_key)});"
                         "sessionStorage.setItem('ss.adminTab', 'experiments')")
    page.goto("/admin")
    page.wait_for_selector(f"#x-{ab} .x-arms")
    page.wait_for_selector(f"#x-{interleaving} .x-arms")
    tab = page.locator("#tab-experiments").inner_text()
    assert tab == {"zh": "在线实验", "en": "Experiments"}[lang]
    card = page.locator(f"#x-{ab}")
    assert card.get_attribute("data-status") == "stopped"
    header = card.locator("h3").inner_text()
    assert ("A/B 测试" if lang == "zh" else "A/B test") in header
    rows = card.locator(".x-arms tr")
    assert rows.count() == 3  # header + two arms
    assert "learned" in rows.nth(1).inner_text() and "variant" in rows.nth(2).inner_text()
    for fig in (f"#x-p-{ab}", f"#x-mean-{ab}", f"#x-p-{interleaving}", f"#x-pref-{interleaving}"):
        page.wait_for_selector(f"{fig} .echart svg")  # drawn by ECharts
    verdict = page.locator(f"#x-{interleaving} p b").first.inner_text()
    assert verdict.startswith(("尚不显著", "显著") if lang == "zh" else ("Not significant",
                                                                    "Significant"))
    assert page.locator(f"#x-{interleaving} .x-stop").count() == 1
    assert page.locator(f"#x-{ab} .x-stop").count() == 0
    page.screenshot(path=str(shots / f"experiments-{lang}.png"), full_page=True)


def test_start_and_stop_from_the_tab(page, live_shop, traffic) -> None:
    _, interleaving = traffic
    page.add_init_script(f"sessionStorage.setItem('ss.adminKey', {json.dumps(live_shop.admin_key)});"
                         "sessionStorage.setItem('ss.adminTab', 'experiments')")
    page.goto("/admin")
    page.wait_for_selector(f"#x-{interleaving} .x-stop")
    page.click(f"#x-{interleaving} .x-stop")
    page.wait_for_selector(f"#x-{interleaving}[data-status='stopped']")
    form = page.locator("#x-new")
    form.locator("input[name=name]").fill("from the tab")
    form.locator("select[name=surface]").select_option("search")
    assert form.locator("select[name=ranker] option").count() == 2  # blend, bm25f
    form.locator("select[name=ranker]").select_option("bm25f")
    form.locator("#x-start").click()
    page.wait_for_selector(".x-card[data-status='running'] h3:has-text('from the tab')")
    running = experiments.registry_of(live_shop.shop).repo.list("running")
    assert [(r.surface, r.spec["arms"][1]["overlay"]["ranker"]) for r in running] == [
        ("search", "bm25f")]
