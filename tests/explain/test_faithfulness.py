"""Explanations are faithful: what a reason cites contributed, and removing it costs rank."""

from __future__ import annotations

import pytest

from shopsense.pipeline import surfaces


def _rank(results: list[dict], item_id: str) -> int:
    ids = [r["item_id"] for r in results]
    return ids.index(item_id) if item_id in ids else len(ids) + 1


def test_because_you_viewed_is_counterfactual(demo_shop) -> None:
    shop = demo_shop
    by_cat: dict[str, str] = {}
    for p in shop.products.values():
        by_cat.setdefault(p.category, p.item_id)
    cats = sorted(by_cat)
    checked = 0
    for a_cat, b_cat in zip(cats[::2], cats[1::2], strict=False):
        a, b = by_cat[a_cat], by_cat[b_cat]
        both = f"faith-both-{a}-{b}"
        only_b = f"faith-b-{a}-{b}"
        shop.record_events([{"session_id": both, "item_id": a, "event_type": "view",
                             "timestamp": 1.79e9},
                            {"session_id": both, "item_id": b, "event_type": "view",
                             "timestamp": 1.79e9 + 5},
                            {"session_id": only_b, "item_id": b, "event_type": "view",
                             "timestamp": 1.79e9 + 5}])
        with_a = surfaces.recommend(shop, user=None, session=both, k=20)["results"]
        cited = [r for r in with_a
                 if any(x["evidence"].get("because_item") == a for x in r["reasons"])]
        if not cited:
            continue
        target = cited[0]["item_id"]
        without_a = surfaces.recommend(shop, user=None, session=only_b, k=20)["results"]
        assert _rank(without_a, target) > _rank(with_a, target), (a, target)
        checked += 1
        if checked >= 3:
            break
    assert checked >= 1


def test_reasons_cite_only_contributing_signals(demo_shop) -> None:
    results = surfaces.search(demo_shop, "防水 登山鞋", k=10)["results"]
    results += surfaces.recommend(demo_shop, user=None, session="faith-any", k=10)["results"]
    assert results
    for r in results:
        for reason in r["reasons"]:
            assert reason["contribution"] != 0
            signal = reason["signal"]
            if signal.endswith(".score"):  # a recommendation source: it must have ranked it
                assert f"{signal[:-6]}.rank" in r["signals"], (signal, r["signals"])
            else:
                assert r["signals"].get(signal, 0.0) != 0 or signal == "rule", (signal, r)


def test_removing_a_matched_term_lowers_the_item(demo_shop) -> None:
    full = surfaces.search(demo_shop, "华为 手机 256GB", k=20, understand=False)["results"]
    top = full[0]
    terms = next(x["evidence"]["terms"] for x in top["reasons"] if x["code"] == "matched_terms")
    assert terms
    reduced = surfaces.search(demo_shop, "手机", k=20, understand=False)["results"]
    assert _rank(reduced, top["item_id"]) >= _rank(full, top["item_id"])
    scores = {r["item_id"]: r["signals"].get("bm25f", 0) for r in reduced}
    assert scores.get(top["item_id"], 0) < top["signals"]["bm25f"]


@pytest.mark.parametrize("query", ["手机 支架", "laptop bag", "空调 遥控器", "phone stand"])
def test_an_alternative_never_claims_the_category_asked_for(demo_shop, query: str) -> None:
    """The shop sells no phone stands: phones shown as alternatives are in the category of a
    word searched, not "in the category you asked for"."""
    page = surfaces.search(demo_shop, query, k=10)
    assert page["no_exact_match"] is not None, query
    texts = [(reason["text_en"], reason["text_zh"]) for r in page["results"]
             for reason in r["reasons"]]
    assert texts, query
    assert not [t for t in texts if "you asked for" in t[0] or "您要的类目" in t[1]], texts
    category = [t for t in texts if "category of a word you searched" in t[0]]
    assert all("您搜索词中的类目" in zh for _, zh in category)
    exact = surfaces.search(demo_shop, "手机", k=5)["results"]  # sold: no alternatives
    assert exact and not any("搜索词中的类目" in reason["text_zh"] for r in exact
                             for reason in r["reasons"])
    engine = demo_shop.models.search
    assert all(r.evidence.get("alternative") for r in engine.search(query, k=5).results)
    assert not any(r.evidence.get("alternative") for r in engine.search("手机", k=5).results)


def test_the_category_reason_of_an_alternative_says_what_is_true() -> None:
    from shopsense.domain import Product, Result
    from shopsense.explain.reasons import reasons_for

    phone = Product("p1", "小米 14 手机", category="手机数码 > 手机")
    signals = {"intent.category": 0.5}
    asked = reasons_for(Result("p1", 1.0, phone, signals), {"p1": phone})
    other = reasons_for(Result("p1", 1.0, phone, signals, evidence={"alternative": True}),
                        {"p1": phone})
    assert [r.text_zh for r in asked] == ["符合您要的类目（手机数码 > 手机）"]
    assert [r.text_zh for r in other] == ["属于您搜索词中的类目（手机数码 > 手机）"]
    assert "you asked for" not in other[0].text_en
