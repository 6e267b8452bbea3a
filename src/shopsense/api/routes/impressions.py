"""Impressions: what an answer showed, reported by the storefront or a client (docs/FORMATS.md,
"Impressions"). Clicks come through `/v1/events` with the answer's `request_id`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel, Field

from shopsense.analytics.impressions import record_impressions
from shopsense.api.deps import get_shop, require_search
from shopsense.api.fields import EVENT_TIME, MAX_BATCH, Finite, ItemId, Probability
from shopsense.ingest.validate import TimeBounds
from shopsense.pipeline.shop import InputError, Shop
from shopsense.store.impressions import MAX_POSITIONS, ImpressionRepository, impressions_of

router = APIRouter(prefix="/v1")


class ImpressionIn(BaseModel):
    request_id: str = Field(..., pattern=r"^[0-9a-f]{16}$",
                            description="The `request_id` of the answer the list came from.")
    surface: str = Field(..., max_length=32, description="search | for_you | trending | "
                         "similar | bought_together | next | assistant")
    user_id: str | None = Field(None, max_length=256)
    session_id: str | None = Field(None, max_length=256)
    items: list[ItemId] = Field(..., min_length=1, max_length=MAX_POSITIONS,
                             description="Item ids in display order (position 0 first).")
    propensities: list[Probability] | None = Field(None, max_length=MAX_POSITIONS,
                                             description="Each result's `propensity` as the "
                                             "answer gave it; omitted: 1 (greedy).")
    policy: str | None = Field(None, max_length=64, description="The answer's `policy`.")
    arm: str | None = Field(None, max_length=64)
    timestamp: Finite | None = Field(None, description=EVENT_TIME.split(" (")[0] + " when "
                                     "shown; default: now.")


def impression_repo(request: Request, shop: Shop) -> ImpressionRepository:
    """One repository per app and store (the table is created on first use)."""
    state = request.app.state
    current = getattr(state, "impressions", None)
    if current is None or getattr(current, "store", None) is not shop.store:
        current = state.impressions = impressions_of(shop.store)
    return current


@router.post("/impressions", summary="Report lists shown (positions, propensities)")
def post_impressions(request: Request, payload: ImpressionIn | Annotated[
        list[ImpressionIn], Field(max_length=MAX_BATCH)] = Body(...),
                     shop: Shop = Depends(get_shop),
                     _: str = Depends(require_search)) -> dict[str, Any]:
    rows = payload if isinstance(payload, list) else [payload]
    if not rows or len(rows) > request.app.state.settings.serve.max_batch_events:
        raise InputError("body", "send between 1 and max_batch_events impressions")
    ingest = shop.settings.ingest
    bounds = TimeBounds(ingest.earliest_event_ts, ingest.max_future_skew_s)
    try:
        for index, row in enumerate(rows):  # the same window as events' times
            wrong = None if row.timestamp is None else bounds.check(row.timestamp)
            if wrong is not None:
                raise InputError("timestamp", wrong, index)
        return record_impressions(shop, impression_repo(request, shop),
                                  [r.model_dump() for r in rows])
    except InputError as exc:
        if isinstance(payload, list):
            raise
        raise InputError(exc.field.partition(".")[2] or exc.field, exc.reason) from None
