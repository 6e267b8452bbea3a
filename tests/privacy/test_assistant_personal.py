"""The assistant's personal entry points are bound to the caller like the profile (issue #15):
a chat turn or a conversation read that names a shopper needs that shopper's token (header or
the storefront's cookie) or the admin key; the public key alone gets 401, another shopper's
token 403, and a conversation of one shopper is never continued (read) by another caller.
The same holds for the `/mcp` shopper tools. Per-shopper rate limits key on the verified
token, so rotating a raw `user=` buys nothing."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shopsense.api.app import create_app
from shopsense.api.keys import create_key

PEER = "203.0.113.21"  # a client address (TEST-NET-3)


@pytest.fixture(scope="module")
def chat_api(demo_shop: Any):
    item = sorted(demo_shop.products)[0]
    now = time.time()
    demo_shop.record_events([
        {"user_id": "alice-chat", "item_id": item, "event_type": "cart", "timestamp": now},
        {"user_id": "bob-chat", "item_id": item, "event_type": "view", "timestamp": now}])
    keys = {"search": create_key(demo_shop.store, "search"),
            "admin": create_key(demo_shop.store, "admin")}
    app = create_app(demo_shop.settings, demo_shop)
    with TestClient(app, client=(PEER, 40000)) as client:
        yield client, keys, item
    assistant = getattr(app.state, "assistant", None)
    if assistant is not None:
        demo_shop.erasure_listeners.remove(assistant.conversations.forget_user)


@pytest.fixture
def api(chat_api):
    chat_api[0].cookies.clear()
    return chat_api


def _token(client: TestClient, keys: dict[str, str], **body: str) -> str:
    reply = client.post("/v1/shopper-tokens", json=body, headers={"X-API-Key": keys["admin"]})
    assert reply.status_code == 200, reply.text
    return reply.json()["token"]


def _chat(client: TestClient, key: str, token: str | None = None, **body: Any) -> Any:
    headers = {"X-API-Key": key, **({"X-Shopper-Token": token} if token else {})}
    return client.post("/v1/assistant/chat", json=body, headers=headers)


@pytest.mark.parametrize("who", [{"user": "alice-chat"}, {"session": "web-alice-chat-01"},
                                 {"user": "alice-chat", "personalise": False}])
def test_public_key_alone_gets_no_personal_turn(api, who: dict[str, Any]) -> None:
    client, keys, _ = api
    reply = _chat(client, keys["search"], message="recommend something", **who)
    assert reply.status_code == 401, reply.text
    error = reply.json()["error"]
    assert error["code"] == "shopper_token_required" and error["field"] in ("user", "session")
    assert "items" not in reply.json()


def test_another_shoppers_token_is_forbidden_and_bad_tokens_invalid(api) -> None:
    client, keys, _ = api
    bob = _token(client, keys, user_id="bob-chat")
    reply = _chat(client, keys["search"], bob, message="recommend something", user="alice-chat")
    assert reply.status_code == 403 and reply.json()["error"]["code"] == "forbidden"
    forged = bob.rsplit(".", 1)[0] + ".0123456789abcdef0123456789abcdef"
    reply = _chat(client, keys["search"], forged, message="hi", user="bob-chat")
    assert reply.status_code == 401 and reply.json()["error"]["code"] == "invalid_shopper_token"


def test_own_token_chats_and_an_anonymous_turn_needs_none(api) -> None:
    client, keys, _ = api
    alice = _token(client, keys, user_id="alice-chat")
    own = _chat(client, keys["search"], alice, message="headphones under 500", user="alice-chat")
    assert own.status_code == 200 and own.json()["items"], own.text
    anonymous = _chat(client, keys["search"], message="headphones under 500")
    assert anonymous.status_code == 200 and anonymous.json()["items"]
    admin = _chat(client, keys["admin"], message="headphones under 500", user="alice-chat")
    assert admin.status_code == 200  # the shop's backend reads its shoppers' data


def test_a_conversation_is_continued_only_by_its_shopper(api) -> None:
    client, keys, _ = api
    alice, bob = (_token(client, keys, user_id=u) for u in ("alice-chat", "bob-chat"))
    first = _chat(client, keys["search"], alice, message="headphones under 500",
                  user="alice-chat").json()
    cid = first["conversation_id"]
    assert first["constraints"]["price_max"] == 500.0
    stolen = _chat(client, keys["search"], message="not Sony", conversation_id=cid,
                   user="alice-chat")
    assert stolen.status_code == 401
    other = _chat(client, keys["search"], bob, message="not Sony", conversation_id=cid,
                  user="bob-chat").json()  # bob's own conversation of that id: a fresh one
    assert other["constraints"].get("price_max") != 500.0
    anonymous = _chat(client, keys["search"], message="not Sony", conversation_id=cid).json()
    assert anonymous["constraints"].get("price_max") != 500.0
    again = _chat(client, keys["search"], alice, message="not Sony", conversation_id=cid,
                  user="alice-chat").json()
    assert again["constraints"]["price_max"] == 500.0  # alice's own state was kept


def test_forgetting_a_conversation_is_personal_too(api) -> None:
    client, keys, _ = api
    alice = _token(client, keys, user_id="alice-chat")
    cid = _chat(client, keys["search"], alice, message="phones", user="alice-chat"
                ).json()["conversation_id"]
    path = f"/v1/assistant/conversations/{cid}"
    public = client.delete(path, params={"user": "alice-chat"},
                           headers={"X-API-Key": keys["search"]})
    assert public.status_code == 401
    own = client.delete(path, params={"user": "alice-chat"},
                        headers={"X-API-Key": keys["search"], "X-Shopper-Token": alice})
    assert own.status_code == 200 and own.json()["forgotten"]


def test_the_storefront_cookie_carries_the_chat(api) -> None:
    client, keys, _ = api
    session = "web-cookie-chat-0001"
    opened = client.post("/web/session", json={"session_id": session},
                         headers={"X-API-Key": keys["search"]})
    assert opened.status_code == 200 and "ss_shopper" in client.cookies
    reply = _chat(client, keys["search"], message="空调", session=session)
    assert reply.status_code == 200 and reply.json()["items"]
    elsewhere = _chat(client, keys["search"], message="空调", session="web-someone-else-01")
    assert elsewhere.status_code == 403


def _rpc(client: TestClient, key: str, name: str, arguments: dict[str, Any],
         token: str | None = None) -> dict[str, Any]:
    headers = {"X-API-Key": key, "Accept": "application/json, text/event-stream",
               **({"X-Shopper-Token": token} if token else {})}
    reply = client.post("/mcp", headers=headers, json={
        "jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": name, "arguments": arguments}})
    assert reply.status_code == 200, reply.text
    return reply.json()["result"]


def test_mcp_shopper_tools_need_the_shoppers_token(api) -> None:
    pytest.importorskip("mcp")
    client, keys, item = api
    alice, bob = (_token(client, keys, user_id=u) for u in ("alice-chat", "bob-chat"))
    for tool in ("recommend", "view_cart"):
        public = _rpc(client, keys["search"], tool, {"user": "alice-chat"})
        assert public["isError"] and "X-Shopper-Token" in public["content"][0]["text"]
        other = _rpc(client, keys["search"], tool, {"user": "alice-chat"}, bob)
        assert other["isError"] and "another shopper" in other["content"][0]["text"]
        own = _rpc(client, keys["search"], tool, {"user": "alice-chat"}, alice)
        assert not own["isError"], own
    cart = _rpc(client, keys["search"], "view_cart", {"user": "alice-chat"}, alice)
    items = (cart.get("structuredContent") or json.loads(cart["content"][0]["text"]))["items"]
    assert [i["item_id"] for i in items] == [item]
    popular = _rpc(client, keys["search"], "recommend", {"k": 3})
    assert not popular["isError"]  # naming nobody: popular items, for anyone


def test_mcp_takes_bearer_keys_and_refuses_keys_in_the_url(api) -> None:
    pytest.importorskip("mcp")
    client, keys, _ = api
    listed = client.post("/mcp", headers={"Authorization": f"Bearer {keys['search']}",
                                          "Accept": "application/json, text/event-stream"},
                         json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert listed.status_code == 200 and listed.json()["result"]["tools"]
    in_url = client.post("/mcp", params={"api_key": keys["search"]}, json={})
    assert in_url.status_code == 400 and in_url.json()["error"]["code"] == "key_in_url"


def test_mcp_get_is_refused_at_once_not_held_open(api) -> None:
    """Stateless /mcp has no server-initiated stream: a GET (an SSE stream request) was held
    open with no answer at all, a connection per request for as long as the client liked."""
    pytest.importorskip("mcp")
    client, keys, _ = api
    reply = client.get("/mcp", headers={"X-API-Key": keys["search"],
                                        "Accept": "text/event-stream"})
    assert reply.status_code == 405 and "POST" in reply.headers["allow"]
    assert reply.json()["error"]["code"] == "method_not_allowed"
