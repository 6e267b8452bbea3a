"""Caller-bound personal reads: the public key alone reads nothing personal; a shopper token
(issued with the admin key, or the storefront's cookie) reads only its own shopper's data."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shopsense.api.app import create_app
from shopsense.api.keys import create_key, issue_shopper_token, verify_shopper_token
from shopsense.config import Settings
from shopsense.explain.reasons import PROFILE_CODES
from shopsense.pipeline.shop import Shop
from shopsense.privacy.rekey import rotate_secret
from shopsense.training.lifecycle import quick_recs, wire_online_updates

PERSONAL = ("profile", "explain_user", "explain_session", "propensity")


@pytest.fixture(scope="module")
def shared_api(demo_home_template: Path, tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("tokens") / "home"
    shutil.copytree(demo_home_template, home)
    shop = Shop(Settings(home=home))
    shop.models.recs = quick_recs(shop)
    wire_online_updates(shop)
    keys = {"search": create_key(shop.store, "search"), "admin": create_key(shop.store, "admin")}
    item, now = sorted(shop.products)[0], time.time()
    shop.record_events([{"user_id": "alice", "session_id": "web-alice-0001", "item_id": item,
                         "event_type": "view", "timestamp": now},
                        {"user_id": "bob", "item_id": item, "event_type": "cart", "timestamp": now},
                        {"session_id": "web-anon-0001", "item_id": item, "event_type": "view",
                         "timestamp": now}])
    with TestClient(create_app(shop.settings, shop)) as client:
        yield client, keys, shop, item


@pytest.fixture
def api(shared_api):
    shared_api[0].cookies.clear()
    return shared_api


def _read(client: TestClient, what: str, item: str, headers: dict[str, str],
          who: str = "alice") -> object:
    if what == "profile":
        return client.get(f"/v1/users/{who}/profile", headers=headers)
    if what == "explain_user":
        return client.get("/v1/explain", params={"item": item, "user": who}, headers=headers)
    if what == "explain_session":
        return client.get("/v1/explain", params={"item": item, "session": "web-alice-0001"},
                          headers=headers)
    return client.get("/v1/propensity", params={"user": who}, headers=headers)


def _token(client: TestClient, keys: dict[str, str], **body: str) -> str:
    reply = client.post("/v1/shopper-tokens", json=body, headers={"X-API-Key": keys["admin"]})
    assert reply.status_code == 200, reply.text
    return reply.json()["token"]


@pytest.mark.parametrize("what", PERSONAL)
def test_public_key_alone_reads_nothing_personal(api, what: str) -> None:
    client, keys, _, item = api
    reply = _read(client, what, item, {"X-API-Key": keys["search"]})
    assert reply.status_code == 401
    error = reply.json()["error"]
    assert error["code"] == "shopper_token_required" and error["field"] in ("user", "session")
    assert "alice" not in reply.text and "categories" not in reply.text


@pytest.mark.parametrize("what", PERSONAL)
def test_own_token_reads_other_token_is_forbidden(api, what: str) -> None:
    client, keys, _, item = api
    alice = _token(client, keys, user_id="alice")
    own = _read(client, what, item, {"X-API-Key": keys["search"], "X-Shopper-Token": alice})
    assert own.status_code in (200, 404, 503), own.text  # 503: propensity not trained here
    bob = _token(client, keys, user_id="bob")
    other = _read(client, what, item, {"X-API-Key": keys["search"], "X-Shopper-Token": bob})
    assert other.status_code == 403 and other.json()["error"]["code"] == "forbidden"
    admin = _read(client, what, item, {"X-API-Key": keys["admin"]})
    assert admin.status_code == own.status_code


def test_profile_with_token_is_the_shoppers(api) -> None:
    client, keys, _, _ = api
    alice = _token(client, keys, user_id="alice")
    profile = client.get("/v1/users/alice/profile",
                         headers={"X-API-Key": keys["search"], "X-Shopper-Token": alice})
    assert profile.status_code == 200 and profile.json()["events"] == 1


def test_tokens_expire_and_cannot_be_forged(api) -> None:
    client, keys, shop, _ = api
    headers = {"X-API-Key": keys["search"]}
    actor = shop.ids.user("alice")
    expired, _ = issue_shopper_token(shop.ids.secret_chain, actor, 60, now=time.time() - 120)
    good, expires = issue_shopper_token(shop.ids.secret_chain, actor, 600)
    parts = good.split(".")
    forged = [".".join([parts[0], shop.ids.user("bob"), parts[2], parts[3]]),  # other shopper
              ".".join([parts[0], parts[1], str(expires + 10**6), parts[3]]),  # longer life
              good[:-1] + ("0" if good[-1] != "0" else "1"), "sst.x", "x" * 500]
    for token in (expired, *forged):
        reply = client.get("/v1/users/alice/profile",
                           headers={**headers, "X-Shopper-Token": token})
        assert reply.status_code in (401, 403), token
    assert verify_shopper_token(shop.ids.secret_chain, good) == actor
    assert verify_shopper_token(shop.ids.secret_chain, expired) is None


def test_search_key_cannot_issue_tokens(api) -> None:
    client, keys, _, _ = api
    reply = client.post("/v1/shopper-tokens", json={"user_id": "alice"},
                        headers={"X-API-Key": keys["search"]})
    assert reply.status_code == 403
    empty = client.post("/v1/shopper-tokens", json={}, headers={"X-API-Key": keys["admin"]})
    assert empty.status_code == 422 and empty.json()["error"]["field"] == "user_id"


def test_session_token_and_linked_sessions(api) -> None:
    client, keys, _, item = api
    headers = {"X-API-Key": keys["search"]}
    session = _token(client, keys, session_id="web-anon-0001")
    own = client.get("/v1/explain", params={"item": item, "session": "web-anon-0001"},
                     headers={**headers, "X-Shopper-Token": session})
    assert own.status_code in (200, 404)
    as_user = client.get("/v1/users/alice/profile", headers={**headers,
                                                             "X-Shopper-Token": session})
    assert as_user.status_code == 403
    alice = _token(client, keys, user_id="alice")  # a user's token covers her linked session
    linked = client.get("/v1/explain", params={"item": item, "session": "web-alice-0001"},
                        headers={**headers, "X-Shopper-Token": alice})
    assert linked.status_code in (200, 404)


def test_secret_rotation_revokes_tokens(home: Path) -> None:
    shop = Shop(Settings(home=home))
    alice, _ = issue_shopper_token(shop.ids.secret_chain, shop.ids.user("alice"), 600)
    assert verify_shopper_token(shop.ids.secret_chain, alice) == shop.ids.user("alice")
    rotate_secret(shop.settings.home, shop.store)
    rotated = Shop(shop.settings)
    assert verify_shopper_token(rotated.ids.secret_chain, alice) is None


def test_storefront_cookie(api) -> None:
    client, keys, _, item = api
    headers = {"X-API-Key": keys["search"]}
    opened = client.post("/web/session", json={"session_id": "web-fresh-00001"}, headers=headers)
    assert opened.status_code == 200 and opened.json()["kind"] == "session"
    cookie = opened.headers["set-cookie"]
    assert "ss_shopper=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    reply = client.get("/v1/explain", params={"item": item, "session": "web-fresh-00001"},
                       headers=headers)
    assert reply.status_code in (200, 404)  # the cookie went with it
    other = client.get("/v1/explain", params={"item": item, "session": "web-anon-0001"},
                       headers=headers)
    assert other.status_code == 403
    # sign-in: a new shopper (nothing to read yet) may; one with a history may not
    new = client.post("/web/session", json={"session_id": "web-fresh-00001",
                                            "user_id": "carol-new"}, headers=headers)
    assert new.status_code == 200 and new.json()["kind"] == "user"
    taken = client.post("/web/session", json={"session_id": "web-fresh-00001",
                                              "user_id": "bob"}, headers=headers)
    assert taken.status_code == 403 and taken.json()["error"]["code"] == "sign_in_required"
    client.cookies.clear()
    assert client.get("/v1/users/carol-new/profile", headers=headers).status_code == 401


def test_demo_showcase_shoppers_sign_in_on_a_demo_home(api) -> None:
    client, keys, shop, _ = api
    headers = {"X-API-Key": keys["search"]}
    assert (shop.settings.home / "demo" / "queries.jsonl").is_file()
    opened = client.post("/web/session", json={"session_id": "web-demo-00001",
                                               "user_id": "u00001"}, headers=headers)
    assert opened.status_code == 200
    assert client.get("/v1/users/u00001/profile", headers=headers).status_code == 200
    assert client.get("/v1/users/u00009/profile", headers=headers).status_code == 403


def _cited(body: dict) -> list[dict]:
    return [r for item in body["results"] for r in item["reasons"]
            if r["code"] in PROFILE_CODES or (r.get("evidence") or {}).get("because_item")]


def test_personalised_lists_are_the_shoppers_only_with_her_token(api) -> None:
    """Recommendations for alice asked with the public key alone are a visitor's (the same
    as asking for nobody) and say why; with her token they are hers, reasons and all.
    (Over a real server, every list, other shoppers' tokens: test_personal_lists.py.)"""
    client, keys, _, item = api
    public = {"X-API-Key": keys["search"]}
    own = {**public, "X-Shopper-Token": _token(client, keys, user_id="alice")}
    for path, params in (("/v1/recommend", {"user": "alice", "k": 20}),
                         (f"/v1/items/{item}/similar", {"user": "alice", "k": 20})):
        theirs = client.get(path, params=params, headers=public).json()
        nobody = client.get(path, params={"k": 20}, headers=public).json()
        assert [r["item_id"] for r in theirs["results"]] == [
            r["item_id"] for r in nobody["results"]]
        assert theirs["personalisation_withheld"]["code"] == "shopper_token_required"
        mine = client.get(path, params=params, headers=own).json()
        assert "personalisation_withheld" not in mine
        if path == "/v1/recommend":
            assert theirs["surface"] == "trending" and mine["surface"] == "for_you"
            assert _cited(theirs) == [] and _cited(mine), "the shopper herself sees why"
    nxt = client.post("/v1/next", json={"user": "alice", "items": [item]}, headers=public)
    assert nxt.status_code == 200 and nxt.json()["personalisation_withheld"]["field"] == "user"


@pytest.mark.parametrize("storefront_login", [False, True])
def test_a_shop_signs_in_no_new_id_through_the_storefront(
        demo_home_template: Path, tmp_path: Path, storefront_login: bool) -> None:
    """Outside a demo home the storefront signs nobody in by id alone, not even an id never
    seen: its first claimant would read that shopper's data once they start shopping. The
    shop's backend vouches (the admin key's token, here set as the cookie); the browser whose
    cookie already belongs to the user may sign in again. `privacy.storefront_login` opts in."""
    home = tmp_path / "shop"
    shutil.copytree(demo_home_template, home)
    (home / "demo" / "queries.jsonl").unlink()  # not a demo home any more
    settings = Settings(home=home, privacy={"storefront_login": storefront_login})
    shop = Shop(settings)
    search = {"X-API-Key": create_key(shop.store, "search")}
    with TestClient(create_app(settings, shop)) as client:
        def sign_in(user: str, token: str | None = None) -> int:
            own = {"X-Shopper-Token": token} if token else {}
            return client.post("/web/session", json={"session_id": "web-claimer-0001",
                                                     "user_id": user},
                               headers={**search, **own}).status_code

        assert sign_in("dave@example.com") == (200 if storefront_login else 403)
        assert sign_in("u00001") == 403  # showcase shoppers are a demo home's only
        client.cookies.clear()
        assert client.post("/web/session", json={"session_id": "web-claimer-0001"},
                           headers=search).status_code == 200  # the anonymous session still
        token, _ = issue_shopper_token(shop.ids.secret_chain, shop.ids.user("erin"), 600)
        assert sign_in("erin", token) == 200  # the token the shop's backend handed the browser
        assert sign_in("frank", token) == (200 if storefront_login else 403)
        client.cookies.clear()
        shop.record_events([{"user_id": "dave@example.com", "item_id": sorted(shop.products)[0],
                             "event_type": "view", "timestamp": time.time()}])
        assert client.get("/v1/users/dave@example.com/profile",
                          headers=search).status_code == 401
