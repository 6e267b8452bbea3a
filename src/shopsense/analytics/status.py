"""What is serving right now, trained on how much, and how fresh is it? Model versions,
trained-at times and info, store sizes, and how far online events have run ahead of the
last training.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from shopsense.store.base import Store
from shopsense.store.stats import StoreStats

COMPONENTS: tuple[str, ...] = ("understander", "search", "recs", "propensity")


def _plain(value: Any, depth: int = 0) -> Any:
    """JSON-safe copy of model info (numbers, strings, small nested dicts / lists)."""
    if isinstance(value, bool | str) or value is None:
        return value
    if isinstance(value, int | float):
        return value if math.isfinite(value) else None
    if depth > 3:
        return str(value)[:200]
    if isinstance(value, dict):
        return {str(k): _plain(v, depth + 1) for k, v in list(value.items())[:50]}
    if isinstance(value, list | tuple):
        return [_plain(v, depth + 1) for v in list(value)[:50]]
    return str(value)[:200]


def store_counts(store: Store) -> dict[str, Any]:
    stats = StoreStats(store)
    ev = stats.event_summary()
    products = stats.product_summary()
    return {"products": products[0], "available_products": products[1],
            "catalogue_updated_at": products[2], "events": ev[0], "users": ev[1],
            "sessions": ev[2], "first_event_at": ev[3], "last_event_at": ev[4],
            "events_by_type": stats.events_by_type()}


def model_status(shop: Any, now: float | None = None,
                 training: dict[str, Any] | None = None) -> dict[str, Any]:
    """Versions, trained-at, info and component classes of `shop.models`, plus store sizes
    and (when the service trains in the background) the trainer's state."""
    now = time.time() if now is None else now
    models = shop.models
    counts = store_counts(shop.store)
    trained_at = float(models.trained_at or 0.0)
    newer = 0
    if trained_at > 0:
        newer = StoreStats(shop.store).events_after(trained_at)
    last = counts["last_event_at"]
    return {
        "version": models.version,
        "trained_at": trained_at or None,
        "age_s": round(now - trained_at, 1) if trained_at else None,
        "components": {name: (type(getattr(models, name)).__name__
                              if getattr(models, name, None) is not None else None)
                       for name in COMPONENTS},
        "info": _plain(dict(models.info or {})),
        "search_ranker": _serving_ranker(getattr(models, "search", None)),
        "store": counts,
        "freshness": {"events_after_training": newer,
                      "last_event_age_s": round(now - last, 1) if last else None,
                      "catalogue_in_memory": len(shop.products)},
        "model_files": model_files(Path(shop.settings.home)),
        "training": _plain(dict(training)) if training is not None else None,
    }


def _serving_ranker(search: Any) -> str | None:
    """What orders search results now: lambdamart (trained), blend or bm25f."""
    from shopsense.pipeline.search import serving_ranker

    ranker = getattr(search, "ranker", None)
    return None if ranker is None else serving_ranker(ranker)


def model_files(home: Path, limit: int = 30) -> list[dict[str, Any]]:
    """Saved model folders under <home>/models with their size and modification time."""
    root = home / "models"
    if not root.is_dir():
        return []
    out = []
    for config in sorted(root.rglob("config.json"))[:limit]:
        folder = config.parent
        size = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
        out.append({"path": str(folder.relative_to(home)), "bytes": size,
                    "modified": folder.stat().st_mtime})
    return out
