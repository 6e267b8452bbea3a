from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from propensity_synthetic import synthetic_events, synthetic_products


@pytest.fixture(scope="session")
def shop_products():
    return synthetic_products()


@pytest.fixture(scope="session")
def shop_events():
    return synthetic_events()
