"""The federated propensity scorer becomes a home's next model version, end to end: two
homes' own rows, FedAvg rounds, adoption into home A (which has its own trained models),
and the serving side loading and swapping in that version with the federation's scorer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from shopsense.config import Settings
from shopsense.demo.objects import demo_events, demo_products
from shopsense.features.behaviour import GENERAL_FEATURES
from shopsense.features.frame import DAY
from shopsense.federated.adopt import adopt_propensity, model_card
from shopsense.federated.propensity import LocalPropensity, PropensityData
from shopsense.federated.rounds import run_rounds
from shopsense.models.interactions import interactions_from_events
from shopsense.models.propensity_scorers import signed_log
from shopsense.models.propensity_store import model_dir, propensity_for_store
from shopsense.models.sasrec import SASRecConfig
from shopsense.pipeline.recommend import save_version
from shopsense.store import open_store
from shopsense.training.recs import TrainConfig, train_all


@pytest.fixture(scope="module")
def shop_data():
    products = demo_products(n_products=150)
    return products, demo_events(n_products=150, n_users=160, days=60)


def _trained_home(home: Path, products: list, events: list, *, propensity: bool) -> Settings:
    settings = Settings(home=home)
    store = open_store(settings.store_url)
    store.upsert_products(products)
    store.add_events(events)
    config = TrainConfig(sasrec=SASRecConfig(dim=16, max_len=10, max_epochs=1),
                         ranker_users=20)
    engine = train_all(interactions_from_events(events), products, config)
    save_version(engine, home)
    (home / "models" / "status.json").write_text(json.dumps({"version":
                                                             engine.info["version"]}))
    if propensity:
        propensity_for_store(store, model_dir(home, "logistic", 7))
    store.close()
    return settings


def _federate(events: list, products: list) -> LocalPropensity:
    """Web and app as two homes, 5 FedAvg rounds on their own rows only."""
    by_product = {p.item_id: p for p in products}
    test_start = events[-1].timestamp + 1.0 - 7 * DAY
    datas = [PropensityData.from_events([e for e in events if e.platform == platform],
                                        by_product, test_start)
             for platform in ("web", "app")]
    clients = [LocalPropensity(seed=s) for s in range(2)]
    run_rounds(clients, datas, rounds=5)
    return clients[0]


@pytest.mark.slow
def test_federated_propensity_is_adopted_and_served(tmp_path: Path, shop_data) -> None:
    from shopsense.pipeline.shop import Shop
    from shopsense.training.lifecycle import adopt_models, load_models

    products, events = shop_data
    settings = _trained_home(tmp_path / "a", products, events, propensity=True)
    shop = Shop(settings)
    before = load_models(shop)
    assert before is not None and before.propensity.scorer_.kind == "logistic"
    adopt_models(shop, before, None, warm=False)

    federated = _federate(events, products)
    card = model_card("federated (flwr, SecAgg+)", privacy=None, rounds=5)
    result = adopt_propensity(settings.home, federated.weights(), card)

    after = load_models(shop)  # what a serving process's watcher loads
    assert after.version == result["version"] != before.version
    assert after.propensity.scorer_.kind == "signed_log_logistic"
    adopt_models(shop, after, None, warm=False)
    assert shop.models.version == result["version"]
    # the served probability is the federation's logistic on this shopper's features
    shopper = next(e.actor for e in reversed(events) if e.event_type == "purchase")
    x = np.array([shop.models.propensity.features(shopper)[f] for f in GENERAL_FEATURES])
    weight, bias = federated.weights()
    expected = 1.0 / (1.0 + np.exp(-(signed_log(x[None, :]) @ weight.ravel() + bias[0])))
    assert np.isclose(shop.models.propensity.predict([shopper])[0], expected[0], atol=1e-4)
    status = json.loads((settings.home / "models" / "status.json").read_text())
    assert status["version"] == result["version"]
    assert status["model_card"]["propensity"]["privacy"] == {"dp": "none"}
    serving = json.loads((settings.home / "models" / "serving.json").read_text())
    assert serving["version"] == result["version"]
    shop.store.close()


def test_a_home_without_a_propensity_model_refuses_adoption(tmp_path: Path,
                                                            shop_data) -> None:
    products, events = shop_data
    settings = _trained_home(tmp_path / "b", products, events[:2000], propensity=False)
    weights = [np.zeros((1, len(GENERAL_FEATURES)), np.float32), np.zeros(1, np.float32)]
    with pytest.raises(ValueError, match="no trained propensity model"):
        adopt_propensity(settings.home, weights, model_card("x", privacy=None))


def test_a_scorer_of_another_feature_set_is_refused(tmp_path: Path, shop_data) -> None:
    products, events = shop_data
    settings = _trained_home(tmp_path / "c", products, events, propensity=True)
    weights = [np.zeros((1, 3), np.float32), np.zeros(1, np.float32)]
    with pytest.raises(ValueError, match="features"):
        adopt_propensity(settings.home, weights, model_card("x", privacy=None))
