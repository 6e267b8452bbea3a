"""Model lifecycle for a running shop: load what is trained, build what is quick, train the
heavy models in the background and swap them in atomically (`Shop.swap_models`).

Quick set (seconds on 2 cores for the demo store): query understanding lexicons, the search
indexes (BM25F + encoder vectors, cached), and a recommendation engine without the sequential
model if none is trained yet. Full set (background): the CRF query tagger, the recommendation
models including SASRec and the learned ranker, and purchase propensity.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections import Counter
from typing import Any

from shopsense.domain import EVENT_WEIGHTS, Event
from shopsense.pipeline.shop import ModelSet, Shop

log = logging.getLogger("shopsense.models")


def _popularity(shop: Shop) -> dict[str, float]:
    counts: Counter[str] = Counter()
    for e in shop.store.iter_events():
        if e.item_id:
            counts[e.item_id] += EVENT_WEIGHTS.get(e.event_type, 0.0)
    return dict(counts)


def build_search(shop: Shop, understander: Any, *, rebuild: bool = False) -> Any:
    from shopsense.pipeline.search import open_search_engine

    engine = open_search_engine(shop.settings, rebuild=rebuild)
    engine.understander = understander
    engine.set_popularity(_popularity(shop))
    return engine


def build_understander(shop: Shop, *, with_tagger: bool) -> Any:
    from shopsense.text.understand import understander_for_home

    return understander_for_home(shop.settings, products=list(shop.products.values()),
                                 with_tagger=with_tagger)


def build_recs(shop: Shop, *, quick: bool) -> Any:
    """The current trained engine; failing that, a quick engine of the cheap sources only
    (popularity, trending, co-visitation, bought-together, content) without the sequential
    model or the learned ranker — they come with the background training."""
    from shopsense.pipeline.recommend import load_current

    try:
        return load_current(shop.settings.home, shop.products.values())
    except FileNotFoundError:
        if not quick:
            raise
    return quick_recs(shop)


def quick_recs(shop: Shop) -> Any:
    from shopsense.models.interactions import interactions_from_events
    from shopsense.models.sequences import ItemIndex
    from shopsense.pipeline.recommend import RecommendationEngine
    from shopsense.retrieve.content import ContentRetriever
    from shopsense.retrieve.covisit import CovisitRetriever
    from shopsense.retrieve.popular import PopularRetriever, TrendingRetriever

    data = interactions_from_events(shop.store.iter_events())
    products = list(shop.products.values())
    items = ItemIndex([*(p.item_id for p in products), *data.item_ids()])
    sources = {
        "popular": PopularRetriever().fit(data, items, products),
        "trending": TrendingRetriever().fit(data, items, products),
        "covisit": CovisitRetriever().fit(data, items, products),
        "bought_together": CovisitRetriever("bought_together", window=20,
                                            event_types={"cart", "purchase"},
                                            by_session=False).fit(data, items, products),
        "content": ContentRetriever().fit(data, items, products),
    }
    histories = {u: s[-50:] for u, s in zip(data.users, data.sequences, strict=True)}
    return RecommendationEngine(items, sources, {p.item_id: p for p in products}, histories,
                                info={"kind": "quick", "version": "quick"})


def build_propensity(shop: Shop, *, retrain: bool = False) -> Any:
    from shopsense.models.propensity_store import model_dir, propensity_for_store

    directory = model_dir(shop.settings.home, "logistic", 7)
    return propensity_for_store(shop.store, directory, horizon_days=7, model="logistic",
                                retrain=retrain)


def quick_models(shop: Shop) -> ModelSet:
    start = time.perf_counter()
    understander = build_understander(shop, with_tagger=False)
    search = build_search(shop, understander)
    recs = build_recs(shop, quick=True)
    return ModelSet(version=f"quick-{time.strftime('%Y%m%dT%H%M%S')}", understander=understander,
                    search=search, recs=recs, propensity=None, trained_at=time.time(),
                    info={"build_seconds": round(time.perf_counter() - start, 2), "kind": "quick"})


def full_models(shop: Shop) -> ModelSet:
    from shopsense.training.recs import train_from_store

    start = time.perf_counter()
    understander = build_understander(shop, with_tagger=True)
    search = build_search(shop, understander)
    trained = train_from_store(shop.settings, max_minutes=10.0)
    recs = build_recs(shop, quick=False)
    propensity = build_propensity(shop, retrain=True)
    return ModelSet(version=str(trained.get("version", "full")), understander=understander,
                    search=search, recs=recs, propensity=propensity, trained_at=time.time(),
                    info={"build_seconds": round(time.perf_counter() - start, 2), "kind": "full",
                          "recs": {k: v for k, v in trained.items() if k != "path"}})


def wire_online_updates(shop: Shop) -> None:
    """Accepted events reach the serving models at once (session state, co-visits)."""

    def on_events(events: list[Event]) -> None:
        recs = shop.models.recs
        if recs is not None:
            recs.observe_many(events)

    def on_erasure(user_id: str) -> None:
        recs = shop.models.recs
        if recs is not None:
            recs.forget(user_id)

    shop.listeners.append(on_events)
    shop.erasure_listeners.append(on_erasure)


class ModelManager:
    """Trains the full model set in a background thread and on a schedule; swaps atomically."""

    def __init__(self, shop: Shop, interval_s: float | None = None) -> None:
        self.shop = shop
        self.interval_s = shop.settings.recs.retrain_interval_s if interval_s is None else interval_s
        self.status: dict[str, Any] = {"state": "idle", "last_error": None, "runs": 0}
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="shopsense-train", daemon=True)
        self._thread.start()

    def request(self) -> None:
        """Retrain now (on demand)."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.train_once()
            timeout = self.interval_s if self.interval_s > 0 else None
            self._wake.wait(timeout)
            self._wake.clear()

    def train_once(self) -> None:
        self.status.update(state="training", started_at=time.time())
        try:
            models = full_models(self.shop)
            self.shop.swap_models(models)
            self.status.update(state="ready", version=models.version, finished_at=time.time())
        except Exception as exc:  # keep serving the previous models; report the failure
            log.error("background training failed: %s", traceback.format_exc())
            self.status.update(state="failed", last_error=repr(exc), finished_at=time.time())
        self.status["runs"] += 1
