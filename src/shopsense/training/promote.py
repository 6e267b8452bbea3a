"""Promotion and roll back of trained model versions (beside the data path: it moves the
version pointers training wrote and swaps the serving models; serving only sees the resulting
`ModelSet`).

`promote(shop, version, ...)` puts a version with a card (training/cards.py) into service: its
saved recommendation engine and, while it is still kept, its search index. Pointers first,
then the models are loaded and swapped in (the events accepted since their training replayed),
and `serving.json` is rewritten so sibling workers follow; the promotion is recorded with who
and why (store/promotions.py, also in the audit log). `rollback_target` is the version that
served before the serving one. An operator's promotion or roll back pins the version
(training/pin.py): trainings that follow keep their versions out of service until `unpin`.
"""

from __future__ import annotations

from typing import Any

from shopsense.pipeline.recommend import models_root
from shopsense.pipeline.search_index import CURRENT
from shopsense.pipeline.shop import Shop
from shopsense.store.feed import last_event_seq
from shopsense.store.promotions import StorePromotionRepository
from shopsense.training.cards import list_cards, read_card, write_json
from shopsense.training.lifecycle import (
    adopt_models,
    load_models,
    serving_marker,
)
from shopsense.training.pin import pin, point


class PromotionError(ValueError):
    """A version that cannot be put into service; `code` for the API's error body."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def serving_version(shop: Shop) -> str:
    return str(shop.models.version or "")


def promote(shop: Shop, version: str, actor: str, note: str = "", *,
            action: str = "promote", pinned: bool = True) -> dict[str, Any]:
    """Put `version` into service (see the module); returns the recorded promotion.
    `pinned`: later trainings do not replace it until the operator unpins."""
    home = shop.settings.home
    card = read_card(home, version)
    if card is None:
        raise PromotionError("not_found", f"no trained version {version!r}")
    if not (models_root(home) / version).is_dir():
        raise PromotionError("gone", f"version {version}'s models were removed")
    previous = serving_version(shop)
    if previous == version:
        raise PromotionError("conflict", f"version {version} is already serving")
    point(models_root(home) / "current", version)
    index = card.get("search_index")
    if index and (home / "models" / "search" / index / "config.json").exists():
        point(home / "models" / "search" / CURRENT, index)
    write_json(home / "models" / "status.json", card["status"])
    models = load_models(shop)
    if models is None:
        raise PromotionError("gone", "no trained models to load")
    seq = card.get("data_seq")  # the events after its training reach it before it serves
    adopt_models(shop, models, seq)
    write_json(serving_marker(home), {"version": version, "data_seq": last_event_seq(shop.store)
                                      if seq is None else seq})
    if pinned:
        pin(home, version, actor, action, note)
    repo = StorePromotionRepository(shop.store)
    return repo.record(version, previous, action, actor, note).to_dict()


def rollback_target(shop: Shop) -> str | None:
    """The version to roll back to: the one that served before the serving one was put into
    service, else the newest card trained before it whose models are still there."""
    home, now = shop.settings.home, serving_version(shop)
    mine = read_card(home, now)
    if mine is None:  # the quick models built at start: nothing trained served before them
        return None
    last = StorePromotionRepository(shop.store).latest_for(now)
    candidates = [last.previous] if last is not None else []
    candidates += [c["version"] for c in list_cards(home, 100)
                   if (c.get("trained_at") or 0) < (mine.get("trained_at") or 0)]
    for version in candidates:
        if version and version != now and read_card(home, version) is not None \
                and (models_root(home) / version).is_dir():
            return version
    return None


__all__ = ["PromotionError", "promote", "rollback_target", "serving_version"]
