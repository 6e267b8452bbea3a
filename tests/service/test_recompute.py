"""A shopper's for-you list is recomputed once after their event, off the request path, by the
process that took the event, and adopted by its sibling instead of recomputed there
(pipeline/recompute.py). Two `Shop`s on one SQLite file stand for two workers; their followers
are stepped by hand. What a worker adopts is exactly what it would compute itself."""

from __future__ import annotations

import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from shopsense.config import Settings
from shopsense.pipeline import merch, surfaces
from shopsense.pipeline.follow import StoreFollower
from shopsense.pipeline.recompute import Recomputer
from shopsense.pipeline.shop import ModelSet, Shop
from shopsense.rank.rules import Rules, save_shop_rules
from shopsense.store.shared_answers import TABLE
from shopsense.training.build import build_recs, repurchase_rates
from shopsense.training.lifecycle import wire_online_updates


@dataclass
class Worker:
    shop: Shop
    follower: StoreFollower | None
    recomputer: Recomputer

    def step(self) -> None:
        if self.follower is not None:
            self.follower.step()

    def cached(self, actor: str) -> dict | None:
        key = surfaces.answer_key(self.shop, actor, None, Rules(), None)[0]
        return (self.shop.answers.get(actor, count=False) or {}).get(key)

    def fresh(self, actor: str) -> dict:
        """What this worker computes for `actor` with nothing cached."""
        self.shop.answers.pop(actor)
        answer = surfaces.default_for_you(self.shop, actor)
        assert answer is not None
        return answer


def _copy_home(source: Path, target: Path) -> None:
    target.mkdir()
    shutil.copy2(source / "secret.key", target / "secret.key")
    with sqlite3.connect(source / "shop.db") as src, sqlite3.connect(target / "shop.db") as dst:
        src.backup(dst)


def _worker(home: Path, *, siblings: bool, version: str = "test-models") -> Worker:
    shop = Shop(Settings(home=home))
    shop.siblings = siblings
    shop.swap_models(ModelSet(version=version, recs=build_recs(shop, quick=True),
                              repurchase=repurchase_rates(shop)))
    wire_online_updates(shop)
    follower = StoreFollower(shop) if siblings else None
    return Worker(shop, follower, Recomputer(shop, follower))  # not started: drained by hand


@pytest.fixture
def home(tmp_path: Path, demo_shop) -> Path:
    target = tmp_path / "home"
    _copy_home(demo_shop.settings.home, target)
    return target


@pytest.fixture
def pair(home: Path) -> tuple[Worker, Worker]:
    return _worker(home, siblings=True), _worker(home, siblings=True)


def _shoppers(shop: Shop, n: int) -> list[str]:
    """Raw ids of shoppers with a history (their lists are personal)."""
    users = sorted({e.user_id for e in shop.store.iter_events() if e.user_id})
    raw = {shop.ids.user(f"u{i:05d}"): f"u{i:05d}" for i in range(1, 400)}
    return [raw[u] for u in users if u in raw][:n]


def _view(shop: Shop, user: str, index: int) -> None:
    item = sorted(shop.products)[index]
    shop.record_events([{"user_id": user, "item_id": item, "event_type": "view",
                         "timestamp": time.time()}])


def test_the_worker_that_took_the_event_recomputes_and_the_sibling_adopts(pair) -> None:
    a, b = pair
    users = _shoppers(a.shop, 6)
    assert len(users) == 6
    actors = [a.shop.actor(u) for u in users]
    for w in pair:  # both were showing these shoppers recommendations
        for actor in actors:
            surfaces.default_for_you(w.shop, actor)
    before = {actor: a.cached(actor) for actor in actors}
    for i, user in enumerate(users):
        _view(a.shop, user, 7 * i + 3)
    assert all(a.cached(x) is None for x in actors)  # dropped at commit
    assert a.recomputer.drain() == 0  # not before the models have the events
    a.step()
    b.step()
    assert a.recomputer.drain() == len(actors)
    b.step()  # reads the published lists
    assert b.recomputer.adopted == len(actors) and b.recomputer.recomputed == 0
    for actor in actors:
        adopted, mine = b.cached(actor), a.cached(actor)
        assert adopted == mine and adopted is not None
        assert adopted != before[actor]  # the event changed the list
        assert b.fresh(actor) == adopted  # what the sibling would have computed
        assert a.fresh(actor) == mine


def test_a_request_after_the_event_is_answered_from_the_recomputed_list(pair) -> None:
    a, b = pair
    user = _shoppers(a.shop, 1)[0]
    actor = a.shop.actor(user)
    for w in pair:
        surfaces.recommend(w.shop, user=user, session=None, k=10, rules=Rules())
    _view(a.shop, user, 11)
    a.step(), b.step(), a.recomputer.drain(), b.step()
    for w in pair:
        hits = w.shop.answers.stats()["hits"]
        assert surfaces.recommend(w.shop, user=user, session=None, k=10, rules=Rules(),
                                  cached_only=True) is not None
        assert w.shop.answers.stats()["hits"] == hits + 1
    assert a.cached(actor) == b.cached(actor)


def test_nothing_is_recomputed_for_a_shopper_not_shown_recommendations(pair) -> None:
    a, b = pair
    user = _shoppers(a.shop, 1)[0]
    _view(a.shop, user, 5)
    a.step(), b.step()
    assert a.recomputer.drain() == 0 and a.recomputer.published == 0


def _listed_then_viewed(pair, item: int) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A shopper whose for-you list both workers hold, who then views `item` through A."""
    a = pair[0]
    user = _shoppers(a.shop, 1)[0]
    actor = a.shop.actor(user)
    for w in pair:
        surfaces.default_for_you(w.shop, actor)
    _view(a.shop, user, item)
    return user, actor


def test_a_later_event_of_the_shopper_is_never_hidden_by_an_adopted_list(pair) -> None:
    a, b = pair
    user, actor = _listed_then_viewed(pair, 13)
    a.step(), b.step()
    a.recomputer.drain()  # published, then the shopper acts again (through B)
    _view(b.shop, user, 17)
    b.step()  # B applies the second event before it reads A's list: not adopted
    assert b.recomputer.adopted == 0
    assert b.cached(actor) is None
    a.step()
    b.recomputer.drain()  # B took the second event: B recomputes, A adopts
    a.step()
    assert a.recomputer.adopted == 1
    assert a.cached(actor) == b.fresh(actor) == a.fresh(actor)


def test_a_list_from_other_models_or_rules_is_not_adopted(home: Path) -> None:
    a = _worker(home, siblings=True)
    b = _worker(home, siblings=True, version="other-models")
    user = _shoppers(a.shop, 2)
    actors = [a.shop.actor(u) for u in user]
    for w in (a, b):
        for actor in actors:
            surfaces.default_for_you(w.shop, actor)
    _view(a.shop, user[0], 3)
    a.step(), b.step(), a.recomputer.drain(), b.step()
    assert b.recomputer.adopted == 0  # other models
    b.shop.models.version = a.shop.models.version
    # the two "workers" share this process's rules cache: A's older rules are its digest
    save_shop_rules(home, Rules(exclude=[sorted(a.shop.products)[0]]))
    merch._RULES_CACHE.clear()
    a.recomputer._rules = (surfaces.shop_rules(a.shop), "digest-of-older-rules")
    assert b.recomputer.rules_digest() != a.recomputer.rules_digest()
    _view(a.shop, user[1], 9)
    a.step(), b.step(), a.recomputer.drain(), b.step()
    assert b.recomputer.adopted == 0
    a.recomputer._rules = (None, "")  # the same rules again: adopted
    _view(a.shop, user[1], 10)
    a.step(), b.step(), a.recomputer.drain(), b.step()
    assert b.recomputer.adopted == 1
    assert b.cached(actors[1]) == b.fresh(actors[1])


def test_an_erased_shopper_leaves_no_published_list(pair, home: Path) -> None:
    a, b = pair
    user, actor = _listed_then_viewed(pair, 21)
    a.step(), b.step(), a.recomputer.drain()
    assert a.shop.store.execute(f"SELECT COUNT(*) FROM {TABLE} WHERE user_id = ?",
                                (actor,))[0][0] == 1
    a.shop.forget(user, actor="test")
    assert a.shop.store.execute(f"SELECT COUNT(*) FROM {TABLE} WHERE user_id = ?",
                                (actor,))[0][0] == 0
    b.step()
    assert b.recomputer.adopted == 0 and b.cached(actor) is None


def test_alone_on_the_store_the_list_is_recomputed_at_once(home: Path) -> None:
    w = _worker(home, siblings=False)
    user = _shoppers(w.shop, 1)[0]
    actor = w.shop.actor(user)
    surfaces.default_for_you(w.shop, actor)
    _view(w.shop, user, 4)
    assert w.recomputer.drain() == 1 and w.recomputer.published == 0
    assert w.cached(actor) == w.fresh(actor)


def test_the_recompute_thread_runs_what_events_leave(home: Path) -> None:
    w = _worker(home, siblings=False)
    user = _shoppers(w.shop, 1)[0]
    actor = w.shop.actor(user)
    surfaces.default_for_you(w.shop, actor)
    w.recomputer.start()
    try:
        _view(w.shop, user, 6)
        deadline = time.monotonic() + 30  # a hang guard
        while w.cached(actor) is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert w.recomputer.recomputed == 1
    finally:
        w.recomputer.stop()
    assert w.cached(actor) == w.fresh(actor)
