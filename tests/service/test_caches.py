"""Serving caches never hide a change: the shopper's own event, a catalogue edit or a model
swap reaches the next answer; identical requests in between reuse the work."""

from __future__ import annotations

import time
from collections import Counter

import numpy as np

from shopsense.domain import Event
from shopsense.pipeline import surfaces
from shopsense.rank.rules import Rules
from shopsense.store.feed import recent_actors
from shopsense.store.sqlite import SqliteStore
from shopsense.training.lifecycle import warm_shoppers


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


def test_a_query_stage_computed_across_a_catalogue_edit_is_not_kept(demo_shop) -> None:
    """A search that read the index before a product landed must not cache its (now stale)
    stage after the edit cleared the cache: the next search would miss the product until the
    stage expired (a replica following another's edits polls while searches run)."""
    shop = demo_shop
    engine = shop.models.search
    query = "stage race probe 空调"
    original = engine.retrieved
    edited = False

    def retrieve_then_edit(*args, **kwargs):  # the edit lands while the stage is computed
        nonlocal edited
        found = original(*args, **kwargs)
        if not edited:
            edited = True
            shop.upsert_items([{"item_id": "stage-race-1", "title": "stage race probe 空调",
                                "category": "家电 > 空调", "brand": "格力", "price": 2999}])
        return found

    engine.retrieved = retrieve_then_edit
    try:
        first = surfaces.search(shop, query, k=10)
        assert "stage-race-1" not in _ids(first)  # computed from the index before the edit
        assert "stage-race-1" in _ids(surfaces.search(shop, query, k=10))
    finally:
        del engine.retrieved
        shop.delete_items(["stage-race-1"])
    assert "stage-race-1" not in _ids(surfaces.search(shop, query, k=10))


def test_a_shoppers_event_replaces_their_cached_recommendations(demo_shop) -> None:
    shop = demo_shop
    user = f"cache-user-{time.time_ns()}"
    first = surfaces.recommend(shop, user=user, session=None, k=10)
    hits = shop.answers.stats()["hits"]
    again = surfaces.recommend(shop, user=user, session=None, k=10)
    assert again["request_id"] != first["request_id"]  # every answer has its own id
    assert {**again, "request_id": ""} == {**first, "request_id": ""}  # the list is reused
    # the storefront's page of 12 is the same answer, deeper (computed serve.answer_depth deep)
    page = surfaces.recommend(shop, user=user, session=None, k=12)
    assert shop.answers.stats()["hits"] == hits + 2 and _ids(page)[:10] == _ids(first)
    item = next(iter(shop.products))
    shop.record_events([{"user_id": user, "item_id": item, "event_type": "view",
                         "platform": "web", "timestamp": time.time()}])
    after = surfaces.recommend(shop, user=user, session=None, k=10)
    assert shop.answers.stats()["hits"] == hits + 2  # recomputed
    assert after["surface"] == "for_you" and item not in _ids(after)
    deeper = surfaces.recommend(shop, user=user, session=None, k=40)  # beyond the depth
    assert len(deeper["results"]) == 40 and _ids(deeper)[:10] == _ids(after)


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


def test_a_page_of_recommendations_keeps_the_variety_cap_after_feedback(demo_shop) -> None:
    """Feedback and rules come before the per-category cap (in the engine), so the cap
    holds on every page of a shopper it applies to (not to one focused on a category)."""
    shop = demo_shop
    recs = shop.models.recs
    # every shopper: other tests (in any order, in any worker) add events to this shared shop
    users = sorted({e.user_id for e in shop.store.iter_events() if e.user_id})
    pages = [surfaces.recommend_actor(shop, actor, k=10) for actor in users]
    assert all(page["surface"] == "for_you" for page in pages)
    capped = 0
    for actor, page in zip(users, pages, strict=True):
        cap = recs.variety_cap(recs.histories.get(actor, []))
        counts = Counter(r["category"] for r in page["results"])
        if cap is not None:
            capped += 1
            assert max(counts.values()) <= cap, counts
    assert capped > 0


def test_recent_actors_are_newest_first_and_distinct(tmp_path) -> None:
    store = SqliteStore(tmp_path / "shop.db")
    try:
        store.add_events([Event(event_id=f"e{n}", user_id=u, session_id=s, item_id="i",
                                event_type="view", timestamp=1000.0 + n)
                          for n, (u, s) in enumerate([("a", None), ("b", None), ("a", None),
                                                      (None, "s1"), ("c", None)])])
        assert recent_actors(store, 3) == ["c", "s1", "a"]
        assert recent_actors(store, 10, page=2) == ["c", "s1", "a", "b"]
        assert recent_actors(store, 10, scan=2) == ["c", "s1"]
    finally:
        store.close()


def test_warming_caches_the_recently_active_shoppers_default_lists(demo_shop) -> None:
    shop = demo_shop
    serve = shop.settings.serve
    before = serve.warm_shoppers
    serve.warm_shoppers = 5
    try:
        shop.invalidate_all()
        assert warm_shoppers(shop, shop.models) == 5
        assert shop.models.info["warmed_shoppers"] == {"done": 5, "of": 5}
        hits = shop.answers.stats()["hits"]
        for actor in recent_actors(shop.store, 5):  # as /v1/recommend asks, k 10 and 12
            surfaces.recommend_actor(shop, actor, k=10, rules=Rules(exclude=[], categories=[]))
            surfaces.recommend_actor(shop, actor, k=12, rules=Rules(exclude=[], categories=[]))
        assert shop.answers.stats()["hits"] == hits + 10
    finally:
        serve.warm_shoppers = before


def test_a_profile_rebuilt_from_held_events_equals_one_read_from_the_store(demo_shop) -> None:
    shop = demo_shop
    user = f"held-{time.time_ns()}"
    actor = shop.actor(user)
    items = sorted(shop.products)[:4]
    now = time.time()

    def event(item: str, kind: str, at: float) -> dict:
        return {"user_id": user, "item_id": item, "event_type": kind, "platform": "web",
                "timestamp": at}

    shop.record_events([event(items[0], "view", now - 60), event(items[1], "click", now - 50)])
    assert shop.profile_of(actor).n_events == 2  # read from the store, events now held
    shop.record_events([event(items[2], "purchase", now - 40), event(items[3], "dismiss", now)])
    repeat = shop.record_events([event(items[3], "dismiss", now)])  # the same row again
    assert repeat == {"accepted": 0, "duplicates": 1}
    held = shop.profile_of(actor)  # rebuilt from the held events: no read
    shop.drop_profiles()
    fresh = shop.profile_of(actor)  # read back from the store
    assert (held.n_events, held.recent_items, held.dismissed, held.purchased) == (
        fresh.n_events, fresh.recent_items, fresh.dismissed, fresh.purchased)
    assert held.n_events == 4 and items[3] in held.dismissed and items[2] in held.purchased
    assert held.category_affinity.keys() == fresh.category_affinity.keys()
    for category, share in held.category_affinity.items():
        assert abs(share - fresh.category_affinity[category]) < 1e-6
    shop.forget(user, actor="test")  # erasure drops the held events with the profiles
    assert actor not in shop._events_of


def test_query_vectors_encoded_ahead_are_the_ones_a_search_would_compute(demo_shop,  # type: ignore[no-untyped-def]
                                                                          monkeypatch) -> None:
    """After the stages and shoppers, warming encodes more searched queries' vectors in
    batches; a search then takes them from the cache, and they equal one-at-a-time ones."""
    engine = demo_shop.models.search
    retriever = engine.retriever
    queries = ["便宜的耳机 带麦", "waterproof hiking boots 42", "格力 空调 1.5匹 冷暖", "防晒霜 spf50"]
    saved, before = engine.top_queries_, dict(retriever._query_vectors)
    try:
        for q in queries:
            retriever._query_vectors.pop(q, None)
        engine.top_queries_ = queries
        assert engine.warm_vectors(10, batch=3) == 4
        assert engine.warmed_vectors_ == {"done": 4, "of": 4}
        ahead = {q: retriever._query_vectors[q].copy() for q in queries}
        for q in queries:
            alone = retriever.encoder.encode_query(q)
            assert np.allclose(ahead[q], alone, atol=1e-5), q
        calls: list[str] = []
        encode = retriever.encoder.encode_query
        monkeypatch.setattr(retriever.encoder, "encode_query",
                            lambda text: calls.append(text) or encode(text))
        retriever.candidates(queries[0])
        retriever.candidates("a query nobody searched before 42")
        assert calls == ["a query nobody searched before 42"]  # the others were ready
        assert engine.warm_vectors(10, stop=lambda: True) == 0  # a newer model took over
    finally:
        engine.top_queries_ = saved
        retriever._query_vectors.clear()
        retriever._query_vectors.update(before)


def test_readyz_says_warming_is_done_once_the_warmed_caches_are_settled(demo_shop) -> None:  # type: ignore[no-untyped-def]
    """`warming` on /readyz is `running` while the warm thread works and `done` once it has
    finished, the settling collection included (a load test starts after it: loadgen.warmed)."""
    from fastapi.testclient import TestClient

    from shopsense.api.app import create_app
    from shopsense.training.adopt import warm_caches

    search, serve = demo_shop.settings.search, demo_shop.settings.serve
    saved = (search.warm_queries, serve.warm_shoppers, search.query_vectors)
    search.warm_queries, serve.warm_shoppers, search.query_vectors = 3, 2, 4
    try:
        demo_shop.models.info.pop("warming", None)
        client = TestClient(create_app(demo_shop.settings, demo_shop))
        assert client.get("/readyz").json()["warming"] == "running"
        thread = warm_caches(demo_shop)
        assert thread is not None
        thread.join(120)
        assert client.get("/readyz").json()["warming"] == "done"
    finally:
        search.warm_queries, serve.warm_shoppers, search.query_vectors = saved
