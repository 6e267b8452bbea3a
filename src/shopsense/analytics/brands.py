"""Brand share counts brand entities, not catalogue spellings.

One brand is written two ways in a bilingual catalogue (格力 in Chinese listings, Gree in
English ones): counted per raw `brand` value, the dashboard showed two half-size bars for one
brand. The entities are the ones search facets count (`index.entities.Entities`): brand groups
learned from the catalogue (`text.understand.brands.learn_brands`: bracket tags `格力(GREE)`,
category mix) plus the operator's override file (<home>/entities.json). A shopper who engaged
with 格力 and Gree products counts once for the entity; its key is the entity id (the English
name when there is one) and the release carries each key's zh and en name, so the dashboard
shows it in the operator's language.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shopsense.index.entities import Entities
from shopsense.store.base import Store
from shopsense.text.understand.brands import learn_brands

_MEMO: dict[tuple[int, str], tuple[float, tuple[Any, ...], Entities]] = {}
_TTL_S = 60.0


def brand_entities(store: Store, override: Path | None = None) -> Entities:
    """The catalogue's brand entities (learned groups + `override`), memoised briefly per
    store, catalogue size and override file version."""
    stamp = (store.count_products(),
             override.stat().st_mtime if override is not None and override.exists() else 0.0)
    key = (id(store), str(override))
    found = _MEMO.get(key)
    if found is not None and found[1] == stamp and time.monotonic() - found[0] < _TTL_S:
        return found[2]
    products = [p for p in store.iter_products() if p.brand]
    entities = Entities.build(learn_brands(products), (), override)  # others: their own
    if len(_MEMO) > 16:
        _MEMO.clear()
    _MEMO[key] = (time.monotonic(), stamp, entities)
    return entities


def brand_domain(override: Path | None = None) -> Callable[[Any, Any], list[str]]:
    """(store, window) -> every brand entity id of the catalogue (the closed key domain)."""
    def domain(store: Store, window: Any) -> list[str]:
        entities = brand_entities(store, override)
        return sorted({entities.brand(p.brand).id for p in store.iter_products() if p.brand})

    return domain


def brand_keys(override: Path | None = None) -> Callable[[Any], Callable[[str], list[str]]]:
    """store -> (raw brand -> [entity id])."""
    def expand(store: Store) -> Callable[[str], list[str]]:
        entities = brand_entities(store, override)
        return lambda raw: [entities.brand(raw).id] if raw.strip() else []

    return expand


def brand_labels(override: Path | None = None) -> Callable[[Any], dict[str, dict[str, str]]]:
    """store -> {entity id: {"zh": name, "en": name}}."""
    def labels(store: Store) -> dict[str, dict[str, str]]:
        entities = brand_entities(store, override)
        out: dict[str, dict[str, str]] = {}
        for p in store.iter_products():
            if p.brand:
                e = entities.brand(p.brand)
                out.setdefault(e.id, {"zh": e.zh, "en": e.en})
        return out

    return labels
