"""What did the storefront actually show each shopper? Impression lists logged by the pages
(surface, items in order, query, total results), so that click-through of search and of each
recommendation surface can be counted: an impression is clicked when the same session clicks,
views or carts one of its items within 30 minutes.

Rows carry pseudonyms only and are erased with the shopper (the table is registered in the
store's USER_TABLES; anonymous rows are back-filled with the user id when a session is linked,
as events are).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any

from shopsense.analytics.aggregates import SEP, Spec, Window
from shopsense.store.base import Store
from shopsense.store.impressions import ImpressionRecord, ImpressionRepository
from shopsense.store.web_impressions import TABLE as TABLE  # re-exported
from shopsense.store.web_impressions import StoreWebImpressions

SURFACES: tuple[str, ...] = ("search", "for_you", "trending", "similar", "bought_together")
MAX_ITEMS = 100


class ImpressionLog:
    """Append-only log of what the pages displayed (table `web_impressions`)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._rows = StoreWebImpressions(store)

    def record(self, *, surface: str, items: Sequence[str], user_id: str | None,
               session_id: str | None, query: str | None = None, total: int | None = None,
               timestamp: float | None = None) -> int:
        """Store one displayed list (pseudonymous ids); returns the number of rows written."""
        if surface not in SURFACES:
            raise ValueError(f"surface must be one of {', '.join(SURFACES)}")
        if not (user_id or session_id):
            raise ValueError("an impression needs a user_id or a session_id")
        if len(items) > MAX_ITEMS:
            raise ValueError(f"at most {MAX_ITEMS} items per impression")
        now = time.time() if timestamp is None else timestamp
        impression = uuid.uuid4().hex
        rows = [(impression, user_id, session_id, surface, item, pos, query, total, now)
                for pos, item in enumerate(items)] or \
               [(impression, user_id, session_id, surface, None, 0, query, total, now)]
        # stitch the session's earlier anonymous rows, as events are
        stitch = (user_id, session_id) if user_id and session_id else None
        return self._rows.add(rows, stitch=stitch)

    def has_rows(self) -> bool:
        return self._rows.has_rows()

    def change_mark(self) -> tuple[Any, ...]:
        return self._rows.change_mark()


def _surface_outcomes(store: Store, w: Window) -> list[str]:
    return [f"{s}{SEP}{o}" for s in SURFACES for o in ("clicked", "not_clicked")]


SURFACE_CTR = Spec(
    "surface_ctr", "Click-through by surface (lists shown, clicked within 30 min)",
    "各推荐位点击率（展示列表，30 分钟内点击）", "surface_ctr", _surface_outcomes,
    per_key=1_000_000)


# -- impressions tied to answers (request_id, positions, propensities): table `impressions` --
CLICK_EVENTS = ("click", "view", "cart", "purchase")
ANSWER_SURFACES = ("search", "for_you", "trending", "similar", "bought_together", "next",
                   "assistant")


def impression_record(shop: Any, row: dict[str, Any]) -> ImpressionRecord:
    """One reported list -> a stored record (pseudonymised actor; checked fields)."""
    from shopsense.pipeline.shop import InputError

    if row["surface"] not in ANSWER_SURFACES:
        raise InputError("surface", f"must be one of {', '.join(ANSWER_SURFACES)}")
    actor = shop.actor(row.get("user_id"), row.get("session_id"))
    if not actor:
        raise InputError("session_id", "send a user_id or a session_id")
    items, props = list(row["items"]), list(row.get("propensities") or [])
    if props and len(props) != len(items):
        raise InputError("propensities", "send one propensity per item, or none")
    if len(set(items)) != len(items):
        raise InputError("items", "an item is listed twice")
    if any(not 0.0 < float(p) <= 1.0 for p in props):
        raise InputError("propensities", "each must be in (0, 1]")
    if any("\x1f" in i or not i for i in items):
        raise InputError("items", "item ids must be non-empty, without U+001F")
    stamp = row.get("timestamp")
    return ImpressionRecord(row["request_id"], time.time() if stamp is None else float(stamp),
                            actor, row["surface"], tuple(items), tuple(props),
                            row.get("policy") or "greedy", row.get("arm"))


def record_impressions(shop: Any, repo: ImpressionRepository,
                       rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Validate every reported list, then store them (a request id is stored once)."""
    from shopsense.pipeline.shop import InputError

    records = []
    for index, row in enumerate(rows):
        try:
            records.append(impression_record(shop, row))
        except InputError as exc:
            raise InputError(exc.field, exc.reason, index) from None
    added = repo.add(records)
    return {"accepted": added, "duplicates": len(records) - added}


def attribute_clicks(repo: ImpressionRepository, rows: Sequence[dict[str, Any]]) -> int:
    """Events that name the answer they came from (`request_id`) mark the clicked position."""
    marked = 0
    for row in rows:
        if row.get("request_id") and row.get("item_id") and row.get("event_type") in CLICK_EVENTS:
            marked += repo.mark_click(str(row["request_id"]), str(row["item_id"])) is not None
    return marked
