"""Every request model is bounded (issue #15, "bounded inputs"): each string, list and number
that any route reads from a query string or a JSON body has a bound — a length, a range, a
pattern or a fixed set of values — and no float accepts NaN or infinity. The walk covers every
FastAPI route of the app (API, storefront /web, /admin), nested models included, so a new
field without a bound fails here; then the HTTP checks send the hostile values themselves."""

from __future__ import annotations

import json
import types
import typing
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel

from shopsense.api.app import create_app
from shopsense.config import ServeSettings, Settings
from shopsense.pipeline.shop import Shop

# fields bounded elsewhere, each with the reason
BOUNDED_ELSEWHERE = {
    # catalogue rows: free-form JSON objects validated one by one by Shop.upsert_items (item
    # id character set, finite prices, text lengths) inside the 2 MB body limit
    ("PUT", "/v1/items", "items[]"),
    # an experiment definition: validated field by field by pipeline.experiments.validate_spec
    # (names 1-120 characters, shares in (0, 1], 2-4 arms, known overlay keys); admin only
    ("POST", "/v1/admin/experiments", "body"),
}


def _bounds(infos: list[Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for info in infos:
        for meta in [info, *getattr(info, "metadata", ())]:
            for name in ("max_length", "le", "lt", "ge", "gt", "allow_inf_nan", "pattern"):
                value = getattr(meta, name, None)
                if value is not None and not isinstance(value, types.MethodType):
                    found.setdefault(name, value)
    return found


def _unbounded(ann: Any, infos: list[Any], path: str, seen: set[type]) -> list[str]:
    origin, args = typing.get_origin(ann), typing.get_args(ann)
    if origin is typing.Annotated:
        return _unbounded(args[0], [*infos, *args[1:]], path, seen)
    if origin in (typing.Union, types.UnionType):
        return [p for a in args if a is not type(None)
                for p in _unbounded(a, infos, path, seen)]
    if origin is typing.Literal or ann is bool:
        return []
    bounds = _bounds(infos)
    if origin in (list, tuple, set, frozenset):
        own = [] if "max_length" in bounds else [f"{path}: a list without max_length"]
        return own + [p for a in args if a is not Ellipsis
                      for p in _unbounded(a, [], f"{path}[]", seen)]
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        if ann in seen:
            return []
        seen.add(ann)
        return [p for name, f in ann.model_fields.items()
                for p in _unbounded(f.annotation, [f], f"{path}.{name}".lstrip("."), seen)]
    if ann is str:
        return [] if {"max_length", "pattern"} & set(bounds) else [f"{path}: a string "
                                                                   "without max_length"]
    if ann is int:
        return [] if {"le", "lt"} & set(bounds) else [f"{path}: an int without a maximum"]
    if ann is float:
        ranged = {"le", "lt"} & set(bounds) and {"ge", "gt"} & set(bounds)
        return [] if bounds.get("allow_inf_nan") is False or ranged else [
            f"{path}: a float that takes NaN / inf"]
    return [f"{path}: {ann!r} (no rule for this type)"]


def _routes(routes: Any) -> Any:
    for route in routes:
        if hasattr(route, "original_router"):  # an included router
            yield from _routes(route.original_router.routes)
        elif isinstance(route, APIRoute):
            yield route


def _params(dependant: Any) -> Any:
    for kind in ("query_params", "body_params"):
        yield from getattr(dependant, kind)
    for sub in dependant.dependencies:
        yield from _params(sub)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    home = tmp_path_factory.mktemp("bounds")
    settings = Settings(home=home, serve=ServeSettings(require_keys=False))
    return create_app(settings, Shop(settings))


def test_every_query_and_body_field_is_bounded(app: Any) -> None:
    routes = list(_routes(app.routes))
    assert len(routes) > 40  # the walk reaches the included routers
    problems = []
    for route in routes:
        for method in route.methods:
            for param in _params(route.dependant):
                for problem in _unbounded(param.field_info.annotation, [param.field_info],
                                          param.name, set()):
                    where = problem.split(":")[0]
                    if (method, route.path, where) not in BOUNDED_ELSEWHERE:
                        problems.append(f"{method} {route.path} {problem}")
    assert not problems, "\n".join(problems)


def test_the_walk_finds_what_it_should() -> None:
    """The checker itself: an unbounded string, list, int and a NaN-taking float are found."""
    from pydantic import Field

    class Loose(BaseModel):
        text: str
        items: list[str] = Field(max_length=3)
        n: int = Field(ge=0)
        x: float | None = None
        fine: float = Field(0.5, ge=0, le=1)

    found = _unbounded(Loose, [], "", set())
    assert [f.split(":")[0] for f in found] == ["text", "items[]", "n", "x"]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    home = tmp_path_factory.mktemp("bounds-http")
    settings = Settings(home=home, serve=ServeSettings(require_keys=False))
    shop = Shop(settings)
    shop.upsert_items([{"item_id": "p1", "title": "Tent"}, {"item_id": "p2", "title": "Mat"}])
    return TestClient(create_app(settings, shop))


def _post(client: TestClient, path: str, raw: str) -> Any:
    return client.post(path, content=raw, headers={"Content-Type": "application/json"})


IMPRESSION = {"request_id": "0123456789abcdef", "surface": "search", "session_id": "s-bounds",
              "items": ["p1", "p2"]}


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400", '"nan"', '"inf"'])
@pytest.mark.parametrize("field", ["propensities", "timestamp"])
def test_impressions_refuse_nan_and_infinity_naming_the_field(client, field, value) -> None:
    body = json.dumps(IMPRESSION)[:-1]
    raw = (f'{body}, "propensities": [{value}, 0.5]}}' if field == "propensities"
           else f'{body}, "timestamp": {value}}}')
    reply = _post(client, "/v1/impressions", raw)
    assert reply.status_code == 422, reply.text
    assert reply.json()["error"]["field"] in (field, f"{field}[0]")
    batch = _post(client, "/v1/impressions", f"[{json.dumps(IMPRESSION)}, {raw}]")
    assert batch.status_code == 422 and batch.json()["error"]["field"].startswith("[1].")


@pytest.mark.parametrize("stamp", [1e300, 4102444800, 100.0, -1])
def test_impression_times_outside_the_event_window_are_refused(client, stamp) -> None:
    reply = client.post("/v1/impressions", json={**IMPRESSION, "timestamp": stamp})
    assert reply.status_code == 422 and reply.json()["error"]["field"] == "timestamp"


@pytest.mark.parametrize("path,body,field", [
    ("/v1/impressions", {**IMPRESSION, "items": ["x" * 257]}, "items[0]"),
    ("/v1/impressions", {**IMPRESSION, "items": [""]}, "items[0]"),
    ("/v1/next", {"items": ["x" * 300]}, "items[0]"),
    ("/web/impressions", {"surface": "search", "session_id": "s", "items": ["y" * 300]},
     "items[0]"),
    ("/v1/events", {"session_id": "s", "item_id": "p1", "event_type": "view",
                    "timestamp": "2" * 100}, "timestamp"),
])
def test_overlong_strings_inside_lists_and_unions_are_refused(client, path, body, field) -> None:
    reply = client.post(path, json=body)
    assert reply.status_code == 422, reply.text
    assert reply.json()["error"]["field"] == field


def test_overlong_query_list_values_are_refused(client) -> None:
    reply = client.get("/v1/search", params={"q": "tent", "brand": "b" * 201})
    assert reply.status_code == 422 and reply.json()["error"]["field"] == "brand[0]"
    reply = client.get("/v1/recommend", params={"exclude": "e" * 257})
    assert reply.status_code == 422 and reply.json()["error"]["field"] == "exclude[0]"


@pytest.mark.parametrize("value", ["NaN", "Infinity", "1e999"])
def test_merchandising_schedules_refuse_nan(client, value) -> None:
    raw = ('{"body": {"rules": [{"action": "pin", "field": "item", "value": "p1", '
           f'"start": {value}}}]}}}}')
    reply = client.put("/v1/admin/merch", content=raw,
                       headers={"Content-Type": "application/json"})
    assert reply.status_code == 422, reply.text
    assert "start" in (reply.json()["error"]["field"] or "")
    assert client.get("/v1/admin/merch").status_code == 200  # nothing unserialisable stored
