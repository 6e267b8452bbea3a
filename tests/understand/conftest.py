"""Shared fixtures: the demo catalogue as Products and one understander fitted on it."""

from __future__ import annotations

import os
import random

import numpy as np
import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(autouse=True)
def _seeded() -> None:
    random.seed(0)
    np.random.seed(0)  # noqa: NPY002  (seeds any legacy global-RNG user, e.g. sklearn defaults)


@pytest.fixture(scope="session")
def demo_products() -> list:
    from shopsense.demo.catalog import iter_demo_products
    from shopsense.ingest.validate import validate_product

    return [validate_product(row) for row in iter_demo_products(seed=7)]


@pytest.fixture(scope="session")
def understander(demo_products: list):
    """Fitted once per session with the real USE encoder (about 20 s on one core)."""
    from shopsense.text.understand import QueryUnderstander

    return QueryUnderstander(encoder="use", seed=0).fit(demo_products)
