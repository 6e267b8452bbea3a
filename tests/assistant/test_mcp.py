"""The MCP server with the official SDK's client: over stdio (`shopsense mcp` as a
subprocess on the demo home) and over streamable HTTP (`/mcp` on the API, served by uvicorn
on loopback, behind a search-scope key)."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import anyio
import pytest

mcp = pytest.importorskip("mcp", reason="the mcp extra is not installed")
httpx2 = pytest.importorskip("httpx2")
from mcp import Client  # noqa: E402
from mcp.client.stdio import StdioServerParameters  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402

TOOLS = {"search", "get_item", "compare", "similar", "recommend", "knowledge", "add_to_cart",
         "view_cart"}
SRC = Path(__file__).resolve().parents[2] / "src"


def _data(result: Any) -> dict[str, Any]:
    assert not result.is_error, result
    if result.structured_content:
        return result.structured_content
    return json.loads(result.content[0].text)


async def _exercise(client: Any, session: str) -> dict[str, Any]:
    """List the tools and call each kind once; returns what was seen."""
    listed = {t.name for t in (await client.list_tools()).tools}
    found = _data(await client.call_tool("search", {"query": "空调", "k": 3,
                                                    "price_max": 5000}))
    first = found["items"][0]
    item = _data(await client.call_tool("get_item", {"item_id": first["item_id"]}))
    pair = [i["item_id"] for i in found["items"][:2]]
    compared = _data(await client.call_tool("compare", {"item_ids": pair}))
    similar = _data(await client.call_tool("similar", {"item_id": first["item_id"], "k": 3}))
    recs = await client.call_tool("recommend", {"session": session, "k": 3})
    policy = _data(await client.call_tool("knowledge", {"question": "what is your return "
                                                        "policy?", "language": "en"}))
    added = _data(await client.call_tool("add_to_cart", {"item_id": first["item_id"],
                                                         "session": session}))
    cart = await client.call_tool("view_cart", {"session": session})
    bad = await client.call_tool("get_item", {"item_id": "no-such-item"})
    return {"listed": listed, "found": found, "item": item, "compared": compared,
            "similar": similar, "recs": recs, "policy": policy, "added": added, "cart": cart,
            "bad": bad}


def _assert_seen(seen: dict[str, Any], shop: Any, *, personal: bool = True) -> None:
    assert TOOLS <= seen["listed"]
    items = seen["found"]["items"]
    assert items and all(i["category"] == "家电 > 空调" and i["price"] <= 5000 for i in items)
    stored = shop.products[items[0]["item_id"]]
    assert seen["item"]["title"] == stored.title and seen["item"]["price"] == stored.price
    assert len(seen["compared"]["items"]) == 2 and "|" in seen["compared"]["table"]
    assert seen["similar"]["items"]
    assert seen["policy"]["answered"] and "7 days" in seen["policy"]["passage"]["text"]
    assert seen["added"]["added"]
    if personal:
        assert _data(seen["recs"])["items"]
        assert _data(seen["cart"])["items"][0]["item_id"] == items[0]["item_id"]
    else:  # a search key is public: no shopper's picks or cart without their token
        for tool in ("recs", "cart"):
            text = seen[tool].content[0].text
            assert seen[tool].is_error and "X-Shopper-Token" in text and "admin key" in text
    assert seen["bad"].is_error and "unknown item" in seen["bad"].content[0].text


def test_mcp_over_stdio(demo_shop: Any) -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1"}
    params = StdioServerParameters(command=sys.executable, env=env, args=[
        "-m", "shopsense.cli", "--home", str(demo_shop.settings.home), "mcp"])

    async def main() -> dict[str, Any]:
        async with Client(params, read_timeout_seconds=300) as client:
            return await _exercise(client, "mcp-stdio")

    _assert_seen(anyio.run(main), demo_shop)


@pytest.fixture
def served(demo_shop: Any) -> Any:
    import uvicorn

    from shopsense.api.app import create_app
    from shopsense.api.keys import create_key

    sys.path.insert(0, str(Path(__file__).parent))
    from tool_policy_server import free_port

    app = create_app(demo_shop.settings, shop=demo_shop)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    yield (f"http://127.0.0.1:{port}/mcp", create_key(demo_shop.store, "search"),
           create_key(demo_shop.store, "admin"))
    server.should_exit = True
    thread.join(10)
    sys.path.remove(str(Path(__file__).parent))


@pytest.mark.parametrize("scope", ["search", "admin"])
def test_mcp_over_streamable_http_with_a_key(demo_shop: Any, served: Any, scope: str) -> None:
    url, search_key, admin_key = served
    key = search_key if scope == "search" else admin_key

    async def main() -> dict[str, Any]:
        async with httpx2.AsyncClient(headers={"X-API-Key": key}, timeout=60) as http, \
                Client(streamable_http_client(url, http_client=http)) as client:
            return await _exercise(client, f"mcp-http-{scope}")

    _assert_seen(anyio.run(main), demo_shop, personal=scope == "admin")


def test_mcp_http_needs_a_key(served: Any) -> None:
    url, _, _ = served

    async def main() -> tuple[int, dict[str, Any]]:
        async with httpx2.AsyncClient(timeout=10) as http:
            response = await http.post(url, json={"jsonrpc": "2.0", "id": 1,
                                                  "method": "tools/list"})
            return response.status_code, response.json()

    status, body = anyio.run(main)
    assert status == 401 and body["error"]["code"] == "unauthorised"


def _rpc(http: Any, key: str, rid: int, method: str, params: dict[str, Any]) -> Any:
    return http.post("/mcp", headers={"X-API-Key": key, "Accept": "application/json, "
                                      "text/event-stream"},
                     json={"jsonrpc": "2.0", "id": rid, "method": method, "params": params})


def test_the_app_starts_again_with_mcp(demo_shop: Any) -> None:
    """The SDK's session manager runs once: each start of the app's lifespan gets a fresh
    one, and /mcp answers tool calls after every start (not only the first)."""
    from fastapi.testclient import TestClient

    from shopsense.api.app import create_app
    from shopsense.api.keys import create_key

    app = create_app(demo_shop.settings, shop=demo_shop)
    key = create_key(demo_shop.store, "search")
    stopped = TestClient(app).post("/mcp", headers={"X-API-Key": key}, json={})
    assert stopped.status_code == 503 and stopped.json()["error"]["code"] == "unavailable"
    for start in range(3):
        with TestClient(app) as http:
            assert http.post("/mcp", json={}).status_code == 401  # keys are required
            listed = _rpc(http, key, 1, "tools/list", {})
            assert listed.status_code == 200, listed.text
            assert TOOLS <= {t["name"] for t in listed.json()["result"]["tools"]}
            found = _rpc(http, key, 2, "tools/call",
                         {"name": "search", "arguments": {"query": "空调", "k": 2}})
            assert found.status_code == 200, found.text
            result = found.json()["result"]
            assert not result["isError"], (start, result)
            items = (result.get("structuredContent")
                     or json.loads(result["content"][0]["text"]))["items"]
            assert items and all(i["item_id"] in demo_shop.products for i in items)
    after = TestClient(app).post("/mcp", headers={"X-API-Key": key}, json={})
    assert after.status_code == 503  # stopped again: a clear answer, not a 500
