"""Keys and scopes, JSON errors that name the field, size and rate limits."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shopsense.api.app import create_app
from shopsense.api.keys import create_key, issue_shopper_token
from shopsense.config import ServeSettings, Settings
from shopsense.pipeline.shop import Shop


@pytest.fixture
def client_and_keys(tmp_path: Path):
    settings = Settings(home=tmp_path, serve=ServeSettings(rate_limit_per_s=5.0))
    shop = Shop(settings)
    keys = {"search": create_key(shop.store, "search"), "admin": create_key(shop.store, "admin")}
    with TestClient(create_app(settings, shop)) as client:
        yield client, keys, shop


def test_keys_and_scopes(client_and_keys) -> None:
    client, keys, shop = client_and_keys
    event = {"user_id": "alice", "item_id": "p1", "event_type": "view"}
    assert client.post("/v1/events", json=event).status_code == 401
    assert client.post("/v1/events", json=event,
                       headers={"X-API-Key": keys["search"] + "x"}).status_code == 401
    ok = client.post("/v1/events", json=event, headers={"X-API-Key": keys["search"]})
    assert ok.status_code == 200 and ok.json()["accepted"] == 1
    items = [{"item_id": "p1", "title": "Tent"}]
    denied = client.put("/v1/items", json=items, headers={"X-API-Key": keys["search"]})
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "forbidden"
    assert client.put("/v1/items", json=items,
                      headers={"X-API-Key": keys["admin"]}).json() == {"written": 1, "unchanged": 0}
    # keys are stored hashed only
    stored = shop.store.execute("SELECT key_hash FROM api_keys")
    assert all(k not in str(stored) for k in keys.values())
    audit = shop.store.execute("SELECT action FROM audit_log")
    assert [a for (a,) in audit].count("create_key") == 2


def test_errors_name_the_field_and_nothing_is_half_written(client_and_keys) -> None:
    client, keys, shop = client_and_keys
    headers = {"X-API-Key": keys["search"]}
    batch = [{"user_id": "a", "item_id": "p1", "event_type": "view"},
             {"user_id": "a", "item_id": "p1", "event_type": "teleport"}]
    bad = client.post("/v1/events", json=batch, headers=headers)
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "[1].event_type"
    assert shop.store.count_events() == 0  # the valid first row was not stored either
    missing = client.post("/v1/events", json={"user_id": "a"}, headers=headers)
    assert missing.status_code == 422 and "event_type" in missing.json()["error"]["field"]
    bad_item = client.put("/v1/items", json=[{"item_id": "x", "price": "cheap"}],
                          headers={"X-API-Key": keys["admin"]})
    assert bad_item.status_code == 422 and bad_item.json()["error"]["field"] in (
        "[0].title", "[0].price")
    too_big = client.post("/v1/events", content=b"[" + b" " * 3_000_000 + b"]",
                          headers={**headers, "content-type": "application/json"})
    assert too_big.status_code == 413


def _alice(shop: Shop) -> str:
    """A shopper token for alice (a profile is a personal read: docs/PRIVACY.md)."""
    return issue_shopper_token(shop.ids.secret_chain, shop.ids.user("alice"), 600)[0]


def test_rate_limit_answers_429(client_and_keys) -> None:
    client, keys, shop = client_and_keys
    headers = {"X-API-Key": keys["search"], "X-Shopper-Token": _alice(shop)}
    codes = [client.get("/v1/users/alice/profile", headers=headers).status_code
             for _ in range(30)]
    assert codes[0] == 200 and 429 in codes


def test_metrics_and_health(client_and_keys) -> None:
    client, keys, shop = client_and_keys
    assert client.get("/healthz").json()["status"] == "ok"
    client.get("/v1/users/alice/profile", headers={"X-API-Key": keys["search"],
                                                   "X-Shopper-Token": _alice(shop)})
    text = client.get("/metrics").text
    assert 'shopsense_requests_total{method="GET",route="/v1/users/{user_id}/profile",status="200"}' in text
    assert "shopsense_request_seconds_bucket" in text


def test_a_large_event_batch_commits_off_the_event_loop(tmp_path: Path) -> None:
    """Batches over `serve.events_inline_max` rows run on a worker thread (an import must not
    hold the loop from cheap requests); small ones on the loop. Both store every row, and a
    bad row in a large batch still names its field and stores nothing."""
    import threading

    settings = Settings(home=tmp_path, serve=ServeSettings(events_inline_max=3))
    shop = Shop(settings)
    key = create_key(shop.store, "search")
    threads: list[str] = []
    record = shop.record_events

    def spy(events):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread().name)
        return record(events)

    shop.record_events = spy  # type: ignore[method-assign]
    headers = {"X-API-Key": key}
    with TestClient(create_app(settings, shop)) as client:
        def batch(n: int, bad_at: int | None = None) -> list[dict[str, str]]:
            return [{"user_id": f"u{i}", "item_id": "p1",
                     "event_type": "teleport" if i == bad_at else "view"} for i in range(n)]

        assert client.post("/v1/events", json=batch(3), headers=headers).json()["accepted"] == 3
        assert client.post("/v1/events", json=batch(40), headers=headers).json()["accepted"] == 40
        assert shop.store.count_events() == 43
        bad = client.post("/v1/events", json=batch(40, bad_at=37), headers=headers)
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "[37].event_type"
        assert shop.store.count_events() == 43
        item = {"user_id": "u", "item_id": "p1", "event_type": "purchase", "value": 5}
        grown = client.post("/v1/events", json=[item] * 10, headers=headers).json()
        assert grown["accepted"] == 10 and shop.store.count_events() == 53
    assert len(threads) == 4, threads  # the bad batch too: refused whole by the store
    assert all(t != threads[0] for t in threads[1:]), threads
