"""Writes: events, feedback, catalogue items, erasure; and the shopper profile."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Body, Depends, Path, Request
from pydantic import BaseModel, Field

from shopsense.api.deps import get_shop, require_admin, require_search
from shopsense.api.fields import EVENT_TIME, MAX_BATCH, Finite, ItemId
from shopsense.api.personal import check_personal
from shopsense.pipeline.shop import InputError, Shop

router = APIRouter(prefix="/v1")


class EventIn(BaseModel):
    event_id: str | None = Field(None, max_length=256)
    user_id: str | None = Field(None, max_length=256)
    session_id: str | None = Field(None, max_length=256)
    item_id: str | None = Field(None, max_length=256)
    event_type: str = Field(..., max_length=20)
    query: str | None = Field(None, max_length=1000)
    value: Finite | None = None
    platform: str | None = Field(None, max_length=20)
    timestamp: Finite | Annotated[str, Field(max_length=64)] | None = Field(
        None, description=EVENT_TIME + "; default: now.")
    request_id: str | None = Field(None, pattern=r"^[0-9a-f]{16}$",
                                   description="The answer this event came from (a click, "
                                   "view, cart or purchase marks the item clicked there).")


EventsBody = EventIn | Annotated[list[EventIn], Field(max_length=MAX_BATCH)]  # one, or a batch


class FeedbackIn(BaseModel):
    user_id: str | None = Field(None, max_length=256)
    session_id: str | None = Field(None, max_length=256)
    item_id: str = Field(..., min_length=1, max_length=256)
    action: Literal["dismiss", "undo"] = "dismiss"


class ItemsDelete(BaseModel):
    item_ids: list[ItemId] = Field(..., min_length=1, max_length=10_000)


def _now_default(row: dict[str, Any]) -> dict[str, Any]:
    if row.get("timestamp") in (None, ""):
        import time

        row["timestamp"] = time.time()
    return row


@router.post("/events", summary="Record one event or a batch (idempotent by event_id)")
async def post_events(request: Request, payload: EventsBody = Body(...),
                shop: Shop = Depends(get_shop), _: str = Depends(require_search)) -> dict[str, Any]:
    """Small batches on the event loop, the commit included (~1 ms, an fsync): a reply
    waiting for a thread and then for a busy loop to take it back cost a median 30 ms
    (benchmarks/README.md). Batches over `serve.events_inline_max` rows (an import: 1,000
    events are ~50 ms of work) on a worker thread, so the loop keeps answering meanwhile."""
    rows = payload if isinstance(payload, list) else [payload]
    serve = request.app.state.settings.serve
    if not rows or len(rows) > serve.max_batch_events:
        raise InputError("body", f"send between 1 and {serve.max_batch_events} events per "
                         "request")
    events = [_now_default(r.model_dump(exclude={"request_id"})) for r in rows]
    try:
        if len(events) > serve.events_inline_max:
            result = await anyio.to_thread.run_sync(shop.record_events, events)
        else:
            result = shop.record_events(events)
    except InputError as exc:
        if isinstance(payload, list):
            raise
        raise InputError(exc.field.partition(".")[2], exc.reason) from None  # one event
    request.app.state.metrics.events.labels("api").inc(result["accepted"])
    answered = [r.model_dump() for r in rows if r.request_id]
    if answered:
        from shopsense.analytics.impressions import attribute_clicks
        from shopsense.api.routes.impressions import impression_repo

        result["clicks_attributed"] = attribute_clicks(impression_repo(request, shop), answered)
    return result


@router.post("/feedback", summary="Dismiss an item for a shopper, or undo the dismissal")
def post_feedback(request: Request, body: FeedbackIn, shop: Shop = Depends(get_shop),
                  _: str = Depends(require_search)) -> dict[str, Any]:
    # a shopper's own choice, made from their own client: the public key alone may not
    # dismiss items for somebody else (their lists would change under them)
    check_personal(request, shop, user=body.user_id, session=body.session_id)
    return shop.feedback(body.user_id, body.session_id, body.item_id, body.action)


@router.put("/items", summary="Upsert a batch of products (admin)")
def put_items(items: list[dict[str, Any]] = Body(..., min_length=1, max_length=10_000),
              shop: Shop = Depends(get_shop), _: str = Depends(require_admin)) -> dict[str, Any]:
    return shop.upsert_items(items)


@router.delete("/items", summary="Delete a batch of products (admin)")
def delete_items(body: ItemsDelete, shop: Shop = Depends(get_shop),
                 _: str = Depends(require_admin)) -> dict[str, Any]:
    return shop.delete_items(body.item_ids)


@router.delete("/users/{user_id}", summary="Erase a shopper and everything derived (admin)")
def delete_user(user_id: str = Path(..., max_length=256), shop: Shop = Depends(get_shop),
                key_id: str = Depends(require_admin)) -> dict[str, Any]:
    return shop.forget(user_id, actor=f"key:{key_id}")


@router.get("/users/{user_id}/profile", summary="Top categories, brands, price band, activity")
def get_profile(request: Request, user_id: str = Path(..., max_length=256),
                shop: Shop = Depends(get_shop),
                _: str = Depends(require_search)) -> dict[str, Any]:
    """Personal: the shopper's own token (X-Shopper-Token / storefront cookie) or admin."""
    check_personal(request, shop, user=user_id, session=None)
    return shop.profile_summary(user_id)
