"""A demo shop of its own for the experiment tests: experiments change what a shopper is
served, so they never run on the session-wide `demo_shop` other packages assert lists on."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="package")
def exp_shop(tmp_path_factory: pytest.TempPathFactory):
    from tests.conftest import load_small_demo

    from shopsense.config import Settings
    from shopsense.pipeline.shop import Shop
    from shopsense.training.lifecycle import quick_models, wire_online_updates

    home = tmp_path_factory.mktemp("exp-shop")
    load_small_demo(home)
    shop = Shop(Settings(home=home))
    shop.swap_models(quick_models(shop))
    wire_online_updates(shop)
    return shop


@pytest.fixture
def clean(exp_shop):
    """Every running experiment of the shop is stopped after the test."""
    from shopsense.pipeline import experiments

    yield exp_shop
    for record in experiments.registry_of(exp_shop).repo.list("running"):
        experiments.stop(exp_shop, record.id)
