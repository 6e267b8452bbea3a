"""The storefront chat panel in headless chromium: open it, hold a two-turn conversation,
see product cards and a comparison table rendered from the assistant's replies."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser
CHROMIUM = Path(os.environ.get("SHOPSENSE_CHROMIUM", "/usr/bin/chromium"))
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server_url(demo_shop: Any) -> Iterator[str]:
    import uvicorn

    from shopsense.api.app import create_app
    from shopsense.api.keys import create_key

    app = create_app(demo_shop.settings, demo_shop)
    app.state.public_key = create_key(demo_shop.store, "search")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started and time.time() < deadline and thread.is_alive():
        time.sleep(0.05)
    if not server.started:
        raise RuntimeError("the test server did not start")
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    assistant = getattr(app.state, "assistant", None)
    if assistant is not None:
        demo_shop.erasure_listeners.remove(assistant.conversations.forget_user)


def test_chat_panel_conversation(server_url: str) -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing")
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=["--no-sandbox", "--disable-gpu",
                                           "--disable-dev-shm-usage"])
        context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
            server_url) else route.abort())
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(server_url + "/")
        page.click("#chat-open")
        page.fill("#chat-panel input", "最近有什么新款手机推荐")
        page.press("#chat-panel input", "Enter")
        page.wait_for_selector(".chat-bot[data-act='search'] .chat-card")
        assert page.locator(".chat-bot[data-act='search'] .chat-card").count() >= 2
        page.click(".chat-chip:has-text('这两个哪个好')")
        page.wait_for_selector(".chat-bot[data-act='compare'] table.chat-table")
        assert "价格" in page.locator(".chat-bot[data-act='compare'] table").inner_text()
        page.click("#lang")
        page.wait_for_function("document.querySelector('#chat-open span').textContent"
                               " === 'Ask the assistant'")
        page.fill("#chat-panel input", "is the first one in stock?")
        page.press("#chat-panel input", "Enter")
        page.wait_for_selector(".chat-bot[data-act='question']")
        assert "stock" in page.locator(".chat-bot[data-act='question']").inner_text()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "assistant-chat-panel.png"))
        browser.close()
    assert not errors, errors
