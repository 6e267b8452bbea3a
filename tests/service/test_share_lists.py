"""A for-you list a request computed on a miss is shared with the sibling workers
(`serve.share_computed_lists`, pipeline/recompute.py in its share-only mode): after a
shopper's event, one worker computes the list and the others adopt it instead of computing it
again. Two `Shop`s on one SQLite file stand for two workers; followers are stepped by hand and
the publishing thread's work is done by `flush()`. An adopted list is exactly what the
sibling would compute; only default lists are shared; an erased shopper's never stays."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from tests.service.test_recompute import Worker, _copy_home, _shoppers, _view

from shopsense.config import ServeSettings, Settings
from shopsense.pipeline import surfaces
from shopsense.pipeline.follow import StoreFollower
from shopsense.pipeline.recompute import Recomputer, start_recomputing
from shopsense.pipeline.shop import ModelSet, Shop
from shopsense.rank.rules import Rules
from shopsense.store.shared_answers import TABLE
from shopsense.training.build import build_recs, repurchase_rates
from shopsense.training.lifecycle import wire_online_updates


def _sharing_worker(home: Path) -> Worker:
    shop = Shop(Settings(home=home))
    shop.siblings = True
    shop.swap_models(ModelSet(version="test-models", recs=build_recs(shop, quick=True),
                              repurchase=repurchase_rates(shop)))
    wire_online_updates(shop)
    follower = StoreFollower(shop)
    return Worker(shop, follower, Recomputer(shop, follower, recompute=False))


@pytest.fixture
def pair(tmp_path: Path, demo_shop) -> tuple[Worker, Worker]:
    home = tmp_path / "home"
    _copy_home(demo_shop.settings.home, home)
    return _sharing_worker(home), _sharing_worker(home)


def _ask(w: Worker, user: str, **kw) -> dict:
    """/v1/recommend as the API asks it (the API's default rules unless given)."""
    return surfaces.recommend(w.shop, user=user, session=None, k=10,
                              rules=kw.pop("rules", Rules(exclude=[], categories=[])), **kw)


def _rows(w: Worker, actor: str) -> int:
    return w.shop.store.execute(f"SELECT COUNT(*) FROM {TABLE} WHERE user_id = ?",
                                (actor,))[0][0]


def test_a_list_computed_on_a_miss_is_adopted_by_the_sibling(pair) -> None:
    a, b = pair
    users = _shoppers(a.shop, 5)
    actors = [a.shop.actor(u) for u in users]
    for w in pair:  # both show these shoppers their lists (computed and shared once)
        for user in users:
            _ask(w, user)
    a.recomputer.flush(), b.recomputer.flush()
    before = {x: a.cached(x) for x in actors}
    for i, user in enumerate(users):
        _view(a.shop, user, 5 * i + 2)
    a.step(), b.step()
    assert all(w.cached(x) is None for w in pair for x in actors)  # the events dropped them
    for user in users:  # each shopper's next request lands on A: a miss, computed there
        _ask(a, user)
    assert a.recomputer.recomputed == 0  # nothing recomputed off the request path
    assert a.recomputer.flush() == len(users)
    b.step()
    assert b.recomputer.adopted == len(users)
    for x, user in zip(actors, users, strict=True):
        adopted = b.cached(x)
        assert adopted is not None and adopted == a.cached(x) != before[x]
        hits = b.shop.answers.stats()["hits"]
        assert _ask(b, user, cached_only=True) is not None  # B answers it from its cache
        assert b.shop.answers.stats()["hits"] == hits + 1
        assert b.fresh(x) == adopted  # exactly what B would have computed


def test_only_default_lists_are_shared(pair) -> None:
    a, _ = pair
    user = _shoppers(a.shop, 1)[0]
    category = next(p.category for p in a.shop.products.values() if p.category)
    _ask(a, user, category=category, rules=Rules(categories=[category]))
    _ask(a, user, rules=Rules(exclude=[sorted(a.shop.products)[0]]))
    assert a.recomputer.flush() == 0
    _ask(a, user)
    assert a.recomputer.flush() == 1


def test_a_later_event_of_the_shopper_is_never_hidden_by_a_shared_list(pair) -> None:
    a, b = pair
    user = _shoppers(a.shop, 1)[0]
    actor = a.shop.actor(user)
    _view(a.shop, user, 8)
    a.step(), b.step()
    _ask(a, user)  # computed on A after the first event
    a.recomputer.flush()
    _view(b.shop, user, 9)  # the shopper acts again, through B, before B reads A's list
    b.step()
    assert b.recomputer.adopted == 0 and b.cached(actor) is None
    _ask(b, user)
    b.recomputer.flush()
    a.step()  # A takes the second event, then B's list (which has it): adopted
    assert a.recomputer.adopted == 1
    assert a.cached(actor) == b.cached(actor) == a.fresh(actor)


def test_an_erased_shopper_is_not_published_and_leaves_no_row(pair) -> None:
    a, _ = pair
    first, second = _shoppers(a.shop, 2)
    for user in (first, second):
        _ask(a, user)
    a.shop.forget(first, actor="test")  # erased while its list waits to be published
    assert a.recomputer.flush() == 1
    assert _rows(a, a.shop.actor(first)) == 0 and _rows(a, a.shop.actor(second)) == 1
    # erased between the outbox's swap and its write: the row is taken out at once
    _view(a.shop, second, 3)
    a.step()
    _ask(a, second)
    actor = a.shop.actor(second)
    outbox = list(a.recomputer._outbox)
    a.recomputer._erased[actor] = None  # as `forget` leaves it, after the swap
    a.recomputer._outbox = outbox
    a.recomputer.flush()
    assert _rows(a, actor) == 0


def test_the_server_shares_by_default_and_its_thread_publishes(pair) -> None:
    a, b = pair
    assert ServeSettings().share_computed_lists and not ServeSettings().recompute_after_event
    assert start_recomputing(a.shop) is None  # alone on its store: nobody to share with
    a.shop.list_sharers.clear()
    recomputer = start_recomputing(a.shop, a.follower)
    assert recomputer is not None and not recomputer.recompute
    try:
        user = _shoppers(a.shop, 1)[0]
        _ask(a, user)
        deadline = time.monotonic() + 30  # a hang guard
        while recomputer.published == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert recomputer.published == 1
    finally:
        recomputer.stop()
    b.step()
    assert b.recomputer.adopted == 1
