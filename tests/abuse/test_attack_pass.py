"""Regression tests of the second attack pass (issue #15, session 3): each case answered 5xx
(or stored what no answer could render) before its fix; now a documented 4xx that names the
field, and nothing stored."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shopsense.api.app import create_app
from shopsense.api.keys import create_key
from shopsense.config import ServeSettings, Settings
from shopsense.ingest.validate import RowInvalid, validate_product
from shopsense.pipeline.shop import Shop


def _serve(home: Path) -> Iterator[tuple[TestClient, dict[str, str], Shop]]:
    """A one-item shop on `home` with a search and an admin key, and a client of its app."""
    settings = Settings(home=home, serve=ServeSettings(rate_limit_per_s=10_000.0))
    shop = Shop(settings)
    shop.upsert_items([{"item_id": "p1", "title": "Tent"}])
    keys = {"search": create_key(shop.store, "search"), "admin": create_key(shop.store, "admin")}
    with TestClient(create_app(settings, shop), raise_server_exceptions=False) as client:
        yield client, keys, shop


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory):
    yield from _serve(tmp_path_factory.mktemp("attack"))


def _put_items(client: TestClient, keys: dict[str, str], raw: str):
    return client.put("/v1/items", content=raw.encode(), headers={
        "X-API-Key": keys["admin"], "Content-Type": "application/json"})


@pytest.mark.parametrize("raw,field", [
    # a JSON escape of a lone surrogate: UnicodeEncodeError in the store -> 500 before
    ('[{"item_id": "s1", "title": "\\ud800"}]', "[0].title"),
    ('[{"item_id": "s1", "title": "t", "brand": "x\\udfff"}]', "[0].brand"),
    ('[{"item_id": "s1", "title": "t", "attributes": {"\\ud800": 1}}]', "[0].attributes.\\ud800"),
    ('[{"item_id": "s1", "title": "t", "attributes": {"w": ["\\ud83d"]}}]', "[0].attributes.w"),
    # NaN / inf attribute values were stored as null, silently
    ('[{"item_id": "s1", "title": "t", "attributes": {"w": NaN}}]', "[0].attributes.w"),
    ('[{"item_id": "s1", "title": "t", "attributes": {"w": {"x": [1e999]}}}]',
     "[0].attributes.w"),
    ('[{"item_id": "s1", "title": "t", "attributes": "{\\"w\\": Infinity}"}]',
     "[0].attributes.w"),
    # unbounded attributes: a 1.5 MB value, 6 levels deep
    ('[{"item_id": "s1", "title": "t", "attributes": {"w": "' + "x" * 30_000 + '"}}]',
     "[0].attributes.w"),
    ('[{"item_id": "s1", "title": "t", "attributes": {"w": [[[[[[1]]]]]]}}]',
     "[0].attributes.w"),
])
def test_catalogue_text_must_be_unicode_and_attributes_bounded(api, raw, field) -> None:
    client, keys, shop = api
    reply = _put_items(client, keys, raw)
    assert reply.status_code == 422, reply.text
    error = reply.json()["error"]
    assert error["code"] == "invalid" and error["field"] == field
    assert "s1" not in shop.products


def test_bounded_attributes_are_kept(api) -> None:
    client, keys, shop = api
    nested = {"size": {"eu": [42, 43.5], "note": "窄版"}, "colour": "黑", "weight_kg": 1.2}
    raw = ('[{"item_id": "s2", "title": "跑鞋", "attributes": '
           '{"size": {"eu": [42, 43.5], "note": "窄版"}, "colour": "黑", "weight_kg": 1.2}}]')
    assert _put_items(client, keys, raw).status_code == 200
    assert shop.products["s2"].attributes == nested
    got = client.get("/v1/items/s2", headers={"X-API-Key": keys["search"]})
    assert got.status_code == 200 and got.json()["attributes"] == nested


def test_file_ingest_refuses_the_same_rows() -> None:
    """The catalogue validator is shared by files and the API: a JSONL line with a surrogate
    escape is a rejected row, not a crash of the whole import."""
    import json

    row = json.loads('{"item_id": "f1", "title": "\\ud800"}')
    with pytest.raises(RowInvalid) as caught:
        validate_product(row)
    assert caught.value.errors[0].field == "title"


@pytest.mark.parametrize("path,body", [
    ("/v1/events", '{"session_id": "s", "item_id": "p1", "event_type": "view", '
                   '"query": "\\ud800"}'),
    ("/web/impressions", '{"surface": "search", "session_id": "s", "items": ["p1"], '
                         '"query": "\\udfff"}'),
])
def test_lone_surrogates_in_bodies_are_refused_with_their_field(api, path, body) -> None:
    client, keys, _ = api
    reply = client.post(path, content=body.encode(), headers={
        "X-API-Key": keys["search"], "Content-Type": "application/json"})
    assert reply.status_code == 422, reply.text
    assert reply.json()["error"]["field"] == "query"


@pytest.mark.parametrize("raw", ["[" * 100_000 + "]" * 100_000,
                                 '{"value": ' + "1" * 5000 + "}"])
def test_unparseable_json_is_a_400_in_the_documented_shape(api, raw) -> None:
    """Deep nesting (RecursionError) and a 5,000-digit integer (over Python's conversion
    limit) cannot be parsed: 400 bad_json naming the body, never a 500."""
    client, keys, _ = api
    reply = client.post("/v1/events", content=raw.encode(), headers={
        "X-API-Key": keys["search"], "Content-Type": "application/json"})
    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == "bad_json"
    assert reply.json()["error"]["field"] == "body"


def test_events_with_a_nan_value_in_a_batch_name_the_row(api) -> None:
    client, keys, _ = api
    raw = ('[{"session_id": "s", "item_id": "p1", "event_type": "view"}, '
           '{"session_id": "s", "item_id": "p1", "event_type": "rate", "value": NaN}]')
    reply = client.post("/v1/events", content=raw.encode(), headers={
        "X-API-Key": keys["search"], "Content-Type": "application/json"})
    assert reply.status_code == 422 and reply.json()["error"]["field"] == "[1].value"


@pytest.mark.parametrize("field", ["timestamp", "value"])
@pytest.mark.parametrize("flag", [True, False])
def test_a_boolean_is_not_a_number(api, field, flag) -> None:
    """Third attack pass: `"timestamp": true` was read as 1.0 (and refused as "before 2000"),
    `"value": false` stored as 0.0."""
    client, keys, _ = api
    reply = client.post("/v1/events", json={"session_id": "s", "item_id": "p1",
                                            "event_type": "rate", field: flag},
                        headers={"X-API-Key": keys["search"]})
    assert reply.status_code == 422, reply.text
    error = reply.json()["error"]
    assert error["field"] == field and "true / false" in error["message"]


@pytest.mark.parametrize("line", ['{"question": "q?", "answer": "\\ud800"}',
                                  '{"question": ' + "1" * 5000 + ', "answer": "a"}',
                                  "[" * 100_000 + "]" * 100_000])
def test_knowledge_jsonl_that_cannot_be_kept_is_a_422_naming_the_line(api, line) -> None:
    """A JSONL policy document with a surrogate escape or an unconvertible number was a 500."""
    client, keys, _ = api
    reply = client.put("/v1/knowledge", json={"doc_id": "faq", "format": "jsonl",
                                              "text": '{"question": "ok?", "answer": "yes"}\n'
                                              + line}, headers={"X-API-Key": keys["admin"]})
    assert reply.status_code == 422, reply.text
    assert reply.json()["error"]["code"] == "invalid_document"
    assert "faq:2" in reply.json()["error"]["message"]


def test_a_surrogate_in_a_free_form_body_is_a_422_not_a_500(api) -> None:
    """Bodies taken as free-form JSON (an experiment definition) reach a write with a lone
    surrogate in them: the handler answers 422 in the documented shape, nothing is stored."""
    client, keys, _ = api
    spec = ('{"name": "x\\ud800", "kind": "ab", "surface": "for_you", "traffic": 1.0, '
            '"metric": "clicks", "arms": [{"name": "control", "share": 0.5, "overlay": {}}, '
            '{"name": "fusion", "share": 0.5, "overlay": {"ranker": "fusion"}}]}')
    reply = client.post("/v1/admin/experiments", content=spec.encode(), headers={
        "X-API-Key": keys["admin"], "Content-Type": "application/json"})
    assert reply.status_code == 422, reply.text
    assert reply.json()["error"] == {"code": "invalid", "field": "body",
                                     "message": reply.json()["error"]["message"]}
    listed = client.get("/v1/admin/experiments", headers={"X-API-Key": keys["admin"]})
    assert listed.status_code == 200 and listed.json()["experiments"] == []


WRONG_BODIES = [b"null", b"1", b'"x"', b"[[]]", b"{}", b'{"a": {"b": {"c": [1, {"d": null}]}}}',
                b'{"items": "p1", "user_id": 5, "item_id": 7, "event_type": 9}',
                b'{"message": 1e999, "k": -1, "items": [1e400]}', b"\xef\xbb\xbf{}",
                b'{"user_id": ["u"], "item_id": {"x": 1}, "list": null, "total": "many"}']


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory):
    """A home of its own: the admin-key bodies here may change what `api`'s tests read."""
    yield from _serve(tmp_path_factory.mktemp("bodies"))


def test_wrong_json_on_every_body_route_is_a_documented_4xx(fresh) -> None:
    """Session 15's attack pass: every route that takes a body (read from the OpenAPI
    document, so a new one is covered), each wrong-typed body, with the public and the admin
    key: never a 5xx, and every refusal in the documented shape."""
    client, keys, _ = fresh
    paths = client.get("/openapi.json").json()["paths"]
    routes = sorted({(method.upper(), path.replace("{", "").replace("}", ""))
                     for path, operations in paths.items() for method in operations
                     if method in ("post", "put")}
                    | {("POST", "/web/impressions"), ("POST", "/web/session"), ("POST", "/mcp")})
    assert len(routes) >= 20, routes  # events, feedback, chat, items, experiments, ...
    seen = 0
    for method, path in routes:
        for body in WRONG_BODIES:
            for scope in ("search", "admin"):
                reply = client.request(method, path, content=body, headers={
                    "X-API-Key": keys[scope], "Content-Type": "application/json"})
                assert reply.status_code < 500, (method, path, body, scope, reply.text)
                if path == "/mcp":  # MCP's own protocol: a JSON-RPC error
                    assert reply.json()["error"]["code"] < 0, reply.text
                elif reply.status_code >= 400:
                    error = reply.json()["error"]
                    assert set(error) == {"code", "message", "field"}, (path, reply.text)
                seen += 1
    assert seen == len(routes) * len(WRONG_BODIES) * 2
