"""Model console endpoints (admin scope) under /v1/admin/models: the trained versions with
their cards (training and evaluation figures) and who put each into service, promoting a
version, and rolling the serving one back. Both pin the version (later trainings wait in the
console until `POST /unpin`; training/pin.py). Thin: cards, promotion and roll back live in
training/cards.py and training/promote.py, the history in store/promotions.py.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Query, Request
from pydantic import BaseModel, Field

from shopsense.api.deps import api_error, get_shop, require_admin
from shopsense.pipeline.shop import Shop
from shopsense.store.promotions import StorePromotionRepository
from shopsense.training.cards import list_cards
from shopsense.training.pin import pinned, unpin
from shopsense.training.promote import PromotionError, promote, rollback_target, serving_version

router = APIRouter(prefix="/v1/admin/models", tags=["admin"])
_STATUS = {"not_found": 404, "gone": 410, "conflict": 409}


class PromoteIn(BaseModel):
    version: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
    note: str = Field("", max_length=500, description="Why (kept in the history).")
    pin: bool = Field(True, description="Keep it serving: versions trained later wait in the "
                                        "console until `POST /v1/admin/models/unpin`.")


class RollbackIn(BaseModel):
    note: str = Field("", max_length=500)
    pin: bool = Field(True, description="As for promote.")


def _busy(request: Request) -> None:
    manager = getattr(request.app.state, "model_manager", None)
    if manager is not None and (manager.status or {}).get("state") == "training":
        raise api_error(409, "training", "a training is running: promote when it finishes",
                        "version")


@router.get("/versions", summary="Trained versions (cards), the serving one, who promoted what")
def versions(limit: int = Query(20, ge=1, le=200), shop: Shop = Depends(get_shop),
             _: str = Depends(require_admin)) -> dict[str, Any]:
    history = [p.to_dict() for p in StorePromotionRepository(shop.store).history(limit)]
    cards = list_cards(shop.settings.home, limit)
    for card in cards:
        card.pop("status", None)
        card["promotion"] = next((p for p in history if p["version"] == card["version"]), None)
    return {"serving": serving_version(shop), "rollback_to": rollback_target(shop),
            "pinned": pinned(shop.settings.home), "versions": cards, "promotions": history}


def _run(shop: Shop, version: str, actor: str, note: str, action: str,
         pin: bool) -> dict[str, Any]:
    try:
        done = promote(shop, version, f"key:{actor}", note, action=action, pinned=pin)
    except PromotionError as exc:
        raise api_error(_STATUS.get(exc.code, 409), exc.code, str(exc), "version") from exc
    return {"serving": serving_version(shop), "promotion": done,
            "pinned": pinned(shop.settings.home)}


@router.post("/promote", summary="Put a trained version into service (audited)")
def promote_version(request: Request, body: PromoteIn, shop: Shop = Depends(get_shop),
                    actor: str = Depends(require_admin)) -> dict[str, Any]:
    _busy(request)
    return _run(shop, body.version, actor, body.note, "promote", body.pin)


@router.post("/rollback", summary="Serve the version that served before (audited)")
def rollback(request: Request, body: RollbackIn = Body(default_factory=RollbackIn),
             shop: Shop = Depends(get_shop), actor: str = Depends(require_admin)
             ) -> dict[str, Any]:
    _busy(request)
    target = rollback_target(shop)
    if target is None:
        raise api_error(404, "not_found", "no earlier version to roll back to", "version")
    return _run(shop, target, actor, body.note or f"roll back to {target}", "rollback",
                body.pin)


@router.post("/unpin", summary="Let the next training go into service again (audited)")
def unpin_version(shop: Shop = Depends(get_shop), actor: str = Depends(require_admin)
                  ) -> dict[str, Any]:
    was = unpin(shop.settings.home)
    if was is not None:
        shop.store.audit(f"key:{actor}", "models.unpin", {"version": was["version"]})
    return {"serving": serving_version(shop), "pinned": None, "was": was}
