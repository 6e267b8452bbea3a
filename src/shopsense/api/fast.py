"""The hottest routes (`GET /v1/search`, `/v1/recommend`, `/v1/suggest`, `POST /v1/events`)
answered without FastAPI's per-request routing and dependency solving, by the same endpoint
functions.

FastAPI matches a request by walking every included router (twice: once to pick the router,
once inside it) and solves a route's dependency tree on every request (the shop, the key
header, the bearer, the gate, the parameters). For a cached recommendation that was about a
third of the worker's time (benchmarks/README.md, "The service benchmark in session 16"). A
`FastRoute` sits first in the app's routes and, for a request whose input validates, does the
same steps in one pass: the query model's `model_validate` over the query string (read as
FastAPI reads it: repeatable fields with `getlist`, others with `get`) or the JSON body
validated as FastAPI validates it, the same gate (`search_gate`: `require_search` with the
key and bearer read by the same security objects), then the route's own endpoint function;
the answer is written as FastAPI writes a `dict[str, Any]` return (compact UTF-8 JSON, NaN
and infinities as null), by orjson where it can.

Anything else goes to FastAPI unchanged: input that does not validate (so a 4xx and its body
are FastAPI's own; a body read is handed on as read), and every other method and path. The
FastAPI routes stay declared: OpenAPI documents them, and `serve.fast_routes = false` turns
the fast path off.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.routing import APIRoute
from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.responses import Response
from starlette.routing import Match, Route

from shopsense.api.deps import search_gate

_DELEGATED = "shopsense.fast_delegated"
_BODY = TypeAdapter(dict[str, Any])  # what FastAPI dumps a `-> dict[str, Any]` return with

Endpoint = Callable[..., Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Fast:
    """One fast route of the search scope (its gate is `search_gate`, as the FastAPI route's
    `require_search`): `endpoint` (the route's own function) is called with `request`,
    `shop` and `_` (the gate's grant) where its signature takes them, and the parsed input as
    `arg`: a GET's query string validated by `query` (a model), or a POST's JSON body by
    `body` (the type FastAPI validates it as)."""

    path: str
    endpoint: Endpoint
    arg: str
    query: type[BaseModel] | None = None
    body: Any = None

    @property
    def method(self) -> str:
        return "GET" if self.query is not None else "POST"


class _FastApp:
    """The ASGI app of one fast route."""

    def __init__(self, route: APIRoute, spec: Fast) -> None:
        self.route, self.spec = route, spec
        self.delegated = 0  # requests handed to FastAPI (their input did not validate)
        self.takes = set(inspect.signature(spec.endpoint).parameters)
        model = spec.query
        self.lists = set() if model is None else {
            name for name, field in model.model_fields.items()
            if typing.get_origin(field.annotation) is list}
        self.body = None if spec.body is None else TypeAdapter(spec.body)

    def values(self, request: Request) -> dict[str, Any]:
        query = request.query_params
        out: dict[str, Any] = {}
        for name in self.spec.query.model_fields:  # type: ignore[union-attr]
            if name in self.lists:
                if got := query.getlist(name):
                    out[name] = got
            elif (value := query.get(name)) is not None:
                out[name] = value
        return out

    async def parsed(self, request: Request) -> tuple[Any, bytes | None]:
        """The validated input, or `_INVALID`; and the body read (None for a GET)."""
        if self.spec.query is not None:
            try:
                return self.spec.query.model_validate(self.values(request)), None
            except ValidationError:
                return _INVALID, None
        raw = await request.body()  # the body limit holds (`_Measure` bounds `receive`)
        kind = request.headers.get("content-type", "").partition(";")[0].strip().lower()
        if not raw or kind != "application/json":  # FastAPI reads other types its own way
            return _INVALID, raw
        try:  # orjson accepts less than `json.loads` (NaN, big ints): those go to FastAPI
            return self.body.validate_python(orjson.loads(raw), from_attributes=True), raw
        except (orjson.JSONDecodeError, ValidationError):
            return _INVALID, raw

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        request = Request(scope, receive, send)
        value, raw = await self.parsed(request)
        if value is _INVALID:  # FastAPI answers it: its 4xx, its body
            self.delegated += 1
            scope[_DELEGATED] = True
            if raw is not None:  # the body again, as read
                receive = _replay(raw)
            await scope["router"].app(scope, receive, send)
            return
        scope["route"] = self.route  # what the metrics label a request with
        granted = await search_gate(request)
        given = {"request": request, "shop": request.app.state.shop, "_": granted,
                 self.spec.arg: value}
        body = await self.spec.endpoint(**{k: v for k, v in given.items() if k in self.takes})
        await Response(_dump(body), media_type="application/json")(scope, receive, send)


_INVALID = object()


def _replay(raw: bytes) -> Callable[[], Awaitable[dict[str, Any]]]:
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:  # nothing more will come: as a client that went away
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": raw, "more_body": False}

    return receive


def _dump(body: dict[str, Any]) -> bytes:
    """The body as FastAPI writes it (pydantic's JSON: UTF-8, compact, NaN as null), by orjson
    (a search's 25 KB body: 36 µs against 95); what orjson cannot write, by pydantic."""
    try:
        return orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return _BODY.dump_json(body, warnings=False)


class FastRoute(Route):
    """A fast route's path and method by `_FastApp`; no match for a request it handed to
    FastAPI."""

    def matches(self, scope: dict[str, Any]) -> tuple[Match, dict[str, Any]]:
        if scope.get(_DELEGATED):
            return Match.NONE, {}
        return super().matches(scope)


def install(app: FastAPI, fast: list[Fast]) -> None:
    """A fast route before everything else for each of `fast`."""
    declared = {(route.path, method): route for route in _api_routes(app.router.routes)
                for method in route.methods}
    for spec in reversed(fast):
        route = declared[(spec.path, spec.method)]
        app.router.routes.insert(0, FastRoute(spec.path, _FastApp(route, spec),
                                              methods=[spec.method], include_in_schema=False))


def _api_routes(routes: list[Any]) -> list[APIRoute]:
    """The API routes under `routes`, included routers walked."""
    out: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            out.append(route)
        elif (inner := getattr(route, "original_router", None)) is not None:
            out.extend(_api_routes(inner.routes))
    return out
