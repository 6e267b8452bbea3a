"""Reads: search, suggest, recommendations, items, explain, propensity, audience."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from shopsense.api.deps import (
    api_error,
    get_shop,
    metered,
    require_admin,
    require_search,
    run_expensive,
)
from shopsense.api.fields import ItemId
from shopsense.api.personal import check_personal, mark_withheld, own_identity
from shopsense.pipeline import behaviour, surfaces
from shopsense.pipeline.shop import Shop
from shopsense.pipeline.warm_keys import search_key

router = APIRouter(prefix="/v1")


# The read surfaces are CPU-bound Python over in-memory models (the GIL serialises them anyway):
# they run on the event loop, saving two thread hand-overs a request (so does the events write,
# api/routes/data.py); only the expensive ones (cold searches, recommendation misses) go to a
# thread of their own (`run_expensive`).
class SearchParams(BaseModel):
    """The query string of /v1/search (one model: validated in one pass, documented as is).
    Attribute filters come as `attr.<name>=<value>` beside these."""

    q: str = Field("", max_length=500, description="The shopper's query (zh / en / mixed).")
    user: str | None = Field(None, max_length=256, description="Raw logged-in shopper id.")
    session: str | None = Field(None, max_length=256, description="Raw anonymous session id.")
    k: int = Field(10, ge=1, le=100, description="Results per page.")
    page: int = Field(1, ge=1, le=1000)
    sort: str = Field("relevance", max_length=20,
                      description="relevance | price_asc | price_desc | popularity | newest")
    category: str | None = Field(None, max_length=500, description="Category path (and below).")
    brand: list[Annotated[str, Field(max_length=200)]] = Field([], max_length=20)
    price_min: float | None = Field(None, ge=0, le=1e9)
    price_max: float | None = Field(None, ge=0, le=1e9)
    available: bool | None = None
    understand: bool = Field(True, description="Read the query (filters, boosts, chips).")
    drop: list[Annotated[str, Field(max_length=64)]] = Field([], max_length=20, description="Reading parts the shopper removed, "
                            "e.g. brands:0, price_max.")
    lang: str | None = Field(None, pattern="^(zh|en)$", description="Language of facet labels "
                             "(default: the query's).")


@router.get("/search", summary="Search with query understanding, filters, facets, signals")
async def search(request: Request, p: Annotated[SearchParams, Query()],
                 shop: Shop = Depends(get_shop),
                 _: str = Depends(require_search)) -> dict[str, Any]:
    serve = request.app.state.settings.serve
    if len(p.q) > serve.max_query_chars:
        raise api_error(422, "invalid", f"longer than {serve.max_query_chars} characters", "q")
    attributes: dict[str, list[str]] = {}  # attr.<key>=<value>, repeatable: any of the values
    for key, value in request.query_params.multi_items():
        if key.startswith("attr.") and len(key) > 5:
            attributes.setdefault(key[5:], []).append(value)
    params = {"category": p.category, "brand": p.brand, "price_min": p.price_min,
              "price_max": p.price_max, "available": p.available, "attributes": attributes}

    user, session, withheld = own_identity(request, shop, user=p.user, session=p.session)
    warm = getattr(shop.models.search, "warm_keys_", None)  # the searches cached now
    generation = warm.generation if warm is not None else 0

    def answer() -> dict[str, Any]:
        body = surfaces.search(shop, p.q, user=user, session=session, k=p.k, page=p.page,
                               sort=p.sort, understand=p.understand, drops=p.drop,
                               params=params, lang=p.lang)
        return mark_withheld(body, withheld)

    run = metered(request, answer)  # its CPU time is charged to the client's budget
    key = search_key(p.q, params, p.understand, p.drop)
    cold = serve.offload_cold_searches and warm is not None and not warm.fresh(key)
    long = len(p.q) > serve.offload_query_chars
    if long or cold:  # off the loop, one at a time (inline when alone: deps.run_expensive)
        body = await run_expensive(request, run, inline=not long)
    else:
        body = run()
    if warm is not None:  # its stage is cached now: the next such search is cheap
        warm.note(key, generation)
    return body


class SuggestParams(BaseModel):
    """The query string of /v1/suggest."""

    q: str = Field(..., min_length=1, max_length=100)
    k: int = Field(8, ge=1, le=20)
    lang: str | None = Field(None, pattern="^(zh|en)$",
                             description="Language of kind_label (default: the query's).")


@router.get("/suggest", summary="Autocomplete from the catalogue and popular queries")
async def suggest(p: Annotated[SuggestParams, Query()], shop: Shop = Depends(get_shop),
                  _: str = Depends(require_search)) -> dict[str, Any]:
    return surfaces.suggest(shop, p.q, p.k, p.lang)


class RecommendParams(BaseModel):
    """The query string of /v1/recommend."""

    user: str | None = Field(None, max_length=256, description="Raw logged-in shopper id.")
    session: str | None = Field(None, max_length=256, description="Raw anonymous session id.")
    k: int = Field(10, ge=1, le=100)
    category: str | None = Field(None, max_length=500)
    exclude: list[ItemId] = Field([], max_length=200)


@router.get("/recommend", summary="For you (trending for a visitor with no history)")
async def recommend(request: Request, p: Annotated[RecommendParams, Query()],
                    shop: Shop = Depends(get_shop),
                    _: str = Depends(require_search)) -> dict[str, Any]:
    from shopsense.rank.rules import Rules

    rules = Rules(exclude=p.exclude, categories=[p.category] if p.category else [])
    user, session, withheld = own_identity(request, shop, user=p.user, session=p.session)

    def answer(cached_only: bool = False) -> dict[str, Any] | None:
        return surfaces.recommend(shop, user=user, session=session, k=p.k,
                                  category=p.category, rules=rules, cached_only=cached_only)

    # a cached list is answered on the loop; a miss (~6-8 ms of CPU) in its own expensive lane
    body = answer(cached_only=True) or await run_expensive(
        request, metered(request, answer), lane="recommend")
    return mark_withheld(body, withheld)


@router.get("/items/{item_id}", summary="One product")
async def get_item(item_id: str = Path(..., max_length=256), shop: Shop = Depends(get_shop),
             _: str = Depends(require_search)) -> dict[str, Any]:
    product = shop.products.get(item_id)
    if product is None:
        raise api_error(404, "not_found", f"no item {item_id!r}", "item_id")
    from dataclasses import asdict

    return asdict(product)


def _item_surface(request: Request, surface: str, item_id: str, k: int, user: str | None,
                  session: str | None, shop: Shop) -> dict[str, Any]:
    user, session, withheld = own_identity(request, shop, user=user, session=session)
    try:
        body = surfaces.item_surface(shop, surface, item_id, k=k, user=user, session=session)
    except KeyError:
        raise api_error(404, "not_found", f"no item {item_id!r}", "item_id") from None
    return mark_withheld(body, withheld)


@router.get("/items/{item_id}/similar", summary="Similar items")
async def similar(request: Request, item_id: str = Path(..., max_length=256), k: int = Query(10, ge=1, le=100), user: str | None = Query(None, max_length=256),
            session: str | None = Query(None, max_length=256), shop: Shop = Depends(get_shop),
            _: str = Depends(require_search)) -> dict[str, Any]:
    return _item_surface(request, "similar", item_id, k, user, session, shop)


@router.get("/items/{item_id}/bought-together", summary="Frequently bought together")
async def bought_together(request: Request, item_id: str = Path(..., max_length=256), k: int = Query(10, ge=1, le=100), user: str | None = Query(None, max_length=256),
                    session: str | None = Query(None, max_length=256), shop: Shop = Depends(get_shop),
                    _: str = Depends(require_search)) -> dict[str, Any]:
    return _item_surface(request, "bought-together", item_id, k, user, session, shop)


@router.get("/trending", summary="Trending items, optionally in a category")
async def trending(category: str | None = Query(None, max_length=500), k: int = Query(10, ge=1, le=100),
             shop: Shop = Depends(get_shop), _: str = Depends(require_search)) -> dict[str, Any]:
    return surfaces.trending(shop, category=category, k=k)


class NextIn(BaseModel):
    session: str | None = Field(None, max_length=256)
    user: str | None = Field(None, max_length=256)
    items: list[ItemId] = Field(..., min_length=1, max_length=200)
    k: int = Field(10, ge=1, le=100)


@router.post("/next", summary="Next items for a live session")
async def next_items(request: Request, body: NextIn, shop: Shop = Depends(get_shop),
               _: str = Depends(require_search)) -> dict[str, Any]:
    user, session, withheld = own_identity(request, shop, user=body.user, session=body.session)
    answer = surfaces.next_items(shop, items=body.items, user=user, session=session, k=body.k)
    return mark_withheld(answer, withheld)


@router.get("/explain", summary="Why an item is where it is, with each signal's contribution")
def explain(request: Request, item: str = Query(..., min_length=1, max_length=256),
            context: str = Query("recommend", max_length=500), user: str | None = Query(None, max_length=256),
            session: str | None = Query(None, max_length=256), shop: Shop = Depends(get_shop),
            _: str = Depends(require_search)) -> dict[str, Any]:
    check_personal(request, shop, user=user, session=session)  # a shopper's own reasons
    try:
        return surfaces.explain(shop, item_id=item, context=context, user=user, session=session)
    except KeyError:
        raise api_error(404, "not_found", f"{item!r} is not among the top 100 for {context!r}",
                        "item") from None


@router.get("/propensity", summary="Purchase propensity of a shopper, explained")
def propensity(request: Request, user: str = Query(..., min_length=1, max_length=256),
               category: str | None = Query(None, max_length=500),
               shop: Shop = Depends(get_shop), _: str = Depends(require_search)) -> dict[str, Any]:
    check_personal(request, shop, user=user, session=None)
    return behaviour.propensity(shop, user=user, category=category)


@router.get("/audience", summary="Shoppers most likely to buy in a category or an item (admin)")
def audience(category: str | None = Query(None, max_length=500),
             item: str | None = Query(None, max_length=256), n: int = Query(100, ge=1, le=10_000),
             shop: Shop = Depends(get_shop), key_id: str = Depends(require_admin)) -> dict[str, Any]:
    result = behaviour.audience(shop, category=category, item_id=item, n=n)
    shop.store.audit(f"key:{key_id}", "audience_export", {"category": category, "item": item,
                                                          "n": n})
    return result
