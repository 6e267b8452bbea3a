"""Loopback servers for the scale-out tests: the ones scripts/services.sh started, else fresh
ones for this session; each fixture skips with the reason when its server is missing."""

from __future__ import annotations

import os
import uuid

import pytest

services = pytest.importorskip("shopsense.scale.services",
                               reason="scale extra not installed (psycopg, redis, ...)")


@pytest.fixture(scope="session")
def running():
    return services.for_tests()


def _url(running, name: str) -> str:
    url = os.environ.get(f"SHOPSENSE_TEST_{name.upper()}") or getattr(running, f"{name}_url")
    if not url:
        pytest.skip(f"no {name} server: {running.skipped.get(name, 'not started')}")
    return url


@pytest.fixture
def pg_url(running) -> str:
    """A fresh, empty schema in the loopback PostgreSQL."""
    return services.fresh_postgres_url(_url(running, "postgres"))


@pytest.fixture
def redis_url(running) -> str:
    return _url(running, "redis")


@pytest.fixture
def kafka_url(running) -> str:
    return _url(running, "kafka")


@pytest.fixture
def prefix() -> str:
    """A key prefix no other test uses (tests share one Redis)."""
    return f"t{uuid.uuid4().hex[:10]}"
