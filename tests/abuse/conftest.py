"""Fixtures of the abuse suite: real `shopsense serve` subprocesses (tests/service)."""

from tests.service.conftest import make_server  # noqa: F401 (a fixture, used by name)
