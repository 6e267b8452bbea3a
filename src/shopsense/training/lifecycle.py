"""Model lifecycle for a running shop (beside the data path: it trains and loads; the
serving path only sees the resulting `ModelSet`): load what is trained, build what is quick, train the
heavy models in the background and swap them in atomically (`Shop.swap_models`).

Quick set (seconds on 2 cores for the demo store): query understanding lexicons, the search
indexes (BM25F + encoder vectors, cached), and a recommendation engine without the sequential
model if none is trained yet. Full set (background): the CRF query tagger, the recommendation
models including SASRec and the learned ranker, and purchase propensity.

Here: training (`train_to_disk`, `shopsense train`) and its schedule in a server
(`ModelManager`). Building and loading model sets: training/build.py; adopting them in a
server (start, swap + replay, sibling watcher, online updates, warming): training/adopt.py.
Their names are importable from here too.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
import traceback
from typing import Any

from shopsense.pipeline.shop import Shop
from shopsense.training.adopt import (
    ModelWatcher,
    adopt_models,
    serving_marker,
    start_models,
    trained_data_seq,
    warm_caches,
    warm_shoppers,
    wire_online_updates,
)
from shopsense.training.build import (
    build_propensity,
    build_recs,
    build_search,
    build_understander,
    load_models,
    load_trained_recs,
    quick_models,
    quick_recs,
    repurchase_rates,
)
from shopsense.training.cards import evaluate_version, write_card
from shopsense.training.children import ChildProcess
from shopsense.training.pin import pinned, restore_pinned

__all__ = [
    "ModelManager", "ModelWatcher", "adopt_models", "build_propensity", "build_recs",
    "build_search", "build_understander", "load_models", "load_trained_recs", "quick_models",
    "quick_recs", "repurchase_rates", "serving_marker", "start_models", "train_to_disk",
    "trained_data_seq", "warm_caches", "warm_shoppers", "wire_online_updates",
]

log = logging.getLogger("shopsense.models")


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
    from shopsense.store.feed import last_event_seq
    from shopsense.training.progress import ProgressLog
    from shopsense.training.recs import train_from_store
    from shopsense.training.search import train_search

    shop = Shop(settings)
    started = time.perf_counter()
    summary: dict[str, Any] = {}
    data_seq = last_event_seq(shop.store)  # training reads at least up to here (the card)
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
    summary["trained_at"] = time.time()  # not the file's mtime: copies and promotions move it
    (settings.home / "models" / "status.json").write_text(json.dumps(summary, default=str))
    write_card(settings.home, summary, data_seq)  # the version's card (training/cards.py)
    serving = restore_pinned(settings.home)  # an operator's pin: this one waits in the console
    if serving is not None:
        summary.update(serving=serving, pinned=True)
    return summary


def _judged(path: Any) -> list[tuple[str, dict[str, float]]]:
    """(query, {item_id: gain}) of a judgments file (none without one)."""
    from shopsense.evaluation.search import load_judgments

    return [] if path is None else [(q.query, q.gains) for q in load_judgments(path)[0]]


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
        self.evaluate = shop.settings.recs.eval_after_training

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

    def _kept(self, version: str) -> None:
        """A training finished while an operator's pin holds the serving version."""
        self.status.update(state="ready", finished_at=time.time(), kept=version)
        self.status["runs"] += 1
        if self.evaluate and version:  # its figures, to compare before promoting it
            evaluate_version(self.shop.settings.home, version, self.child, self.status)

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
            if pinned(home) is not None:  # kept for the console; the pinned version serves
                self._kept(json.loads(done.stdout or "{}").get("version") or "")
                return
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
            if self.evaluate:  # the Evaluation tab and the version's card, in the background
                evaluate_version(self.shop.settings.home, version, self.child, self.status)
        except Exception as exc:  # keep serving the previous models; report the failure
            log.error("background training failed: %s", traceback.format_exc())
            self.status.update(state="failed", last_error=repr(exc)[:2000], finished_at=time.time())
        self.status["runs"] += 1
