"""The fast routes (api/fast.py: `GET /v1/search`, `/v1/recommend`, `/v1/suggest`, `POST
/v1/events`) answer exactly what FastAPI answers: the same status, content type and body (the
request id and timings aside) for valid, invalid and hostile query strings and bodies, every
way of presenting a key, and shopper tokens, own and another's. Two apps over one shop, one
with `serve.fast_routes` off, asked in turn."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from shopsense.api.app import create_app
from shopsense.api.fast import FastRoute
from shopsense.api.keys import TOKEN_HEADER, create_key, issue_shopper_token

SEARCH_QUERIES = [
    "q=空调", "q=air+conditioner&k=5", "q=手机&k=3&page=2", "q=空调&sort=price_asc",
    "q=空调&sort=popularity&k=20", "q=空调&price_max=2500", "q=空调&price_min=100&price_max=50",
    "q=空调+2000元以下&drop=price_max", "q=便宜的手机&drop=intent&drop=brands:0",
    "q=headphones&lang=zh", "q=耳机&lang=en", "q=耳机&understand=false", "q=&k=5",
    "q=x&sort=cheapest", "q=x&k=0", "q=x&k=101", "q=x&k=abc", "q=x&page=0", "q=x&page=-3",
    "q=x&price_min=-1", "q=x&price_min=nan", "q=x&price_max=inf", "q=x&price_max=1e10",
    "q=x&lang=fr", "q=x&understand=maybe", "q=x&available=true", "q=x&available=yes",
    "q=x&available=2", "q=" + "长" * 201, "q=" + "a" * 501, "q=%00", "q=%ff%fe",
    "q=" + quote("<script>alert(1)</script>"), "q=" + quote("' OR 1=1 --"),
    "q=x&brand=" + "&brand=".join("b" * 3 for _ in range(21)), "q=x&brand=" + "b" * 201,
    "q=x&drop=" + "&drop=".join("d" for _ in range(21)), "q=x&category=" + "c" * 501,
    "q=手机&category=" + quote("数码 > 手机"), "q=x&attr.color=red&attr.color=blue",
    "q=x&attr.=1", "q=x&k=1&k=2", "q=a&q=b", "q=x&user=" + "u" * 257, "q=x&session=s",
    "q=x&unknown=1", "zzz=1", "", "q=x&k=%20", "q=x&k=1.5", "q=x&k=+7", "q=x&sort=",
    "q=%E2%80%AE", "q=" + quote("🙂" * 10),
]
RECOMMEND_QUERIES = [
    "", "k=5", "k=0", "k=100", "k=101", "k=x", "k=1&k=3", "category=" + quote("家电 > 空调"),
    "category=" + "c" * 501, "exclude=A&exclude=B", "exclude=", "exclude=" + "e" * 257,
    "exclude=" + "&exclude=".join(str(i) for i in range(201)), "user=" + "u" * 257,
    "session=" + "s" * 257, "session=visitor-9&k=4", "zzz=1", "k=%00",
]
SUGGEST_QUERIES = [
    "q=空", "q=air", "q=a&k=20", "q=a&k=21", "q=a&k=0", "q=", "", "q=" + "s" * 101,
    "q=a&lang=en", "q=a&lang=fr", "q=%00", "q=a&q=b", "q=a&k=2&k=3", "k=5", "q=a&zzz=1",
]


@pytest.fixture(scope="module")
def apps(demo_shop):
    limits = {"rate_limit_per_s": 100_000.0, "client_rate_limit_per_s": 0,
              "shopper_rate_limit_per_s": 0, "client_server_ms_per_s": 0}
    fast = demo_shop.settings.model_copy(update={"serve": demo_shop.settings.serve.model_copy(
        update={**limits, "fast_routes": True})})
    slow = fast.model_copy(update={"serve": fast.serve.model_copy(update={"fast_routes": False})})
    keys = {"search": create_key(demo_shop.store, "search"),
            "admin": create_key(demo_shop.store, "admin")}
    with TestClient(create_app(fast, demo_shop)) as a, TestClient(create_app(slow, demo_shop)) as b:
        yield a, b, keys, demo_shop


def _same(apps, method: str, url: str, headers: dict[str, str], content: bytes | None = None
          ) -> int:
    fast, slow, _, _ = apps
    answers = [client.request(method, url, headers=headers, content=content)
               for client in (slow, fast)]
    for answer in answers:
        assert answer.status_code < 500, (url, answer.text)
    (want, got) = answers
    assert got.status_code == want.status_code, (url, got.text, want.text)
    assert got.headers.get("content-type") == want.headers.get("content-type"), url
    if method == "HEAD" or not want.content:
        assert got.content == want.content, url
        return got.status_code
    want_body, got_body = want.json(), got.json()
    for body in (want_body, got_body):
        if isinstance(body, dict):
            for name in ("request_id", "timings_ms", "latency_ms"):  # the first asked
                body.pop(name, None)  # computed what the second read from the cache
            if "duplicates" in body:  # the same event posted twice: the second is a duplicate
                body["events"] = body.pop("accepted") + body.pop("duplicates")
            (body.get("experiment") or {}).pop("request_id", None)
    assert got_body == want_body, url
    return got.status_code


def test_the_fast_routes_are_the_ones_that_answer(apps) -> None:
    fast, slow, keys, _ = apps
    first = [r for r in fast.app.router.routes if isinstance(r, FastRoute)]
    assert {r.path for r in first} == {"/v1/search", "/v1/recommend", "/v1/suggest",
                                       "/v1/events"}
    assert fast.app.router.routes[:4] == first
    assert not any(isinstance(r, FastRoute) for r in slow.app.router.routes)
    # a valid query, repeatable fields included, is answered by the fast path; an invalid one
    # by FastAPI (its 422)
    apps_of = {r.path: r.app for r in first}
    search = {"X-API-Key": keys["search"]}
    before = {path: app.delegated for path, app in apps_of.items()}
    for url in ("/v1/search?q=手机&brand=Apple&brand=Huawei&drop=brands:0&attr.color=red",
                "/v1/recommend?k=3&exclude=A&exclude=B", "/v1/search?q=x&k=2&k=3"):
        assert fast.get(url, headers=search).status_code == 200
    item = next(iter(apps[3].products))
    for body in ({"user_id": "fast-1", "item_id": item, "event_type": "view"},
                 [{"session_id": "fast-2", "item_id": item, "event_type": "click",
                   "timestamp": "2026-01-01T00:00:00Z"}] * 2):
        assert fast.post("/v1/events", json=body, headers=search).status_code == 200
    assert fast.get("/v1/suggest?q=空&k=3", headers=search).status_code == 200
    assert {path: app.delegated for path, app in apps_of.items()} == before
    assert fast.get("/v1/recommend?k=0", headers=search).status_code == 422
    assert apps_of["/v1/recommend"].delegated == before["/v1/recommend"] + 1
    # the metrics name the declared route, as for FastAPI's own
    fast.get("/v1/search?q=空调", headers={"X-API-Key": keys["search"]})
    metrics = fast.get("/metrics", headers={"X-API-Key": keys["admin"]}).text
    assert 'route="/v1/search"' in metrics
    # both documented once, by FastAPI
    paths = fast.get("/openapi.json").json()["paths"]
    assert set(paths["/v1/search"]) == {"get"} and set(paths["/v1/recommend"]) == {"get"}
    assert set(paths["/v1/events"]) == {"post"}
    assert paths == slow.get("/openapi.json").json()["paths"]


@pytest.mark.parametrize("query", SEARCH_QUERIES)
def test_search_answers_as_fastapi_does(apps, query: str) -> None:
    _same(apps, "GET", "/v1/search?" + query, {"X-API-Key": apps[2]["search"]})


@pytest.mark.parametrize("query", RECOMMEND_QUERIES)
def test_recommend_answers_as_fastapi_does(apps, query: str) -> None:
    _same(apps, "GET", "/v1/recommend?" + query, {"X-API-Key": apps[2]["search"]})


@pytest.mark.parametrize("query", SUGGEST_QUERIES)
def test_suggest_answers_as_fastapi_does(apps, query: str) -> None:
    _same(apps, "GET", "/v1/suggest?" + query, {"X-API-Key": apps[2]["search"]})


def _event_bodies(item: str) -> list[tuple[str, bytes]]:
    one = {"user_id": "fast-events", "item_id": item, "event_type": "view"}
    as_json = [one, [one, {**one, "event_type": "click"}], {**one, "timestamp": 1.7e9},
               {**one, "timestamp": "2026-01-01T00:00:00Z"}, {**one, "timestamp": 4.1e12},
               {**one, "timestamp": "2100-01-01T00:00:00Z"}, {**one, "timestamp": 1e300},
               {**one, "value": 12.5, "platform": "app"}, {**one, "event_type": "x" * 21},
               {**one, "item_id": "../../etc/passwd"}, {**one, "user_id": 5},
               {"session_id": "anon-events", "item_id": item, "event_type": "cart"},
               {**one, "request_id": "0123456789abcdef"}, {**one, "request_id": "nope"},
               {**one, "extra": {"deep": [1, 2]}}, [], [one] * 1001, 123, "text", None,
               {**one, "timestamp": 2 ** 70}, {"event_type": "view"}, {**one, "query": "q" * 1001}]
    raw = [json.dumps(body).encode() for body in as_json]
    raw += [b"{", b"", b"NaN", b'{"user_id": "a", "item_id": "b", "event_type": "view", '
            b'"value": NaN}', b'{"user_id": "\\ud800", "item_id": "b", "event_type": "view"}',
            b'{"event_type": "view", "event_type": "click", "item_id": "b", "user_id": "a"}',
            b"[" + b"1," * 10 + b"1]", b"\xff\xfe", json.dumps(one).encode() * 2]
    types = ["application/json"] * len(raw)
    raw += [json.dumps(one).encode()] * 5
    types += ["text/plain", "", "application/json; charset=utf-8", "application/vnd.api+json",
              "APPLICATION/JSON"]
    return list(zip(types, raw, strict=True))


def test_events_are_answered_as_fastapi_does(apps) -> None:
    _, _, keys, shop = apps
    item = next(iter(shop.products))
    statuses = set()
    for kind, raw in _event_bodies(item):
        headers = {"X-API-Key": keys["search"]} | ({"Content-Type": kind} if kind else {})
        statuses.add(_same(apps, "POST", "/v1/events", headers, raw))
    too_big = b'{"user_id": "a", "item_id": "b", "event_type": "view", "query": "' + (
        b"x" * 3_000_000) + b'"}'
    statuses.add(_same(apps, "POST", "/v1/events", {"X-API-Key": keys["search"],
                                                     "Content-Type": "application/json"}, too_big))
    assert {200, 413, 422} <= statuses


def test_every_way_of_presenting_a_key_is_answered_alike(apps) -> None:
    _, _, keys, _ = apps
    ways = [{}, {"X-API-Key": ""}, {"X-API-Key": "not-a-key"}, {"X-API-Key": keys["admin"]},
            {"Authorization": f"Bearer {keys['search']}"}, {"Authorization": "Bearer"},
            {"Authorization": "Basic abc"}, {"Authorization": f"bearer {keys['search']}"},
            {"X-API-Key": "x" * 5000}]
    statuses = set()
    for headers in ways:
        for url in ("/v1/search?q=空调", "/v1/recommend?k=3", "/v1/search?q=x&k=0",
                    "/v1/suggest?q=a",
                    f"/v1/search?q=x&api_key={keys['search']}",
                    f"/v1/recommend?access_token={keys['search']}"):
            statuses.add(_same(apps, "GET", url, headers))
    assert {200, 400, 401, 422} <= statuses


def test_shopper_tokens_and_methods_are_answered_alike(apps) -> None:
    _, slow, keys, shop = apps
    user = "fast-parity"
    items = [p.item_id for p in list(shop.products.values())[:3]]
    posted = slow.post("/v1/events", headers={"X-API-Key": keys["admin"]}, json=[
        {"user_id": user, "item_id": i, "event_type": "view"} for i in items])
    assert posted.status_code == 200, posted.text
    own = issue_shopper_token(shop.ids.secret_chain, shop.ids.user(user), 600)[0]
    other = issue_shopper_token(shop.ids.secret_chain, shop.ids.user("someone-else"), 600)[0]
    search = {"X-API-Key": keys["search"]}
    for token in (own, other, "forged.token", ""):
        headers = {**search, TOKEN_HEADER: token}
        for url in (f"/v1/recommend?user={user}&k=5", f"/v1/search?q=手机&user={user}",
                    "/v1/recommend?session=anon-1"):
            _same(apps, "GET", url, headers)
    for method in ("HEAD", "POST", "PUT", "DELETE"):
        for url in ("/v1/search?q=空调", "/v1/recommend?k=2", "/v1/suggest?q=a"):
            _same(apps, method, url, search)
    for method in ("GET", "HEAD", "PUT", "DELETE"):
        _same(apps, method, "/v1/events", search)
    body = json.dumps({"user_id": user, "item_id": items[0], "event_type": "view"}).encode()
    for token in (own, other):  # an event needs no token: both answer it alike
        _same(apps, "POST", "/v1/events", {**search, TOKEN_HEADER: token,
                                           "Content-Type": "application/json"}, body)


@pytest.mark.parametrize("body", [
    {"nan": float("nan"), "inf": float("inf"), "-inf": -float("inf")},
    {"small": 1e-7, "large": 1e22, "sum": 0.1 + 0.2, "neg0": -0.0, "tiny": 5e-324},
    {1: "an int key", "text": "中文 \u2028 \x00 \"quoted\" \\ /"},
    {"tuple": (1, 2), "beyond 64 bits": 2 ** 70, "none": None, "nested": [{"a": [True]}]},
])
def test_bodies_are_the_bytes_fastapi_writes(body) -> None:
    from typing import Any

    from pydantic import TypeAdapter

    from shopsense.api.fast import _dump

    assert _dump(body) == TypeAdapter(dict[str, Any]).dump_json(body, warnings=False)
