"""The demo's simulated shoppers replayed against the live for-you path: impressions with
propensities are logged, clicks follow the known model, and the report's off-policy estimates
land on the true values."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shopsense.config import Settings
from shopsense.evaluation.report import build_report
from shopsense.evaluation.simulate import load_tastes, simulate_sessions
from shopsense.store.impressions import impressions_of


@pytest.fixture(scope="module")
def exploring_shop(tmp_path_factory: pytest.TempPathFactory):
    from shopsense.demo import generate_demo
    from shopsense.ids import Pseudonymizer, ensure_secret
    from shopsense.ingest.pipeline import ingest_file
    from shopsense.pipeline.shop import Shop
    from shopsense.store import open_store
    from shopsense.training.lifecycle import quick_models

    home = tmp_path_factory.mktemp("sim-shop")
    paths = generate_demo(home / "demo", seed=7, n_products=600, n_users=150, days=30)
    ensure_secret(home)
    store = open_store(f"sqlite:///{home / 'shop.db'}")
    ingest_file(paths.products, "catalog", catalog=store, rejects_dir=home / "rejects")
    ingest_file(paths.events, "events", events=store, pseudonyms=Pseudonymizer.from_home(home),
                rejects_dir=home / "rejects")
    store.close()
    settings = Settings(home=home)
    settings = settings.model_copy(update={"recs": settings.recs.model_copy(
        update={"explore_epsilon": 0.5, "explore_pool": 12})})
    shop = Shop(settings)
    shop.swap_models(replace(quick_models(shop)))
    return shop


def test_simulation_logs_impressions_and_estimates_find_the_truth(exploring_shop) -> None:
    shop = exploring_shop
    tastes = load_tastes(shop.settings.home / "demo" / "shoppers_truth.jsonl")
    assert len(tastes) == 150
    events_before = shop.store.count_events()
    result = simulate_sessions(shop, tastes, sessions=1500, k=6, seed=3)
    assert result["lists"] == 1500 and result["policy"] == "eps=0.5;pool=12"
    assert impressions_of(shop.store).count() == 1500
    assert shop.store.count_events() == events_before + result["clicks"] > events_before
    truth = result["true_expected_clicks_per_list"]
    # what happened agrees with the known click model
    assert result["clicks_per_list"] == pytest.approx(truth["served"], rel=0.15)
    # the served ranking is better than a shuffle of its own pool (it learned something)
    assert truth["greedy"] > truth["uniform"]
    section = build_report(shop, sections=("counterfactual",))["counterfactual"]
    estimates = section["estimates"]["for_you"]
    assert set(estimates) >= {"logging", "greedy", "uniform"}
    for policy in ("greedy", "uniform"):
        for estimator in ("ips", "snips", "dr"):
            low, high = estimates[policy][f"{estimator}_ci"]
            slack = 0.25 * (high - low)  # the truth here is itself a mean of 1500 draws
            assert low - slack <= truth[policy] <= high + slack, (policy, estimator, truth)
    assert estimates["logging"]["ips"] == pytest.approx(result["clicks_per_list"], rel=0.01)


def test_report_says_what_is_missing_without_exploring_lists(tmp_path) -> None:
    from shopsense.evaluation.report import counterfactual_section
    from shopsense.store import open_store

    section = counterfactual_section(open_store(f"sqlite:///{tmp_path / 's.db'}"))
    assert section["estimates"] == {} and "explore_epsilon" in section["note"]


def test_missing_tastes_file_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="shopper tastes"):
        load_tastes(tmp_path / "nope.jsonl")
