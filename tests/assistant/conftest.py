"""A real shop for the assistant tests: the seeded small demo store in a temp home, with the
service's quick models (understanding, search, recommendations), built once per session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

DEMO_SIZE = {"n_products": 600, "n_users": 150, "days": 30}


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


@pytest.fixture(scope="session")
def demo_shop(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from shopsense.config import ServeSettings, Settings
    from shopsense.pipeline.shop import Shop
    from shopsense.training.lifecycle import quick_models, wire_online_updates

    home = tmp_path_factory.mktemp("assistant-home")
    _load_demo(home)
    shop = Shop(Settings(home=home, serve=ServeSettings(require_keys=True, rate_limit_per_s=1000)))
    shop.swap_models(quick_models(shop))
    wire_online_updates(shop)
    load_demo_knowledge(shop)
    return shop


def load_demo_knowledge(shop: Any) -> None:
    """The demo's bilingual policy document, as `shopsense demo run` loads it."""
    from shopsense.demo.policy import POLICY_DOCUMENT
    from shopsense.knowledge import KnowledgeBase
    from shopsense.store.knowledge import knowledge_repository

    KnowledgeBase(knowledge_repository(shop.store)).load_file(POLICY_DOCUMENT)


@pytest.fixture
def assistant(demo_shop: Any) -> Any:
    """A fresh assistant (empty conversation memory, template replies) over the shared shop."""
    from shopsense.assistant import Assistant

    made = Assistant(demo_shop, generator=None)
    yield made
    demo_shop.erasure_listeners.remove(made.conversations.forget_user)


def _helper(name: str) -> Any:
    """A helper module beside this file (the tests run with --import-mode=importlib)."""
    import importlib.util
    import sys

    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[name] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@pytest.fixture(scope="session")
def policy_llm() -> Any:
    """(base URL, module) of a loopback OpenAI-compatible server driven by a deterministic
    tool-calling policy (see tool_policy_server.py)."""
    module = _helper("tool_policy_server")
    with module.serve() as url:
        yield url, module
