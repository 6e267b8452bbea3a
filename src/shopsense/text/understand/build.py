"""Building a `QueryUnderstander` for a shop: from products, or cached under the data home.

Answers: how search / recommendations / the assistant get a fitted understander in one call,
where its artefacts live (<home>/models/understand/), when they are rebuilt (the catalogue's
fingerprint changed), and where the optional CRF tagger comes from (trained once from
../shared/data/chinese-ecommerce-ner-taobao/train.txt when that research-only file is present;
never shipped in the repo; without it the understander is lexicon-only).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from shopsense.domain import Product
from shopsense.store.base import Store
from shopsense.text.understand.understander import QueryUnderstander

log = logging.getLogger(__name__)
REPO_ROOT = Path(__file__).resolve().parents[4]
TAOBAO_TRAIN = REPO_ROOT / ".." / "shared" / "data" / "chinese-ecommerce-ner-taobao" / "train.txt"
FINGERPRINT_FILE = "fingerprint.json"
FORMAT_VERSION = 3  # bump when what fit() learns changes, so cached artefacts are rebuilt


def _options(settings: Any) -> dict[str, Any]:
    """Understander hyper-parameters from the settings tree (sections are optional)."""
    section = getattr(settings, "understand", None)
    search = getattr(settings, "search", None)
    encoder = getattr(search, "encoder", "use") if search is not None else "use"
    return {"usd_rate": float(getattr(section, "usd_rate", 7.2)),
            "encoder": "none" if encoder == "none" else "use",
            "category_threshold": float(getattr(section, "category_threshold", 0.5))}


def build_understander(products: Iterable[Product], settings: Any = None,
                       queries: Iterable[str] = ()) -> QueryUnderstander:
    """Fit a `QueryUnderstander` on `products` (and logged `queries`) with `settings`' options."""
    return QueryUnderstander(**_options(settings)).fit(products, queries)


def default_tagger(model_dir: str | Path, train_path: str | Path | None = None) -> Any:
    """The CRF tagger saved in `model_dir`, training it there first if the Taobao data exist.

    Returns None (lexicon-only reading) when there is neither a model nor training data.
    """
    from shopsense.text.tagger import CrfTagger, read_conll
    from shopsense.text.tagger.crf import MODEL_FILE

    directory = Path(model_dir)
    if (directory / MODEL_FILE).exists():
        return CrfTagger.load(directory)
    source = Path(train_path) if train_path else TAOBAO_TRAIN
    if not source.exists():
        log.info("no tagger model and no %s: lexicon-only query understanding", source)
        return None
    log.info("training the query tagger from %s (about a minute, once)", source)
    return CrfTagger().fit(read_conll(source), directory)


def catalogue_fingerprint(products: list[Product]) -> str:
    digest = hashlib.sha256()
    for p in products:
        digest.update(f"{p.item_id}\t{p.title}\t{p.brand}\t{p.category}\t{p.price}\n".encode())
    return digest.hexdigest()[:16]


def logged_queries(store: Store, limit: int = 50_000) -> list[str]:
    """Distinct search queries from the store's events (most recent `limit` searches)."""
    seen: dict[str, None] = {}
    for event in store.iter_events():
        if event.event_type == "search" and event.query and event.query.strip():
            seen[event.query.strip()] = None
            if len(seen) >= limit:
                break
    return list(seen)


def understander_for_home(settings: Any, products: Iterable[Product] | None = None,
                          queries: Iterable[str] | None = None, with_tagger: bool = True,
                          ) -> QueryUnderstander:
    """The understander cached under <home>/models/understand/, rebuilt when the catalogue
    changed. `products` default to the store's catalogue (`settings.store_url`); on a rebuild,
    `queries` default to the store's logged searches (they self-train the category model)."""
    if products is None:
        from shopsense.store import open_store

        products = open_store(settings.store_url).iter_products()
    items = list(products)
    directory = Path(settings.home) / "models" / "understand"
    fingerprint = {"catalogue": catalogue_fingerprint(items), "options": _options(settings),
                   "version": FORMAT_VERSION}
    stamp = directory / FINGERPRINT_FILE
    if stamp.exists() and json.loads(stamp.read_text(encoding="utf-8")) == fingerprint:
        understander = QueryUnderstander.load(directory)
    else:
        logged = list(queries) if queries is not None else _store_queries(settings)
        understander = build_understander(items, settings, logged)
        understander.save(directory)
        stamp.write_text(json.dumps(fingerprint), encoding="utf-8")
    if with_tagger:
        tagger = default_tagger(directory / "tagger")
        if tagger is not None:
            understander.use_tagger(tagger)
    return understander


def _store_queries(settings: Any) -> list[str]:
    """Logged searches of the home's store; none when the store cannot be read."""
    try:
        from shopsense.store import open_store

        return logged_queries(open_store(settings.store_url))
    except Exception as exc:  # a missing or foreign store only costs the self-training
        log.info("no logged queries for query understanding: %r", exc)
        return []
