"""A real shop for the browser tests: a small seeded demo store in a temp home, the serving
models, a uvicorn server on a free loopback port (in a thread), API keys, and headless Debian
chromium driven by Playwright. Screenshots go to <repo>/test-artifacts/screenshots."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
CHROMIUM = Path(os.environ.get("SHOPSENSE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage"]
DEMO_SIZE = {"n_products": 300, "n_users": 60, "days": 20}


@dataclass
class LiveShop:
    url: str
    home: Path
    shop: Any
    public_key: str
    admin_key: str

    def events(self, event_type: str) -> int:
        return int(self.shop.store.execute(
            "SELECT COUNT(*) FROM events WHERE event_type = ?", (event_type,))[0][0])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _load_demo(home: Path) -> None:
    from shopsense.demo import generate_demo
    from shopsense.ids import Pseudonymizer, ensure_secret
    from shopsense.ingest.pipeline import ingest_file
    from shopsense.store import open_store

    paths = generate_demo(home / "demo", seed=7, **DEMO_SIZE)
    ensure_secret(home)
    store = open_store(f"sqlite:///{home / 'shop.db'}")
    ingest_file(paths.products, "catalog", catalog=store, rejects_dir=home / "rejects")
    ingest_file(paths.events, "events", events=store, pseudonyms=Pseudonymizer.from_home(home),
                rejects_dir=home / "rejects")
    store.close()


def _start_models(shop: Any) -> None:
    """The service's quick model set (search indexes, understanding, recommendations) and its
    online updates, so that events reach the serving models as they do in `make demo`."""
    from shopsense.training.lifecycle import quick_models, wire_online_updates

    shop.swap_models(quick_models(shop))
    wire_online_updates(shop)


@pytest.fixture(scope="session")
def live_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveShop]:
    with serve_live_shop(tmp_path_factory.mktemp("web-home")) as shop:
        yield shop


@contextlib.contextmanager
def serve_live_shop(home: Path) -> Iterator[LiveShop]:
    """The demo shop in `home`, served by a real uvicorn on loopback; a test module that changes
    what serves (promote / roll back) uses its own instead of the session's."""
    import uvicorn

    from shopsense.api.app import create_app
    from shopsense.api.keys import create_key
    from shopsense.config import ServeSettings, Settings
    from shopsense.pipeline.shop import Shop

    _load_demo(home)
    settings = Settings(home=home, serve=ServeSettings(require_keys=True, rate_limit_per_s=1000))
    shop = Shop(settings)
    _start_models(shop)
    app = create_app(settings, shop)
    public_key, admin_key = create_key(shop.store, "search"), create_key(shop.store, "admin")
    app.state.public_key = public_key
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not server.started and time.time() < deadline and thread.is_alive():
        time.sleep(0.05)
    if not server.started:
        raise RuntimeError("the test server did not start")
    yield LiveShop(f"http://127.0.0.1:{port}", home, shop, public_key, admin_key)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module: Playwright's sync API keeps an asyncio loop on the main
    thread while it runs, so it must be closed before other packages' tests (the chat panel's own
    browser, the MCP client's asyncio.run) run — whatever order pytest is given."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (see .ci/run)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                      headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, live_shop: LiveShop) -> Iterator[Any]:
    """A fresh browser context (empty storage) per test; Chinese UI unless a test switches."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                  base_url=live_shop.url)
    context.set_default_timeout(15_000)
    blocked: list[str] = []

    def only_loopback(route: Any) -> None:  # the pages must never fetch from the network
        if route.request.url.startswith(live_shop.url) or route.request.url.startswith(
                ("data:", "blob:")):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_loopback)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert not blocked, f"pages tried to fetch from the network: {blocked[:3]}"
    assert not errors, f"JavaScript errors: {errors[:3]}"


def pytest_configure(config: pytest.Config) -> None:
    """Last run's screenshots go, once per run: here in the controlling process (or the only
    one), never in a pytest-xdist worker, whose siblings may be writing theirs."""
    if not hasattr(config, "workerinput") and SCREENSHOTS.exists():
        shutil.rmtree(SCREENSHOTS)


@pytest.fixture(scope="session")
def shots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SCREENSHOTS.exists() and any(SCREENSHOTS.iterdir()):
        terminalreporter.write_line(f"browser screenshots: {SCREENSHOTS}")
