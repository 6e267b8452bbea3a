"""The ranker `shopsense train` serves: learned from the shop's own log, position-debiased,
kept only when it beats the blend on held-out logged queries."""

from __future__ import annotations

import numpy as np

from shopsense.domain import Event
from shopsense.pipeline.search import SearchEngine, serving_ranker
from shopsense.rank.ltr import QueryBlend
from shopsense.training.search import _debiased, logged_gains, train_search_ranker


def _e(i: int, kind: str, item: str | None, query: str | None, session: str = "s1") -> Event:
    return Event(f"e{i}", kind, 1000.0 + i, session_id=session, item_id=item, query=query)


def test_logged_gains_follow_clicks_into_carts_and_purchases() -> None:
    events = [_e(1, "search", None, "空调"), _e(2, "click", "a", "空调"),
              _e(3, "cart", "a", None), _e(4, "purchase", "a", None),
              _e(5, "click", "b", "空调"), _e(6, "cart", "c", None),  # c never clicked: no gain
              _e(7, "click", "a", "空调", session="s2")]
    gains = logged_gains(events)
    assert gains == {"空调": {"a": 3.0 + 1.0, "b": 1.0}}


def test_position_debiasing_weighs_clicks_low_on_the_page_more() -> None:
    ids = ["top", "mid", "low"]
    order = np.array([0, 1, 2])  # served in this order
    labels = _debiased(ids, order, {"top": 1.0, "low": 1.0}, eta=1.0, max_weight=10.0)
    assert labels[2] > labels[0] > 0 and labels[1] == 0
    capped = _debiased(ids, order, {"low": 1.0}, eta=1.0, max_weight=2.0)
    assert capped[2] == np.log1p(2.0)


def test_trained_ranker_serves_only_when_it_beats_the_blend(demo_shop) -> None:  # type: ignore[no-untyped-def]
    engine = SearchEngine.build(demo_shop.products.values())
    engine.understander = demo_shop.models.understander
    report = train_search_ranker(engine, demo_shop.store.iter_events(), min_queries=10)
    assert report["queries_used"] >= 10
    figures = report["held_out_ndcg10"]
    assert {"model", "blend", "bm25f"} <= set(figures)
    if report["serving"] == "lambdamart":
        assert figures["model"] >= figures["blend"]
        answer = engine.search("空调", k=3)
        assert answer.ranker == "lambdamart"
        for r in answer.results:  # path contributions sum to the model's score
            parts = r.evidence["contributions"]
            assert abs(sum(parts.values()) + r.evidence["unexplained"] - r.score) < 1e-4
            assert abs(r.evidence["unexplained"]) < 1e-3 and "base" in parts
    else:
        assert figures["model"] <= max(figures["blend"], figures["bm25f"])
        assert engine.search("空调", k=3).ranker in ("blend", "bm25f")


def test_too_little_log_keeps_the_blend() -> None:
    from shopsense.domain import Product

    engine = SearchEngine.build([Product("a", "空调"), Product("b", "冰箱")])
    report = train_search_ranker(engine, [_e(1, "click", "a", "空调")])
    assert report["serving"] == "blend" and "reason" in report
    assert serving_ranker(engine.ranker) == "blend" and isinstance(engine.ranker, QueryBlend)
