"""Model lifecycle for a running shop (beside the data path: it trains and loads; the
serving path only sees the resulting `ModelSet`): load what is trained, build what is quick, train the
heavy models in the background and swap them in atomically (`Shop.swap_models`).

Quick set (seconds on 2 cores for the demo store): query understanding lexicons, the search
indexes (BM25F + encoder vectors, cached), and a recommendation engine without the sequential
model if none is trained yet. Full set (background): the CRF query tagger, the recommendation
models including SASRec and the learned ranker, and purchase propensity.

Over 400 lines: training, model adoption and the retention / erasure wiring still live here
together; splitting them (issue #22: training vs adoption vs schedules) waits for the search
and measurement branches that edit this module in the same session.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from shopsense.domain import Event
from shopsense.pipeline.shop import ModelSet, Shop, settle_heap
from shopsense.training.children import ChildProcess

log = logging.getLogger("shopsense.models")


def _popularity(shop: Shop) -> tuple[dict[str, float], dict[str, int]]:
    """Item popularity and, per logged query, its number of distinct shoppers."""
    from shopsense.pipeline.search import event_popularity

    return event_popularity(shop.store.iter_events())


def warm_caches(shop: Shop) -> threading.Thread | None:
    """Autowarming after new models load, in the background at half duty: the stages of the
    shop's most searched queries (`search.warm_queries`), then the recommendation lists of
    its most recently active shoppers (`serve.warm_shoppers`), then the warmed entries join
    the settled heap. Progress shows on /readyz; stops if the models are swapped again."""
    models = shop.models
    if models.search is None and models.recs is None:
        return None

    def run() -> None:
        try:
            if models.search is not None:
                done = models.search.warm(shop.settings.search.warm_queries,
                                          stop=lambda: shop.models is not models)
                log.info("warmed %d query stages", done)
            if models.recs is not None and shop.models is models:
                log.info("warmed %d shoppers' recommendations", warm_shoppers(shop, models))
            if shop.models is models:  # the warmed entries join the settled heap
                settle_heap(revisit=False)
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


def build_search(shop: Shop, understander: Any, *, rebuild: bool = False) -> Any:
    from shopsense.pipeline.search import open_search_engine

    try:
        engine = open_search_engine(shop.settings, rebuild=rebuild)
    except (KeyError, ValueError, TypeError, OSError) as exc:  # artefacts of an older version
        log.warning("rebuilding the search index (saved index unreadable: %r)", exc)
        engine = open_search_engine(shop.settings, rebuild=True)
    engine.understander = understander
    engine.set_popularity(*_popularity(shop))
    if engine.zero_result_log is not None:  # the shop's k (privacy.zero_result_min_shoppers)
        engine.zero_result_log.min_shoppers = shop.settings.privacy.zero_result_min_shoppers
    return engine


def build_understander(shop: Shop, *, with_tagger: bool) -> Any:
    from shopsense.text.understand import understander_for_home

    products = list(shop.products.values())
    try:
        return understander_for_home(shop.settings, products=products, with_tagger=with_tagger)
    except (KeyError, ValueError, TypeError, OSError) as exc:  # artefacts of an older version
        log.warning("rebuilding query understanding (saved model unreadable: %r)", exc)
        for stale in (shop.settings.home / "models" / "understand").glob("*.json"):
            stale.unlink()
        return understander_for_home(shop.settings, products=products, with_tagger=with_tagger)


def build_recs(shop: Shop, *, quick: bool) -> Any:
    """The current trained engine; failing that, a quick engine of the cheap sources only
    (popularity, trending, co-visitation, bought-together, content) without the sequential
    model or the learned ranker — they come with the background training."""
    try:
        return load_trained_recs(shop)
    except FileNotFoundError:
        if not quick:
            raise
    return quick_recs(shop)


def load_trained_recs(shop: Shop) -> Any:
    """The current saved engine, without any shopper erased since it was trained (a version
    adopted or restored after an erasure: privacy.models.drop_erased)."""
    from shopsense.pipeline.recommend import load_current
    from shopsense.privacy.models import drop_erased

    engine = load_current(shop.settings.home, shop.products.values())
    drop_erased(engine, shop.store.erased_tokens())
    return engine


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
        "bought_together": CovisitRetriever(
            "bought_together", window=20, event_types={"cart", "purchase"}, by_session=False
        ).fit(data, items, products),
        "content": ContentRetriever().fit(data, items, products),
    }
    histories = {u: s[-50:] for u, s in zip(data.users, data.sequences, strict=True)}
    return RecommendationEngine(
        items,
        sources,
        {p.item_id: p for p in products},
        histories,
        info={"kind": "quick", "version": "quick"},
    )


def build_propensity(shop: Shop, *, retrain: bool = False) -> Any:
    from shopsense.models.propensity_store import model_dir, propensity_for_store

    directory = model_dir(shop.settings.home, "logistic", 7)
    return propensity_for_store(
        shop.store, directory, horizon_days=7, model="logistic", retrain=retrain
    )


def repurchase_rates(shop: Shop) -> Any:
    from shopsense.features.repurchase import learn_repurchase_rates

    return learn_repurchase_rates(shop.store.iter_events(), shop.products)


def quick_models(shop: Shop) -> ModelSet:
    start = time.perf_counter()
    understander = build_understander(shop, with_tagger=False)
    search = build_search(shop, understander)
    recs = build_recs(shop, quick=True)
    return ModelSet(
        version=f"quick-{time.strftime('%Y%m%dT%H%M%S')}",
        understander=understander,
        search=search,
        recs=recs,
        propensity=None,
        repurchase=repurchase_rates(shop),
        trained_at=time.time(),
        info={"build_seconds": round(time.perf_counter() - start, 2), "kind": "quick"},
    )


def train_to_disk(settings: Any, **kwargs: Any) -> dict[str, Any]:
    """`shopsense train`: every model on the store's data, written under <home>/models/
    (a serving process loads them with `load_models` and swaps them in). One writer per home:
    a second training waits for the first (store/homelock.py)."""
    from shopsense.store.homelock import home_lock

    with home_lock(settings.home):
        return _train_to_disk(settings, **kwargs)


def _train_to_disk(
    settings: Any, *, max_minutes: float = 10.0, progress: Any = None, ray_workers: int = 0,
    ray_address: str = "", incremental: bool = False, judgments: Any = None
) -> dict[str, Any]:
    """The body of `train_to_disk` (which holds the home's lock): every model on the store's
    data, written under <home>/models/. `judgments`: a judgments file the search ranker also
    learns from (beside the shop's click log). Stages are recorded in
    <home>/models/progress.json for the dashboard (training/progress.py)."""
    from shopsense.training.progress import ProgressLog
    from shopsense.training.recs import train_from_store
    from shopsense.training.search import train_search

    shop = Shop(settings)
    started = time.perf_counter()
    summary: dict[str, Any] = {}
    stages = ProgressLog(settings.home)  # <home>/models/progress.json, for the dashboard
    try:
        with stages.stage("understand"):
            understander = build_understander(shop, with_tagger=True)
        summary["understand"] = "ok"
        with stages.stage("search"):
            summary["search"] = train_search(shop, understander, _judged(judgments))
        summary["recs"] = {
            k: v
            for k, v in train_from_store(settings, max_minutes=max_minutes,
                                         ray_workers=ray_workers, ray_address=ray_address,
                                         incremental=incremental,
                                         progress=stages.hook(progress)).items()
            if k != "path"
        }
        with stages.stage("propensity"):
            build_propensity(shop, retrain=True)
        summary["propensity"] = "ok"
    except BaseException as exc:
        stages.finish("failed", repr(exc)[:500])
        raise
    stages.finish("done")
    summary["seconds"] = round(time.perf_counter() - started, 1)
    summary["version"] = summary["recs"].get("version", "")
    (settings.home / "models" / "status.json").write_text(json.dumps(summary, default=str))
    return summary


def _judged(path: Any) -> list[tuple[str, dict[str, float]]]:
    """(query, {item_id: gain}) of a judgments file (none without one)."""
    from shopsense.evaluation.search import load_judgments

    return [] if path is None else [(q.query, q.gains) for q in load_judgments(path)[0]]


def load_models(shop: Shop) -> ModelSet | None:
    """The models trained on disk (None when there are none yet); never trains."""
    from shopsense.models.propensity import PurchasePropensity
    from shopsense.models.propensity_store import model_dir
    from shopsense.text.tagger.crf import MODEL_FILE

    home = shop.settings.home
    status_file = home / "models" / "status.json"
    if not status_file.exists():
        return None
    status = json.loads(status_file.read_text())
    tagger_ready = (home / "models" / "understand" / "tagger" / MODEL_FILE).exists()
    understander = build_understander(shop, with_tagger=tagger_ready)
    search = build_search(shop, understander)
    recs = load_trained_recs(shop)
    propensity = None
    directory = model_dir(home, "logistic", 7)
    if (directory / "config.json").exists():
        events = list(shop.store.iter_events())
        propensity = PurchasePropensity.load(directory).attach(events, shop.products)
    return ModelSet(
        version=str(status.get("version", "trained")),
        understander=understander,
        search=search,
        recs=recs,
        propensity=propensity,
        repurchase=repurchase_rates(shop),
        trained_at=status_file.stat().st_mtime,
        info={"kind": "full", **status},
    )


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


class ModelManager:
    """Trains the full model set in a background thread and on a schedule; swaps atomically.
    With `serve_models=False` (the parent of sibling workers) it only trains and announces
    the new version in serving.json; the workers' `ModelWatcher`s load it."""

    def __init__(self, shop: Shop, interval_s: float | None = None, *,
                 serve_models: bool = True) -> None:
        self.shop = shop
        self.serve_models = serve_models
        self.interval_s = (
            shop.settings.recs.retrain_interval_s if interval_s is None else interval_s
        )
        self.status: dict[str, Any] = {"state": "idle", "last_error": None, "runs": 0}
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.child = ChildProcess()  # the trainer: ends with this server (training/children.py)

    def start(self, *, train_now: bool = True) -> None:
        self._train_now = train_now
        self._thread = threading.Thread(target=self._loop, name="shopsense-train", daemon=True)
        self._thread.start()

    def request(self) -> None:
        """Retrain now (on demand)."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self.child.stop()

    def _loop(self) -> None:
        first = True
        while not self._stop.is_set():
            # (retention runs on its own schedule: privacy.maintenance)
            stale = self.shop.store.get_meta("models_stale") == "1"  # after a secret rotation
            if not first or getattr(self, "_train_now", True) or stale:
                self.train_once()
            first = False
            timeout = self.interval_s if self.interval_s > 0 else None
            self._wake.wait(timeout)
            self._wake.clear()

    def train_once(self) -> None:
        """Train in a child process (so serving keeps the GIL and a core), then load + swap."""
        from shopsense.store.feed import last_event_seq

        self.status.update(state="training", started_at=time.time())
        data_seq = last_event_seq(self.shop.store)  # training reads at least up to here
        cmd = [
            sys.executable,
            "-m",
            "shopsense.cli",
            "--home",
            str(self.shop.settings.home),
            "train",
            "--all",
            "--json",
        ]
        if self.status["runs"] % self.shop.settings.recs.full_retrain_every:
            cmd.append("--incremental")  # full retrains on the slower schedule
        try:
            env = {**os.environ, "OMP_NUM_THREADS": "1"}
            done = self.child.run(cmd, env)
            if done.returncode != 0:
                raise RuntimeError(done.stderr.strip()[-2000:] or f"exit {done.returncode}")
            home = self.shop.settings.home
            status = json.loads((home / "models" / "status.json").read_text())
            marker = serving_marker(home)
            marker.with_suffix(".tmp").write_text(json.dumps(
                {"version": str(status.get("version", "trained")), "data_seq": data_seq}))
            marker.with_suffix(".tmp").replace(marker)
            version = str(status.get("version", "trained"))
            if self.serve_models:
                models = load_models(self.shop)
                if models is None:
                    raise RuntimeError("training finished but no models were written")
                adopt_models(self.shop, models, data_seq)  # + events accepted meanwhile
                version = models.version
            self.status.update(state="ready", version=version, finished_at=time.time())
            if self.shop.store.get_meta("models_stale") == "1":  # trained on re-keyed ids
                self.shop.store.set_meta("models_stale", "0")
        except Exception as exc:  # keep serving the previous models; report the failure
            log.error("background training failed: %s", traceback.format_exc())
            self.status.update(state="failed", last_error=repr(exc)[:2000], finished_at=time.time())
        self.status["runs"] += 1
