"""Merchandising previews: a query's page and a shopper's recommendations as served now and
as they would be with a draft in force. Beside pipeline/merch.py (which the serving surfaces
import), so that merch.py never imports the surfaces back."""

from __future__ import annotations

from typing import Any

from shopsense.models.context import RecContext
from shopsense.pipeline import surfaces
from shopsense.pipeline.shop import Shop
from shopsense.rank.merch import Merchandising


def preview(shop: Shop, draft: Merchandising, *, query: str = "", actor: str | None = None,
            k: int = 12) -> dict[str, Any]:
    """A query's first page and a shopper's recommendations as served now and as they would be
    with `draft` in force: {"search": {"before", "after", "redirect_before", "redirect_after"},
    "recommend": {"before", "after"}} (search only with a query)."""
    def brief(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        keys = ("item_id", "title", "price", "brand", "category", "image_url")
        return [{k: x.get(k) for k in keys} for x in items]

    out: dict[str, Any] = {}
    if query.strip():
        user = {"user": None, "session": None}
        now = surfaces.search(shop, query, k=k, **user)
        then = surfaces.search(shop, query, k=k, merch=draft, **user)
        out["search"] = {"before": brief(now["results"]), "after": brief(then["results"]),
                         "redirect_before": now.get("redirect"),
                         "redirect_after": then.get("redirect")}
    recs = surfaces._recs(shop)
    profile = shop.profile_of(actor)
    active = draft.active("recommend", None)
    lists = {}
    for name, rules in (("before", surfaces.shop_rules(shop)),
                        ("after", surfaces.file_rules(shop).merged(active))):
        found = recs.for_you(actor, k=k, context=RecContext(), profile=profile, rules=rules,
                             repurchase=shop.models.repurchase,
                             half_life_days=shop.settings.recs.dismiss_half_life_days)
        lists[name] = brief([surfaces.item_dict(shop, r) for r in found])
    out["recommend"] = lists
    return out


__all__ = ["preview"]
