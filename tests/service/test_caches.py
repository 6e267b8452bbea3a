"""Serving caches never hide a change: the shopper's own event, a catalogue edit or a model
swap reaches the next answer; identical requests in between reuse the work."""

from __future__ import annotations

import time

from shopsense.pipeline import surfaces


def _ids(answer: dict) -> list[str]:
    return [r["item_id"] for r in answer["results"]]


def test_search_reuses_the_query_stage_and_a_catalogue_edit_clears_it(demo_shop) -> None:
    shop = demo_shop
    engine = shop.models.search
    query = "cache probe 格力 空调"
    first = surfaces.search(shop, query, k=10)
    hits = engine.stages_.hits
    again = surfaces.search(shop, query, k=10)
    assert engine.stages_.hits == hits + 1
    assert _ids(again) == _ids(first)
    product = {"item_id": "cache-probe-1", "title": "cache probe 格力 空调 cache probe",
               "category": first["results"][0]["category"], "brand": "格力", "price": 1999}
    shop.upsert_items([product])
    try:
        assert "cache-probe-1" in _ids(surfaces.search(shop, query, k=10))
    finally:
        shop.delete_items(["cache-probe-1"])
    assert "cache-probe-1" not in _ids(surfaces.search(shop, query, k=10))


def test_a_shoppers_event_replaces_their_cached_recommendations(demo_shop) -> None:
    shop = demo_shop
    user = f"cache-user-{time.time_ns()}"
    first = surfaces.recommend(shop, user=user, session=None, k=10)
    assert surfaces.recommend(shop, user=user, session=None, k=10) is first  # reused
    item = next(iter(shop.products))
    shop.record_events([{"user_id": user, "item_id": item, "event_type": "view",
                         "platform": "web", "timestamp": time.time()}])
    after = surfaces.recommend(shop, user=user, session=None, k=10)
    assert after is not first
    assert after["surface"] == "for_you" and item not in _ids(after)


def test_an_answer_computed_across_a_change_is_not_kept(demo_shop) -> None:
    shop = demo_shop
    actor = shop.actor(f"race-{time.time_ns()}")
    since = shop.stamp()
    assert shop.still_fresh(actor, since)
    shop.invalidate([actor])  # the shopper's event lands while the answer is computed
    assert not shop.still_fresh(actor, since)
    assert shop.still_fresh(shop.actor("someone-else"), since)
    later = shop.stamp()
    shop.swap_models(shop.models)  # a model swap makes every earlier computation stale
    assert not shop.still_fresh(shop.actor("someone-else"), later)
    assert len(shop.answers) == 0
