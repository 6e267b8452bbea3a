"""Personalised lists over a real HTTP server (uvicorn on loopback): search, recommendations,
similar, bought-together and next are computed for a named shopper only when the caller
vouches for that shopper (the admin key, or the shopper's own token or cookie). Otherwise the
answer is a visitor's (no history), the same as asking for nobody, and says why it is not
personal (`personalisation_withheld`, the documented error body)."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shopsense.api.app import create_app
from shopsense.api.keys import create_key
from shopsense.config import Settings
from shopsense.pipeline.shop import Shop
from shopsense.training.lifecycle import quick_models, wire_online_updates

ALICE_SESSION = "web-alice-session-01"
pytestmark = pytest.mark.slow  # a real server over the demo's quick models (~30 s)


@pytest.fixture(scope="module")
def served(demo_home_template: Path, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[str, dict[str, str], Shop, str]]:
    import uvicorn

    home = tmp_path_factory.mktemp("lists") / "home"
    shutil.copytree(demo_home_template, home)
    shop = Shop(Settings(home=home))
    shop.swap_models(quick_models(shop))  # search and recommendations
    wire_online_updates(shop)
    keys = {"search": create_key(shop.store, "search"), "admin": create_key(shop.store, "admin")}
    items, now = sorted(shop.products)[:3], time.time()
    shop.record_events([  # alice viewed two items (user and her session); bob carted one
        {"user_id": "alice", "session_id": ALICE_SESSION, "item_id": items[0],
         "event_type": "view", "timestamp": now},
        {"user_id": "alice", "session_id": ALICE_SESSION, "item_id": items[1],
         "event_type": "view", "timestamp": now},
        {"session_id": "web-anon-session-01", "item_id": items[2], "event_type": "view",
         "timestamp": now},
        {"user_id": "bob", "item_id": items[2], "event_type": "cart", "timestamp": now}])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(shop.settings, shop), host="127.0.0.1",
                                           port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started, "the server did not start"
    try:
        yield f"http://127.0.0.1:{port}", keys, shop, items[0]
    finally:
        server.should_exit = True
        thread.join(15)


def _token(url: str, keys: dict[str, str], **body: str) -> str:
    reply = httpx.post(url + "/v1/shopper-tokens", json=body,
                       headers={"X-API-Key": keys["admin"]})
    assert reply.status_code == 200, reply.text
    return reply.json()["token"]


def _ask(url: str, surface: str, item: str, headers: dict[str, str], **who: str
         ) -> dict[str, Any]:
    if surface == "next":
        reply = httpx.post(url + "/v1/next", json={"items": [item], "k": 20, **who},
                           headers=headers)
    else:
        path = {"recommend": "/v1/recommend", "search": "/v1/search",
                "similar": f"/v1/items/{item}/similar",
                "bought-together": f"/v1/items/{item}/bought-together"}[surface]
        params = {"k": 20, **({"q": "空调"} if surface == "search" else {}), **who}
        reply = httpx.get(url + path, params=params, headers=headers)
    assert reply.status_code == 200, reply.text
    return reply.json()


def _ids(body: dict[str, Any]) -> list[str]:
    return [r["item_id"] for r in body["results"]]


def _shown(body: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """What a list shows: its items in order, each with its reasons' wording."""
    return [(r["item_id"], [x.get("text_en", "") for x in r["reasons"]]) for r in body["results"]]


def _cites_history(body: dict[str, Any]) -> bool:
    return any((r.get("evidence") or {}).get("because_item") or r["code"] == "affinity"
               for item in body["results"] for r in item["reasons"])


def test_the_public_key_alone_gets_a_visitors_list(served) -> None:
    url, keys, _, _ = served
    public = {"X-API-Key": keys["search"]}
    asked = _ask(url, "recommend", "", public, user="alice")
    anonymous = _ask(url, "recommend", "", public)
    assert asked["surface"] == anonymous["surface"] == "trending"
    assert _ids(asked) == _ids(anonymous)
    assert not _cites_history(asked)
    assert asked["personalisation_withheld"] == {
        "code": "shopper_token_required", "field": "user",
        "message": asked["personalisation_withheld"]["message"]}
    assert "personalisation_withheld" not in anonymous  # nobody named, nothing withheld


@pytest.mark.parametrize("surface", ["recommend", "search", "similar", "bought-together", "next"])
def test_every_list_is_a_visitors_without_the_shoppers_token(served, surface: str) -> None:
    url, keys, _, item = served
    public = {"X-API-Key": keys["search"]}
    bob = {**public, "X-Shopper-Token": _token(url, keys, user_id="bob")}
    anonymous = _shown(_ask(url, surface, item, public))
    for headers, code in ((public, "shopper_token_required"), (bob, "forbidden"),
                          ({**public, "X-Shopper-Token": "sst.u_00.1.ff"},
                           "invalid_shopper_token")):
        for who, field in (({"user": "alice"}, "user"), ({"session": ALICE_SESSION}, "session")):
            body = _ask(url, surface, item, headers, **who)
            assert body["personalisation_withheld"]["code"] == code, (who, body)
            assert body["personalisation_withheld"]["field"] == field
            assert _shown(body) == anonymous, (headers, who)  # a visitor's, word for word


def test_the_shoppers_own_token_and_the_admin_key_get_her_list(served) -> None:
    url, keys, _, _ = served
    public = {"X-API-Key": keys["search"]}
    own = {**public, "X-Shopper-Token": _token(url, keys, user_id="alice")}
    for headers in (own, {"X-API-Key": keys["admin"]}):
        body = _ask(url, "recommend", "", headers, user="alice")
        assert body["surface"] == "for_you" and "personalisation_withheld" not in body
        assert _cites_history(body), "the shopper herself sees why"
    # her user token also covers the session linked to her (its events are hers, so the
    # session alone has no history of its own to show)
    assert "personalisation_withheld" not in _ask(url, "recommend", "", own,
                                                  session=ALICE_SESSION)


def test_a_vouched_session_personalises_when_the_named_user_is_not(served) -> None:
    """The storefront names its signed-in user beside the browser's session; when the
    sign-in was refused the cookie stays the session's: the list is the session's own."""
    url, keys, _, _ = served
    public = {"X-API-Key": keys["search"]}
    session = {**public, "X-Shopper-Token": _token(url, keys, session_id="web-anon-session-01")}
    body = _ask(url, "recommend", "", session, user="alice", session="web-anon-session-01")
    assert body["surface"] == "for_you"
    assert body["personalisation_withheld"]["code"] == "forbidden"
    assert body["personalisation_withheld"]["field"] == "user"


def test_the_storefront_cookie_personalises_its_own_shopper(served) -> None:
    url, keys, _, _ = served
    with httpx.Client(base_url=url, headers={"X-API-Key": keys["search"]}) as browser:
        opened = browser.post("/web/session", json={"session_id": "web-new-browser-01",
                                                    "user_id": "carol-new-shopper"})
        assert opened.status_code == 200 and opened.json()["kind"] == "user"
        assert browser.post("/v1/events", json=[
            {"user_id": "carol-new-shopper", "session_id": "web-new-browser-01",
             "item_id": sorted(browser.get("/v1/trending").json()["results"],
                               key=lambda r: r["item_id"])[0]["item_id"],
             "event_type": "view"}]).json()["accepted"] == 1
        deadline, body = time.time() + 10, {}
        while time.time() < deadline:  # the online update lands in a moment
            body = browser.get("/v1/recommend", params={"user": "carol-new-shopper"}).json()
            if body["surface"] == "for_you":
                break
            time.sleep(0.1)
        assert body["surface"] == "for_you" and "personalisation_withheld" not in body
        other = browser.get("/v1/recommend", params={"user": "alice"}).json()
        assert other["surface"] == "trending"
        assert other["personalisation_withheld"]["code"] == "forbidden"
