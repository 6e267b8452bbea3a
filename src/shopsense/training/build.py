"""Model sets for a running shop (beside the data path): the quick set built now from the
store (query understanding lexicons, the search indexes, a recommendation engine of the cheap
sources) and the trained set loaded from <home>/models/. Training itself: training/lifecycle.py
(`train_to_disk`); serving and swapping them in: training/adopt.py.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from shopsense.pipeline.shop import ModelSet, Shop

log = logging.getLogger("shopsense.models")


def _popularity(shop: Shop) -> tuple[dict[str, float], dict[str, int]]:
    """Item popularity and, per logged query, its number of distinct shoppers."""
    from shopsense.pipeline.search_open import event_popularity

    return event_popularity(shop.store.iter_events())


def build_search(shop: Shop, understander: Any, *, rebuild: bool = False) -> Any:
    from shopsense.pipeline.search_open import open_search_engine

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
        trained_at=trained_at_of(status, status_file),
        info={"kind": "full", **status},
    )


def trained_at_of(status: dict, status_file: Path) -> float:
    """When the serving version was trained: recorded in its status since 2026-12-07;
    for an older status the file's time (which a copy of the home or a promotion moves)."""
    recorded = status.get("trained_at")
    return float(recorded) if recorded else status_file.stat().st_mtime
