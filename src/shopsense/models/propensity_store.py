"""Propensity over a data home: load (or fit and save) the model for the store's events, and
turn its answers into JSON-ready records for the CLI and the API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shopsense.features.describe import (
    FEATURE_GROUPS,
    describe,
    group_contributions,
    readable_value,
)
from shopsense.models.propensity import PurchasePropensity
from shopsense.store.base import CatalogStore, EventStore, Store


def model_dir(home: Path, model: str, horizon_days: float) -> Path:
    return Path(home) / "models" / f"propensity-{model}-{horizon_days:g}d"


def propensity_for_store(store: Store, directory: Path, *, horizon_days: float = 7,
                         model: str = "logistic", seed: int = 0,
                         retrain: bool = False) -> PurchasePropensity:
    """The saved model in `directory` with the store's events attached; fitted on the store
    and saved there first when missing, unreadable, or `retrain`."""
    catalog: CatalogStore = store
    events_store: EventStore = store
    products = {p.item_id: p for p in catalog.iter_products()}
    events = list(events_store.iter_events())
    if not retrain and (directory / "config.json").exists():
        try:
            saved = PurchasePropensity.load(directory)
        except (ValueError, KeyError, OSError, json.JSONDecodeError):
            saved = None
        if saved is not None and saved.horizon_days == horizon_days and saved.model == model:
            return saved.attach(events, products)
    fitted = PurchasePropensity(horizon_days=horizon_days, model=model, seed=seed)
    fitted.fit(events, products)
    fitted.save(directory)
    return fitted


def shopper_report(model: PurchasePropensity, user_id: str, *, category: str | None = None,
                   top: int = 5) -> dict[str, Any]:
    """Probability of buying (in `category`) within the horizon, the `top` features that
    raised or lowered it (contributions to the log-odds, with readable values), and the same
    contributions summed over groups of related features (`groups`, easier to read when
    related features pull in opposite directions)."""
    prob = float(model.predict([user_id], category=category)[0])
    known = model.history_ is not None and user_id in model.history_.actor_index
    everything = model.explain(user_id, category=category) if known else []
    reasons = everything[:top]
    values = model.features(user_id, category=category) if known else {}
    groups = [{"group": g, "contribution": c, "text_en": FEATURE_GROUPS[g][0],
               "text_zh": FEATURE_GROUPS[g][1]}
              for g, c in group_contributions(everything)[:top] if g in FEATURE_GROUPS]

    def entry(name: str, contribution: float) -> dict[str, Any]:
        text_en, text_zh = describe(name)
        return {"feature": name, "contribution": contribution, "text_en": text_en,
                "text_zh": text_zh, "value": readable_value(name, values[name])}

    return {
        "probability": prob, "horizon_days": model.horizon_days, "model": model.model,
        "category": category, "known_shopper": known,
        "raised_by": [entry(f, c) for f, c in reasons if c > 0],
        "lowered_by": [entry(f, c) for f, c in reasons if c < 0],
        "groups": groups,
    }


def audience_report(model: PurchasePropensity, *, category: str | None = None,
                    item_id: str | None = None, n: int = 100) -> dict[str, Any]:
    """The `n` shoppers (pseudonyms) most likely to buy, best first, with probabilities."""
    rows = model.audience(category=category, item_id=item_id, n=n)
    return {
        "category": category, "item_id": item_id, "horizon_days": model.horizon_days,
        "model": model.model, "expected_buyers": sum(p for _, p in rows),
        "shoppers": [{"user_id": u, "probability": p} for u, p in rows],
    }
