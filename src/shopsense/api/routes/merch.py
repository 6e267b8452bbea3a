"""Merchandising console endpoints (admin scope) under /v1/admin/merch: the version in force,
saving a new version (optimistic: `base_version` must still be the newest), the history (who,
when, why), rolling back to an earlier version (a new version with its body), and a preview of
a query's first page and a shopper's recommendations before and after a draft.
Thin: storage in store/merch.py, the rules in rank/merch.py, applying them in pipeline/merch.py.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from shopsense.api.deps import api_error, get_shop, require_admin
from shopsense.pipeline.merch import merch_repository
from shopsense.pipeline.merch_preview import preview
from shopsense.pipeline.shop import Shop
from shopsense.rank.merch import Merchandising

router = APIRouter(prefix="/v1/admin/merch", tags=["admin"])


class SaveIn(BaseModel):
    body: Merchandising
    note: str = Field("", max_length=500, description="Why (kept in the history).")
    base_version: int | None = Field(None, ge=0, le=2**53, description="The version this edit started "
                                     "from; 409 when another save came in between.")


class RollbackIn(BaseModel):
    version: int = Field(ge=1, le=2**53)
    note: str = Field("", max_length=500)


class PreviewIn(BaseModel):
    draft: Merchandising
    query: str = Field("", max_length=500)
    user: str | None = Field(None, max_length=256, description="Raw shopper id (optional).")
    k: int = Field(12, ge=1, le=50)


def _current(shop: Shop) -> dict[str, Any]:
    latest = merch_repository(shop).latest()
    if latest is None:
        return {"version": 0, "body": Merchandising().model_dump(), "actor": None, "note": "",
                "at": None}
    return latest.to_dict()


@router.get("", summary="The merchandising in force (rules, redirects) and its version")
def get_merch(shop: Shop = Depends(get_shop), _: str = Depends(require_admin)) -> dict[str, Any]:
    return _current(shop)


@router.put("", summary="Save a new merchandising version (validated, audited)")
def put_merch(body: SaveIn, shop: Shop = Depends(get_shop),
              actor: str = Depends(require_admin)) -> dict[str, Any]:
    repo = merch_repository(shop)
    if body.base_version is not None and body.base_version != repo.version():
        raise api_error(409, "conflict", f"version {repo.version()} was saved since "
                        f"{body.base_version}: reload and edit again", "base_version")
    saved = repo.save(body.body.model_dump(mode="json"), f"key:{actor}", body.note)
    return saved.to_dict()


@router.get("/history", summary="Every saved version: who, when, why (newest first)")
def merch_history(limit: int = Query(50, ge=1, le=500), shop: Shop = Depends(get_shop),
                  _: str = Depends(require_admin)) -> dict[str, Any]:
    return {"versions": [v.to_dict() for v in merch_repository(shop).history(limit)]}


@router.post("/rollback", summary="Put an earlier version back in force (as a new version)")
def merch_rollback(body: RollbackIn, shop: Shop = Depends(get_shop),
                   actor: str = Depends(require_admin)) -> dict[str, Any]:
    repo = merch_repository(shop)
    old = repo.get(body.version)
    if old is None:
        raise api_error(404, "not_found", f"no merchandising version {body.version}", "version")
    note = body.note or f"roll back to version {body.version}"
    return repo.save(old.body, f"key:{actor}", note).to_dict()


@router.post("/preview", summary="A query's page and a shopper's recommendations, before / after")
def merch_preview(body: PreviewIn, shop: Shop = Depends(get_shop),
                  _: str = Depends(require_admin)) -> dict[str, Any]:
    actor = shop.actor(body.user, None) if body.user else None
    return preview(shop, body.draft, query=body.query, actor=actor, k=body.k)
