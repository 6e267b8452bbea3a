"""Behaviour-prediction surfaces: one shopper's purchase propensity (with what raised and
lowered it) and a category's or an item's likeliest buyers, from the serving propensity
model; erased shoppers never appear."""

from __future__ import annotations

from typing import Any

from shopsense.pipeline.shop import InputError, Shop
from shopsense.pipeline.surfaces import NotReady


def propensity(shop: Shop, *, user: str, category: str | None = None) -> dict[str, Any]:
    from shopsense.models.propensity_store import shopper_report

    model = shop.models.propensity
    if model is None:
        raise NotReady("the propensity model is being trained")
    try:
        report = shopper_report(model, shop.ids.user(user), category=category)
    except (KeyError, ValueError) as exc:
        raise InputError("category", str(exc).strip("\"'")) from exc
    report["explanation"] = report["raised_by"] + report["lowered_by"]
    return report


def audience(shop: Shop, *, category: str | None, item_id: str | None, n: int) -> dict[str, Any]:
    from shopsense.models.propensity_store import audience_report

    model = shop.models.propensity
    if model is None:
        raise NotReady("the propensity model is being trained")
    if item_id is not None and item_id not in shop.products:
        raise InputError("item", f"unknown item {item_id!r}")
    try:
        report = audience_report(model, category=category, item_id=item_id, n=n)
    except (KeyError, ValueError) as exc:
        raise InputError("item" if item_id else "category", str(exc).strip("\"'")) from exc
    erased = shop.store.is_erased
    report["shoppers"] = [s for s in report["shoppers"] if not erased(s["user_id"])]
    report["audience"] = [{"user": s["user_id"], "probability": s["probability"]}
                          for s in report["shoppers"]]
    return report
