"""A home's search engine: built from its store, opened from its current saved version when
that still indexes the store's catalogue with the configured retrieval backend (else rebuilt
and saved as a new version, switched to atomically), saved after training; and the shopper
profile the CLI shows beside a search.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from shopsense.config import Settings
from shopsense.domain import EVENT_WEIGHTS, UserProfile
from shopsense.index.glossary import glossary_files
from shopsense.pipeline.search import SearchEngine
from shopsense.pipeline.search_index import (
    catalogue_stamp,
    current_version,
    save_version,
    search_root,
)
from shopsense.retrieve.backends import Retrieval, retrieval_for
from shopsense.store.base import Store
from shopsense.text.encoders import Encoder, make_encoder

log = logging.getLogger(__name__)


def build_search_engine(store: Store, settings: Settings, *, encoder: Encoder | None = None,
                        cache_dir: Path | None = None, retrieval: Retrieval | None = None
                        ) -> SearchEngine:
    """Build from a `CatalogStore` with the settings' encoder and retrieval backend; caches
    embeddings under home."""
    if encoder is None:
        encoder = make_encoder(settings.search.encoder)
    cache = cache_dir or settings.home / "cache" / "embeddings"
    engine = SearchEngine.build(store.iter_products(), settings.search, encoder, cache_dir=cache,
                                zero_result_log=settings.home / "logs" / "zero_results.jsonl",
                                retrieval=retrieval or retrieval_for(settings.search,
                                                                     settings.store_url))
    engine.set_popularity(*event_popularity(store.iter_events()))
    engine.glossary_files = glossary_files(settings.home)
    return engine


def event_popularity(events: Any) -> tuple[dict[str, float], dict[str, int]]:
    """Item popularity (weighted event counts) and, per logged query, the number of distinct
    shoppers (user or session) who searched it: suggestions never rest on one shopper."""
    items: dict[str, float] = {}
    searchers: dict[str, set[str]] = {}
    for event in events:
        if event.item_id:
            items[event.item_id] = items.get(event.item_id, 0.0) + \
                EVENT_WEIGHTS.get(event.event_type, 0.0)
        if event.event_type == "search" and event.query and event.query.strip():
            searchers.setdefault(event.query.strip(), set()).add(event.actor)
    return items, {q: len(actors) for q, actors in searchers.items()}


def open_search_engine(settings: Settings, *, rebuild: bool = False) -> SearchEngine:
    """The current saved version under <home>/models/search when it was saved with the
    retrieval backend the settings select and indexes exactly the store's catalogue; else
    one built from the store and saved as a new version (switched to atomically)."""
    from shopsense.store import open_store

    store = open_store(settings.store_url)
    retrieval = retrieval_for(settings.search, settings.store_url)
    current = current_version(search_root(settings))
    if not rebuild and current is not None:
        config = json.loads((current / "config.json").read_text())
        if config.get("retrieval", "embedded") != retrieval.name:
            log.info("rebuilding the search index: saved with %s retrieval", config.get(
                "retrieval"))
        elif config.get("catalogue") != catalogue_stamp(store.iter_products()):
            log.warning("rebuilding the search index: %s does not index the store's "
                        "catalogue", current)
        else:
            engine = SearchEngine.load(current, retrieval=retrieval,
                                       zero_result_log=settings.home / "logs" /
                                       "zero_results.jsonl")
            engine.entities_file = settings.home / "entities.json"
            engine.glossary_files = glossary_files(settings.home)
            return engine
    engine = build_search_engine(store, settings, retrieval=retrieval)
    save_version(engine, search_root(settings))
    engine.entities_file = settings.home / "entities.json"
    engine.glossary_files = glossary_files(settings.home)
    return engine


def save_search_engine(engine: SearchEngine, settings: Settings) -> Path:
    """Save `engine` (e.g. with a newly trained ranker) as the home's new current version."""
    return save_version(engine, search_root(settings))


def shopper_profile(engine: SearchEngine, settings: Settings, raw_user_id: str,
                    now: float | None = None) -> UserProfile:
    """The profile of a shopper (raw id, pseudonymised here) from the store's events."""
    from shopsense.features.profile import build_profile
    from shopsense.ids import Pseudonymizer
    from shopsense.store import open_store

    user = Pseudonymizer.from_home(settings.home).user(raw_user_id)
    events = list(open_store(settings.store_url).iter_events(actor=user))
    products = {e.item_id: p for e in events if e.item_id
                and (p := engine.table.get(e.item_id)) is not None}
    return build_profile(user, events, products, time.time() if now is None else now)
