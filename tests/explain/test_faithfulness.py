"""Explanations are faithful: what a reason cites contributed, and removing it costs rank."""

from __future__ import annotations

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
