"""Model adoption in a server process (beside the data path): the first models a server serves
(`start_models`), the atomic swap of a newly trained set with the replay of the events accepted
since its training read the store (`adopt_models`), the sibling workers' watcher of
<home>/models/serving.json (`ModelWatcher`), the wiring of accepted events and erasures into the
serving models (`wire_online_updates`), and the cache warming after a swap (`warm_caches`).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from shopsense.domain import Event
from shopsense.pipeline.shop import ModelSet, Shop, settle_heap
from shopsense.training.build import load_models, quick_models

log = logging.getLogger("shopsense.models")


def warm_caches(shop: Shop) -> threading.Thread | None:
    """Autowarming after new models load, in the background at half duty: the stages of the
    shop's most searched queries (`search.warm_queries`), then the recommendation lists of
    its most recently active shoppers (`serve.warm_shoppers`), then the vectors of more
    searched queries (`search.query_vectors`), then the warmed entries join
    the settled heap. Progress shows on /readyz; stops if the models are swapped again."""
    models = shop.models
    if models.search is None and models.recs is None:
        return None

    def run() -> None:
        try:
            if models.search is not None:  # the stages /v1/search will ask for
                from shopsense.pipeline.surfaces import query_reader, shop_merch

                read, synonyms = query_reader(models, shop_merch(shop)[1])
                done = models.search.warm(shop.settings.search.warm_queries,
                                          stop=lambda: shop.models is not models,
                                          read=read, synonyms=synonyms)
                log.info("warmed %d query stages", done)
            if models.recs is not None and shop.models is models:
                log.info("warmed %d shoppers' recommendations", warm_shoppers(shop, models))
            if models.search is not None and shop.models is models:
                done = models.search.warm_vectors(shop.settings.search.query_vectors,
                                                  stop=lambda: shop.models is not models)
                log.info("encoded %d query vectors ahead", done)
            if shop.models is models:  # the warmed entries join the settled heap
                settle_heap(revisit=False)
                models.info["warming"] = "done"  # /readyz: nothing of it runs any more
        except Exception:  # warming is an optimisation: never take serving down
            log.exception("cache warming failed")

    thread = threading.Thread(target=run, name="shopsense-warm", daemon=True)
    thread.start()
    return thread


def warm_shoppers(shop: Shop, models: ModelSet) -> int:
    """Cache the default recommendation list (`/v1/recommend` without filters, the
    storefront's home page) of the most recently active shoppers; half duty, so requests
    keep the GIL. Returns how many; progress in `models.info["warmed_shoppers"]`."""
    from shopsense.pipeline.surfaces import recommend_actor
    from shopsense.rank.rules import Rules
    from shopsense.store.feed import recent_actors

    actors = recent_actors(shop.store, shop.settings.serve.warm_shoppers)
    progress = models.info["warmed_shoppers"] = {"done": 0, "of": len(actors)}
    for actor in actors:
        if shop.models is not models:
            break
        started = time.perf_counter()
        recommend_actor(shop, actor, rules=Rules(), warm=True)  # the API's default rules
        progress["done"] += 1
        time.sleep(time.perf_counter() - started)
    return progress["done"]


def wire_online_updates(shop: Shop) -> None:
    """Accepted events reach the serving models at once (session state, co-visits)."""

    def on_events(events: list[Event]) -> None:
        recs = shop.models.recs
        if recs is not None:
            recs.observe_many(events)

    def on_erasure(user_id: str) -> None:
        from shopsense.privacy.models import forget_loaded

        models = shop.models
        forget_loaded(models.recs, user_id)  # history, collaborative row, session state
        zero_log = getattr(models.search, "zero_result_log", None)
        if zero_log is not None:
            zero_log.forget(user_id)  # pending zero-result contributions
        if models.propensity is not None:
            erased_propensity.add(user_id)

    erased_propensity: set[str] = set()

    def on_erasures_done() -> None:
        """The propensity model's event frames are rebuilt without the erased shoppers."""
        if erased_propensity and shop.models.propensity is not None:
            erased_propensity.clear()
            shop.models.propensity.attach(shop.store.iter_events(), shop.products)

    shop.listeners.append(on_events)
    shop.erasure_listeners.append(on_erasure)
    shop.erasure_done.append(on_erasures_done)


def serving_marker(home: Path) -> Path:
    """<home>/models/serving.json: the trained version and the last event seq its training
    read (`data_seq`), written after a training succeeded; servers watch it."""
    return home / "models" / "serving.json"


def trained_data_seq(home: Path) -> int | None:
    marker = serving_marker(home)
    if not marker.exists():
        return None
    return int(json.loads(marker.read_text()).get("data_seq", 0))


def adopt_models(shop: Shop, models: ModelSet, data_seq: int | None,
                 follower: Any = None, *, warm: bool = True) -> int:
    """Serve freshly loaded models: first hand them the events committed after their training
    data was read (else a shopper's last clicks would vanish until the next retrain), then
    swap. With a follower (sibling processes) its lock keeps the feed from moving meanwhile.
    Returns how many events were replayed."""
    from shopsense.store.feed import replay

    replayed = 0
    if follower is not None:
        with follower.lock:
            if models.recs is not None and data_seq is not None:
                replayed = follower.replay_since(models.recs, data_seq)
            shop.swap_models(models)
    else:
        if models.recs is not None and data_seq is not None:
            replayed = replay(shop.store, models.recs.observe_many, data_seq)
        shop.swap_models(models)
    if warm:
        warm_caches(shop)
    return replayed


def start_models(shop: Shop, status: dict[str, Any], follower: Any = None) -> bool:
    """A server's first models: the trained ones on disk (adopted after replaying the events
    accepted since their training began), else quick ones built now; progress and failures go
    to `status` (shown on /readyz and the dashboard). Returns whether trained models loaded."""
    from shopsense.store.feed import last_event_seq

    try:
        trained = load_models(shop)
        if trained is not None:
            adopt_models(shop, trained, trained_data_seq(shop.settings.home), follower)
            status.update(state="trained models loaded", version=trained.version)
            return True
        if follower is None:
            shop.swap_models(quick_models(shop))
        else:
            with follower.lock:  # quick models read the store up to here; follow from there
                follower.event_seq = last_event_seq(shop.store)
                shop.swap_models(quick_models(shop))
        warm_caches(shop)
        status.update(state="quick models ready")
        return False
    except Exception as exc:
        status.update(state="failed", last_error=repr(exc))
        raise


class ModelWatcher:
    """In a server process that does not train (a sibling worker): load each newly trained
    version the trainer announces in serving.json and adopt it."""

    def __init__(self, shop: Shop, follower: Any, interval_s: float = 2.0) -> None:
        self.shop, self.follower, self.interval_s = shop, follower, interval_s
        self.status: dict[str, Any] = {"state": "watching", "last_error": None, "runs": 0}
        self._stop = threading.Event()

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self._loop, name="shopsense-models", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        marker = serving_marker(self.shop.settings.home)
        seen = marker.stat().st_mtime if marker.exists() else 0.0
        while not self._stop.wait(self.interval_s):
            try:
                stamp = marker.stat().st_mtime if marker.exists() else 0.0
                if stamp == seen:
                    continue
                seen = stamp
                models = load_models(self.shop)
                if models is None or models.version == self.shop.models.version:
                    continue
                replayed = adopt_models(self.shop, models,
                                        trained_data_seq(self.shop.settings.home), self.follower)
                self.status.update(state="ready", version=models.version, replayed=replayed,
                                   finished_at=time.time())
                self.status["runs"] += 1
            except Exception as exc:  # keep serving the previous models
                log.error("loading new models failed: %s", traceback.format_exc())
                self.status.update(state="failed", last_error=repr(exc)[:2000])
