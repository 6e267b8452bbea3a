"""Page routes: the storefront shell (/, /search, /item/{id}, /cart), the dashboard shell
(/admin), bundled static files and the demo's placeholder product images.

Pages are static HTML shells; the browser renders them from the /v1 API with the public
search key that is written into the page (`app.state.public_key`, set by `make demo`).
"""

from __future__ import annotations

import json
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from shopsense import __version__
from shopsense.analytics.impressions import MAX_ITEMS, SURFACES, ImpressionLog
from shopsense.api.deps import api_error, get_shop, require_search
from shopsense.index.glossary import Glossary, catalogue_glossary
from shopsense.pipeline.shop import InputError, Shop
from shopsense.web.placeholders import placeholder_svg, valid_slug

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
TEMPLATES = HERE / "templates"
DEMO_USERS = tuple(f"u{i:05d}" for i in range(1, 9))
# Curated searches that show what the engine understands (the demo catalogue has them all).
DEMO_SEARCHES = ("空调", "格力空调 1.5匹", "华为手机 不要苹果", "running shoes under $80",
                 "noise cancelling headphones", "咖啡豆", "dress not red", "纸尿裤")
_NO_CACHE = {"Cache-Control": "no-cache"}
_IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable"}

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=4)
def _template(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def page_config(request: Request) -> dict[str, Any]:
    """What the page scripts need: the public key, whether keys are required, demo users."""
    state = request.app.state
    return {"publicKey": getattr(state, "public_key", "") or "",
            "requireKeys": bool(state.settings.serve.require_keys),
            "demoUsers": list(DEMO_USERS), "version": __version__,
            "popular": popular_searches(request)}


def popular_searches(request: Request, n: int = 8) -> list[str]:
    """The demo's curated searches, else the catalogue's most stocked leaf categories."""
    state = request.app.state
    if (Path(state.settings.home) / "demo" / "queries.jsonl").is_file():
        return list(DEMO_SEARCHES)
    products = state.shop.products
    cached = getattr(state, "popular_searches", None)
    if cached is None or cached[0] != len(products):
        counts = Counter(p.category_path[-1] for p in list(products.values()) if p.category_path)
        cached = state.popular_searches = (len(products), [c for c, _ in counts.most_common(n)])
    return list(cached[1])


def render(name: str, request: Request, status: int = 200) -> HTMLResponse:
    config = page_config(request)
    config["status"] = status
    text = json.dumps(config, ensure_ascii=False).replace("</", "<\\/")
    body = _template(name).replace("{{CONFIG}}", text).replace("{{VERSION}}", __version__)
    return HTMLResponse(body, status_code=status, headers=_NO_CACHE)


def not_found_page(request: Request) -> HTMLResponse:
    """The store's 404 page (the storefront shell renders it in the shopper's language)."""
    return render("shop.html", request, status=404)


@router.get("/")
@router.get("/search")
@router.get("/cart")
def storefront(request: Request) -> HTMLResponse:
    return render("shop.html", request)


@router.get("/item/{item_id}")
def product_page(request: Request, item_id: str) -> HTMLResponse:
    """The page shell; 404 (the store's own page) when the catalogue has no such product."""
    products = getattr(request.app.state.shop, "products", None) or {}
    if products and item_id not in products:
        return render("shop.html", request, status=404)
    return render("shop.html", request)


@router.get("/admin")
def dashboard(request: Request) -> HTMLResponse:
    return render("admin.html", request)


@router.get("/static/demo/{slug}.svg")
def demo_image(request: Request, slug: str) -> Response:
    """The demo generator's <home>/demo/images/<slug>.svg, else a drawn placeholder."""
    if not valid_slug(slug):
        raise api_error(404, "not_found", "no such image", "slug")
    headers = {"Cache-Control": "public, max-age=86400"}
    written = Path(request.app.state.settings.home) / "demo" / "images" / f"{slug}.svg"
    if written.is_file():
        return FileResponse(written, media_type="image/svg+xml", headers=headers)
    return Response(placeholder_svg(slug), media_type="image/svg+xml", headers=headers)


@router.get("/static/{path:path}")
def static_file(path: str) -> FileResponse:
    if "\x00" in path or len(path) > 500:
        raise api_error(404, "not_found", "no such static file", "path")
    target = (STATIC / path).resolve()
    if STATIC not in target.parents or not target.is_file():
        raise api_error(404, "not_found", f"no static file {path!r}", "path")
    # vendored libraries are pinned by their path's version: cache them for good
    headers = _IMMUTABLE if path.startswith("vendor/") else _NO_CACHE
    return FileResponse(target, headers=headers)


def glossary(request: Request) -> Glossary:
    """The catalogue's glossary (index/glossary.py), rebuilt when the catalogue or a glossary
    file changes: operator file `<home>/glossary.json`, the demo's glossary and category tree."""
    state = request.app.state
    return catalogue_glossary(state.shop.products, Path(state.settings.home))


@router.get("/web/glossary.json")
def glossary_json(request: Request) -> JSONResponse:
    """Category paths, attribute names and values, brands: {zh: en} tables for the pages."""
    return JSONResponse(glossary(request).to_dict(), headers=_NO_CACHE)


@router.get("/web/categories.json")
def category_names(request: Request) -> JSONResponse:
    """zh path -> English path (the glossary's category table)."""
    return JSONResponse(glossary(request).categories, headers=_NO_CACHE)


class ImpressionIn(BaseModel):
    surface: str = Field(..., max_length=30)
    items: list[Annotated[str, Field(min_length=1, max_length=256)]] = Field(
        default_factory=list, max_length=MAX_ITEMS)
    query: str | None = Field(None, max_length=1000)
    total: int | None = Field(None, ge=0, le=2**53, description="Results the list had in all.")
    user_id: str | None = Field(None, max_length=256)
    session_id: str | None = Field(None, max_length=256)


@router.post("/web/impressions")
def post_impression(request: Request, body: ImpressionIn, shop: Shop = Depends(get_shop),
                    _: str = Depends(require_search)) -> dict[str, Any]:
    """The storefront reports a list it displayed (for click-through by surface)."""
    if body.surface not in SURFACES:
        raise InputError("surface", f"must be one of {', '.join(SURFACES)}")
    if not (body.user_id or body.session_id):
        raise InputError("session_id", "send a user_id or a session_id")
    log = getattr(request.app.state, "impression_log", None)
    if log is None:
        log = request.app.state.impression_log = ImpressionLog(shop.store)
    written = log.record(surface=body.surface, items=[i[:256] for i in body.items],
                         user_id=shop.ids.user(body.user_id) if body.user_id else None,
                         session_id=shop.ids.session(body.session_id) if body.session_id else None,
                         query=body.query, total=body.total)
    return {"recorded": written}
