from __future__ import annotations

import os
import random
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# Timing is not a property: on a shared 2-core machine a slow example is load, not a defect.
settings.register_profile("shopsense", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile("shopsense")

os.environ.setdefault("OMP_NUM_THREADS", "1")
REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO / ".." / "shared" / "data"


@pytest.fixture(autouse=True)
def _seed_everything() -> None:
    random.seed(0)
    np.random.seed(0)  # noqa: NPY002 - seeds code that still uses the global RNG
    try:
        import torch

        torch.manual_seed(0)
    except ImportError:  # pragma: no cover - torch is a hard dependency
        pass


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip("../shared/data is not beside the repository")
    return SHARED_DATA


def postgres_url_or_skip() -> str:
    """A fresh, empty schema in the loopback PostgreSQL (scripts/services.sh), or skip."""
    pytest.importorskip("psycopg_pool", reason="PostgreSQL backend (scale extra) not installed")
    from shopsense.scale.services import fresh_postgres_url, postgres_for_tests

    base, why = postgres_for_tests()
    if base is None:
        pytest.skip(f"no PostgreSQL server binaries: {why}")
    return fresh_postgres_url(base)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path):
    """A store over a SQLite file and over PostgreSQL: repository contracts run on both (a
    module's own `store` fixture overrides this one)."""
    from shopsense.store import open_store

    url = (postgres_url_or_skip() if request.param == "postgresql"
           else f"sqlite:///{tmp_path / 'shop.db'}")
    s = open_store(url)
    yield s
    s.close()


DEMO_SIZE = {"n_products": 600, "n_users": 150, "days": 30}


_SMALL_DEMO: list[Path] = []  # the one generated + ingested home that later calls copy


def load_small_demo(home: Path) -> None:
    """A small seeded demo shop ingested into `home` (the real generator and ingest path). The
    first call generates and ingests; later ones copy that home (same seed, same secret, same
    rows), saving the ingest for each of the ~25 modules that need one."""
    import atexit
    import shutil
    import tempfile

    if not _SMALL_DEMO:
        parent = tempfile.mkdtemp(prefix="shopsense-small-demo-")
        atexit.register(shutil.rmtree, parent, ignore_errors=True)
        template = Path(parent) / "home"
        _ingest_small_demo(template)
        _SMALL_DEMO.append(template)
    shutil.copytree(_SMALL_DEMO[0], home, dirs_exist_ok=True)


def _ingest_small_demo(home: Path) -> None:
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
def demo_shop(tmp_path_factory: pytest.TempPathFactory):
    """A Shop over the small demo with the service's quick models and online updates, shared by
    the whole session (tests may add events to it; see `build_demo_shop` for a private one)."""
    return build_demo_shop(tmp_path_factory.mktemp("demo-shop"))


def build_demo_shop(home: Path):
    """A Shop over the small demo in `home` with the service's quick models and online updates."""
    from dataclasses import replace

    from shopsense.config import Settings
    from shopsense.pipeline.shop import Shop
    from shopsense.training.lifecycle import build_propensity, quick_models, wire_online_updates

    load_small_demo(home)
    shop = Shop(Settings(home=home))
    models = quick_models(shop)
    shop.swap_models(replace(models, propensity=build_propensity(shop)))
    wire_online_updates(shop)
    return shop


# CI starts PostgreSQL, Redis and the Kafka-protocol broker and sets SHOPSENSE_REQUIRE_SERVICES=1:
# there a test skipped for a missing server or scale extra is a failure, so the suite cannot be
# green without exercising scale-out. On a laptop (variable unset) such tests still skip.
REQUIRE_SERVICES = os.environ.get("SHOPSENSE_REQUIRE_SERVICES") == "1"
_SERVICE_SKIP = re.compile(
    r"scale extra|server|postgres|pgvector|psycopg|\bredis\b|kafka|\bray\b", re.IGNORECASE)


def _skip_reason(report: pytest.CollectReport | pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


def _fail_service_skip(report: pytest.CollectReport | pytest.TestReport) -> None:
    reason = _skip_reason(report)
    if REQUIRE_SERVICES and report.skipped and _SERVICE_SKIP.search(reason):
        report.outcome = "failed"
        report.longrepr = f"SHOPSENSE_REQUIRE_SERVICES=1 but a scale-out backend is missing: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> object:
    outcome = yield
    _fail_service_skip(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> object:
    outcome = yield
    _fail_service_skip(outcome.get_result())
