"""The hot GET routes (`/v1/search`, `/v1/recommend`) answered without FastAPI's per-request
dependency solving and routing, by the same endpoint functions.

FastAPI matches a request by walking every included router (twice: once to pick the router,
once inside it) and solves a route's dependency tree on every request (the shop, the key
header, the bearer, the gate, the query model). For a cached recommendation that was about
half of the server's CPU time (benchmarks/README.md, "The HTTP stack"). A `FastRoute` sits
first in the app's routes and, for a request whose query validates, does the same steps in
one pass: the query model's `model_validate` over the query string (read as FastAPI reads it:
repeatable fields with `getlist`, others with `get`), the key and bearer read by the same
security objects, the same gate (`require_search`), then the route's own endpoint function;
the body is written as FastAPI writes a `dict[str, Any]` return (compact UTF-8 JSON, NaN and
infinities as null), by orjson where it can.

Anything else goes to FastAPI unchanged: a query that does not validate (so a 422 and its
body are FastAPI's own), and every other method and path. The FastAPI route stays declared:
OpenAPI documents it, and `serve.fast_routes = false` turns the fast path off.
"""

from __future__ import annotations

import typing
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.routing import APIRoute
from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.responses import Response
from starlette.routing import Match, Route

from shopsense.api.deps import _bearer, _key_header, require_search

_DELEGATED = "shopsense.fast_delegated"
_BODY = TypeAdapter(dict[str, Any])  # what FastAPI dumps a `-> dict[str, Any]` return with

Endpoint = Callable[..., Awaitable[dict[str, Any]]]


class _FastApp:
    """The ASGI app of one fast route."""

    def __init__(self, route: APIRoute, model: type[BaseModel], endpoint: Endpoint) -> None:
        self.route, self.model, self.endpoint = route, model, endpoint
        self.delegated = 0  # requests handed to FastAPI (their query did not validate)
        self.lists = {name for name, field in model.model_fields.items()
                      if typing.get_origin(field.annotation) is list}

    def values(self, request: Request) -> dict[str, Any]:
        query = request.query_params
        out: dict[str, Any] = {}
        for name in self.model.model_fields:
            if name in self.lists:
                if got := query.getlist(name):
                    out[name] = got
            elif (value := query.get(name)) is not None:
                out[name] = value
        return out

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        request = Request(scope, receive, send)
        try:
            params = self.model.model_validate(self.values(request))
        except ValidationError:  # FastAPI answers it: its 422, its body
            self.delegated += 1
            scope[_DELEGATED] = True
            await scope["router"].app(scope, receive, send)
            return
        scope["route"] = self.route  # what the metrics label a request with
        granted = await require_search(request, await _key_header(request),
                                       await _bearer(request))
        body = await self.endpoint(request=request, p=params, shop=request.app.state.shop,
                                   _=granted)
        await Response(_dump(body), media_type="application/json")(scope, receive, send)


def _dump(body: dict[str, Any]) -> bytes:
    """The body as FastAPI writes it (pydantic's JSON: UTF-8, compact, NaN as null), by orjson
    (a search's 25 KB body: 36 µs against 95); what orjson cannot write, by pydantic."""
    try:
        return orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return _BODY.dump_json(body, warnings=False)


class FastRoute(Route):
    """`GET path` by `_FastApp`; no match for a request it handed to FastAPI."""

    def matches(self, scope: dict[str, Any]) -> tuple[Match, dict[str, Any]]:
        if scope.get(_DELEGATED):
            return Match.NONE, {}
        return super().matches(scope)


def install(app: FastAPI, fast: list[tuple[str, type[BaseModel], Endpoint]]) -> None:
    """A fast route before everything else for each `(path, query model, endpoint)`: the
    endpoint is the FastAPI route's own function, called as
    `endpoint(request=, p=, shop=, _=)`."""
    declared = {(route.path, method): route for route in _api_routes(app.router.routes)
                for method in route.methods}
    for path, model, endpoint in reversed(fast):
        route = declared[(path, "GET")]
        app.router.routes.insert(0, FastRoute(path, _FastApp(route, model, endpoint),
                                              methods=["GET"], include_in_schema=False))


def _api_routes(routes: list[Any]) -> list[APIRoute]:
    """The API routes under `routes`, included routers walked."""
    out: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            out.append(route)
        elif (inner := getattr(route, "original_router", None)) is not None:
            out.extend(_api_routes(inner.routes))
    return out
