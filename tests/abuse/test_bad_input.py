"""Bounded inputs (issue #15, items 7, 10, 13): every bad input is a documented JSON error that
names its field, and nothing of a refused batch is stored."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shopsense.api.app import create_app
from shopsense.api.keys import create_key
from shopsense.config import IngestSettings, ServeSettings, Settings
from shopsense.ingest.validate import RowInvalid, TimeBounds, valid_item_id, validate_event
from shopsense.pipeline.shop import Shop

ITEMS = [{"item_id": "p1", "title": "格力空调 1.5匹", "price": 2999.0},
         {"item_id": "p2", "title": "Running shoes", "price": 79.0}]


@pytest.fixture
def api(tmp_path: Path):
    settings = Settings(home=tmp_path, serve=ServeSettings(rate_limit_per_s=10_000.0))
    shop = Shop(settings)
    shop.upsert_items(ITEMS)
    keys = {"search": create_key(shop.store, "search"), "admin": create_key(shop.store, "admin")}
    with TestClient(create_app(settings, shop), raise_server_exceptions=False) as client:
        yield client, keys, shop


def _error(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "field"}
    if field is not None:
        assert body["error"]["field"] == field, body
    return body["error"]


def _event(**extra) -> dict:
    return {"user_id": "alice", "item_id": "p1", "event_type": "view", **extra}


@pytest.mark.parametrize("timestamp", [
    "2100-01-01T00:00:00Z", 1e300, 4_102_444_800, 4_102_444_800_000, "1999-12-31T23:59:59Z",
    946_684_799, 0, -5, "1e300", "nan", "inf"])
def test_event_times_outside_the_bounds_are_refused(api, timestamp) -> None:
    client, keys, shop = api
    response = client.post("/v1/events", json=[_event(), _event(timestamp=timestamp)],
                           headers={"X-API-Key": keys["search"]})
    _error(response, 422, "[1].timestamp")
    assert shop.store.count_events() == 0


def test_event_times_inside_the_bounds_are_kept(api) -> None:
    client, keys, shop = api
    now = time.time()
    good = [_event(timestamp=now + 300), _event(timestamp=int(now * 1000), event_type="click"),
            _event(timestamp="2001-01-01T00:00:00+08:00", event_type="cart"), _event()]
    response = client.post("/v1/events", json=good, headers={"X-API-Key": keys["search"]})
    assert response.status_code == 200 and response.json()["accepted"] == 4
    stored = sorted(ts for (ts,) in shop.store.execute("SELECT timestamp FROM events"))
    assert stored[0] == pytest.approx(978_278_400.0)  # 2001-01-01 00:00 +08:00
    assert all(abs(ts - now) < 400 for ts in stored[1:])  # ms read as ms


def test_the_future_skew_is_configurable(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, ingest=IngestSettings(max_future_skew_s=3600))
    shop = Shop(settings)
    shop.upsert_items(ITEMS)
    assert shop.record_events([_event(timestamp=time.time() + 1800)])["accepted"] == 1
    with pytest.raises(Exception, match="in the future"):
        shop.record_events([_event(timestamp=time.time() + 7200)])


def test_file_imports_keep_history_but_not_the_future() -> None:
    from shopsense.ids import Pseudonymizer

    ids = Pseudonymizer((b"k" * 32,))
    assert validate_event(_event(timestamp=874_965_758), ids).timestamp == 874_965_758  # MovieLens 1997
    with pytest.raises(RowInvalid, match="future"):
        validate_event(_event(timestamp="2100-01-01"), ids)
    with pytest.raises(RowInvalid, match="before 2000"):
        validate_event(_event(timestamp=874_965_758), ids, TimeBounds())


@pytest.mark.parametrize("raw, field", [
    (b'{"user_id":"a","item_id":"p1","event_type":"rate","value":NaN}', "value"),
    (b'{"user_id":"a","item_id":"p1","event_type":"rate","value":Infinity}', "value"),
    (b'{"user_id":"a","item_id":"p1","event_type":"purchase","value":-Infinity}', "value"),
    (b'{"user_id":"a","item_id":"p1","event_type":"rate","value":"nan"}', "value"),
])
def test_nan_and_infinite_event_values_are_refused(api, raw, field) -> None:
    client, keys, shop = api
    response = client.post("/v1/events", content=raw, headers={
        "X-API-Key": keys["search"], "content-type": "application/json"})
    _error(response, 422, field)
    assert shop.store.count_events() == 0


@pytest.mark.parametrize("price", ["NaN", "Infinity", "-Infinity", '"nan"', '"inf"'])
def test_nan_and_infinite_prices_are_refused(api, price) -> None:
    client, keys, shop = api
    raw = f'[{{"item_id":"p9","title":"Tent","price":{price}}}]'.encode()
    response = client.put("/v1/items", content=raw, headers={
        "X-API-Key": keys["admin"], "content-type": "application/json"})
    _error(response, 422, "[0].price")
    assert "p9" not in shop.products


@pytest.mark.parametrize("item_id", ["../../etc/passwd", "a/b", "..", "a b", "x\x00y", "a?b",
                                     "a#b", "\\windows", "tab\tid", "x" * 257])
def test_item_ids_outside_the_character_set_are_refused(api, item_id) -> None:
    client, keys, shop = api
    event = client.post("/v1/events", json=_event(item_id=item_id),
                        headers={"X-API-Key": keys["search"]})
    _error(event, 422, "item_id")
    put = client.put("/v1/items", json=[{"item_id": item_id, "title": "Tent"}],
                     headers={"X-API-Key": keys["admin"]})
    _error(put, 422, "[0].item_id")
    assert shop.store.count_events() == 0 and item_id not in shop.products


@pytest.mark.parametrize("item_id", ["p1", "SKU-00:12", "商品_7", "a.b", "x@y+z=w~v", "9" * 256])
def test_item_ids_in_the_character_set_are_accepted_and_fetchable(api, item_id) -> None:
    client, keys, _ = api
    assert valid_item_id(item_id)
    put = client.put("/v1/items", json=[{"item_id": item_id, "title": "Tent"}],
                     headers={"X-API-Key": keys["admin"]})
    assert put.status_code == 200, put.text
    got = client.get(f"/v1/items/{item_id}", headers={"X-API-Key": keys["search"]})
    assert got.status_code == 200 and got.json()["item_id"] == item_id


def test_parse_errors_and_routing_errors_answer_the_documented_shape(api) -> None:
    client, keys, _ = api
    headers = {"X-API-Key": keys["search"], "content-type": "application/json"}
    assert _error(client.post("/v1/events", content=b'{"user_id": ', headers=headers),
                  400, "body")["code"] == "bad_json"
    assert _error(client.post("/v1/events", content=b"\xff\xfe", headers=headers), 400)
    _error(client.post("/v1/events", content=b'"just a string"', headers=headers), 422)
    _error(client.get("/v1/no-such-thing", headers=headers), 404)
    _error(client.delete("/v1/search", headers=headers), 405)
    _error(client.get("/static/x%00"), 404, "path")
    _error(client.get("/static/" + "a" * 5000), 404, "path")
    _error(client.get("/v1/search", params={"k": "1e20"}, headers=headers), 422, "k")
    _error(client.get("/v1/search", params={"k": str(10**30)}, headers=headers), 422, "k")
    _error(client.get("/v1/search", params={"price_min": "nan"}, headers=headers), 422,
           "price_min")


@pytest.mark.parametrize("total", [100000000000000000000, 2**63, -1, 1e20])
def test_huge_numbers_in_impressions_are_refused(api, total) -> None:
    client, keys, _ = api
    body = {"surface": "search", "items": ["p1"], "total": total, "session_id": "s1"}
    _error(client.post("/web/impressions", json=body, headers={"X-API-Key": keys["search"]}),
           422, "total")


def test_an_unexpected_exception_is_a_json_500_not_a_reset(api) -> None:
    client, _, _ = api

    def boom() -> None:
        raise RuntimeError("secret detail")

    client.app.add_api_route("/boom", boom)
    response = client.get("/boom")
    error = _error(response, 500)
    assert error["code"] == "internal" and "secret" not in response.text
    assert client.get("/healthz").status_code == 200


def test_search_query_length_is_capped(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, serve=ServeSettings(max_query_chars=50,
                                                           require_keys=False))
    with TestClient(create_app(settings, Shop(settings))) as client:
        _error(client.get("/v1/search", params={"q": "空" * 51}), 422, "q")
        _error(client.get("/v1/search", params={"q": "a" * 501}), 422, "q")
