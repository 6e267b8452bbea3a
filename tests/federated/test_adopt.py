"""A federated / DP-SGD SASRec becomes the home's next version, with its model card."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from shopsense.federated.adopt import adopt_sasrec, model_card
from shopsense.federated.dp import DPSettings
from shopsense.federated.homes import adoption_check
from shopsense.federated.recs import Holdout, LocalSASRec, fed_config
from shopsense.models.interactions import interactions_from_events
from shopsense.models.sequences import ItemIndex
from shopsense.pipeline.recommend import load_current, save_version
from shopsense.training.recs import TrainConfig, train_all


def _home(tmp_path: Path):
    from shopsense.domain import Event, Product
    from shopsense.models.sasrec import SASRecConfig

    products = [Product(item_id=f"p{i:02d}", title=f"item {i}") for i in range(24)]
    events, t = [], 1_700_000_000.0
    for u in range(60):
        start = u % 18
        for step in range(6):
            t += 60
            events.append(Event(event_id=f"e{len(events)}", event_type="view", timestamp=t,
                                user_id=f"u{u}", item_id=f"p{start + step:02d}"))
    config = TrainConfig(sasrec=SASRecConfig(dim=16, max_len=10, max_epochs=2, bf16=False),
                         ranker_users=20)
    engine = train_all(interactions_from_events(events), products, config)
    save_version(engine, tmp_path)
    (tmp_path / "models" / "status.json").write_text(json.dumps({"version": "before"}))
    return events, products


def test_dp_model_is_adopted_with_epsilon_and_delta_in_its_card(tmp_path: Path) -> None:
    _events, products = _home(tmp_path)
    before = load_current(tmp_path)
    # the federation's item order differs from the home's: reversed catalogue
    fed_items = ItemIndex(sorted((p.item_id for p in products), reverse=True))
    seqs = [fed_items.encode([f"p{(u % 18) + s:02d}" for s in range(6)]) for u in range(60)]
    model = LocalSASRec(len(fed_items), fed_config(dim=16, max_len=10), total_epochs=1,
                        dp=DPSettings(epsilon=8.0, batch_size=16))
    model.fit_round(Holdout.of(seqs).train, epochs=1)
    card = model_card("federated (flwr, SecAgg+)", privacy=model.privacy(), rounds=1)
    result = adopt_sasrec(tmp_path, model.estimator(), fed_items.ids, card)

    after = load_current(tmp_path)
    assert after.info["version"] == result["version"] != before.info["version"]
    privacy = after.info["model_card"]["sasrec"]["privacy"]
    assert 0 < privacy["epsilon"] <= 8.0 and 0 < privacy["delta"] < 1 / 58  # delta < 1/n
    status = json.loads((tmp_path / "models" / "status.json").read_text())
    assert status["version"] == result["version"]
    assert status["model_card"]["sasrec"]["privacy"]["epsilon"] == privacy["epsilon"]
    assert json.loads((tmp_path / "models" / "serving.json").read_text())["version"] == \
        result["version"]
    # the served SASRec scores items exactly as the federated one, in the home's order
    history = ["p03", "p04", "p05"]
    served = after.sources["sasrec"].model_
    home_scores = served.score([after.items.encode(history)])[0]
    fed_scores = model.estimator().score([fed_items.encode(history)])[0]
    for item in ("p06", "p10", "p00"):
        assert np.isclose(home_scores[after.items.index(item)],
                          fed_scores[fed_items.index(item)], atol=1e-4)


def test_a_model_of_another_width_is_refused(tmp_path: Path) -> None:
    import pytest

    _, products = _home(tmp_path)
    items = ItemIndex(sorted(p.item_id for p in products))
    model = LocalSASRec(len(items), fed_config(dim=32, max_len=10))
    with pytest.raises(ValueError, match="dim"):
        adopt_sasrec(tmp_path, model.estimator(), items.ids, model_card("x", privacy=None))


def test_train_private_on_a_home_store_adopts_a_dp_version(tmp_path: Path) -> None:
    """`shopsense federated train-private`: the store's events, DP-SGD, adopted with (ε, δ);
    an erased shopper's events are gone from the store, so they never reach the training."""
    from shopsense.config import Settings
    from shopsense.federated.central import train_private_sasrec
    from shopsense.store import open_store

    events, products = _home(tmp_path)
    settings = Settings(home=tmp_path)
    store = open_store(settings.store_url)
    store.upsert_products(products)
    store.add_events(events)
    store.forget_user("u0")
    assert not any(e.user_id == "u0" for e in store.iter_events())
    store.close()
    report = train_private_sasrec(settings, epsilon=4.0, epochs=1)
    card = load_current(tmp_path).info["model_card"]["sasrec"]
    assert card["training"] == "central DP-SGD (opacus)"
    assert 0 < card["privacy"]["epsilon"] <= 4.0 and card["privacy"]["unit"] == "user"
    assert report["version"] == load_current(tmp_path).info["version"]


@pytest.mark.slow
@pytest.mark.long  # USE encoder + a DP fit (~110 s on the loaded machine); the freezing itself
# is checked in make test (test_row_weighting.py::test_frozen_title_items_stay_put...)
def test_train_private_on_frozen_titles_says_so_on_the_card(tmp_path: Path) -> None:
    """--freeze-titles: the adopted version's item table is the catalogue's title vectors
    (unchanged by training) and its card says the table was not trained under DP."""
    from shopsense.config import Settings
    from shopsense.federated.central import train_private_sasrec
    from shopsense.models.text_init import title_vectors
    from shopsense.store import open_store

    events, products = _home(tmp_path)
    assert all(p.title for p in products)
    settings = Settings(home=tmp_path)
    store = open_store(settings.store_url)
    store.upsert_products(products)
    store.add_events(events)
    store.close()
    train_private_sasrec(settings, epsilon=8.0, epochs=1, freeze_titles=True)
    current = load_current(tmp_path)
    card = current.info["model_card"]["sasrec"]
    assert card["item_table"].startswith("catalogue title vectors, frozen")
    assert 0 < card["privacy"]["epsilon"] <= 8.0
    model = current.sources["sasrec"]
    dim = model.config.dim
    ids = sorted(p.item_id for p in products)
    expected = title_vectors(products, ids, dim) * dim ** -0.5
    table = model.model_.net_.item_emb.weight.detach().numpy()[1:]
    # adoption re-orders rows into the home's item index: compare the rows as a set (norms)
    np.testing.assert_allclose(np.sort(np.linalg.norm(table, axis=1)),
                               np.sort(np.linalg.norm(expected, axis=1)), rtol=1e-4)


def test_a_pinned_home_keeps_serving_its_pinned_version(tmp_path: Path) -> None:
    """An operator's pin (training/pin.py) holds against a federated adoption too: the new
    version is saved, but `current`, status.json and serving.json stay on the pinned one."""
    from shopsense.training.cards import write_card
    from shopsense.training.pin import pin

    _events, products = _home(tmp_path)
    before = load_current(tmp_path).info["version"]
    write_card(tmp_path, {"version": before, "recs": {"training": "full"}})
    pin(tmp_path, before, "key:ops", "rollback")
    items = ItemIndex(sorted(p.item_id for p in products))
    seqs = [items.encode([f"p{(u % 18) + s:02d}" for s in range(6)]) for u in range(60)]
    model = LocalSASRec(len(items), fed_config(dim=16, max_len=10), total_epochs=1)
    model.fit_round(Holdout.of(seqs).train, epochs=1)
    result = adopt_sasrec(tmp_path, model.estimator(), items.ids,
                          model_card("federated (flwr, SecAgg+)", privacy=None, rounds=1))
    assert result["pinned"] == before != result["version"]
    assert load_current(tmp_path).info["version"] == before
    assert not (tmp_path / "models" / "serving.json").exists()


@pytest.mark.slow  # trains a home (train_all) first
def test_join_adopts_what_the_home_serves_a_personalised_model_and_says_so(
        tmp_path: Path) -> None:
    """`join --adopt` saves the personalised SASRec (its own best round, adapted), and the
    card carries how it was personalised and its test figure, not the global model's."""
    from shopsense.cli.federated import _adopt

    _events, products = _home(tmp_path)
    items = ItemIndex(sorted(p.item_id for p in products))
    model = LocalSASRec(len(items), fed_config(dim=16, max_len=10), seed=3)
    seqs = [items.encode([f"p{(u % 18) + s:02d}" for s in range(6)]) for u in range(60)]
    model.fit_round(Holdout.of(seqs).train, epochs=1)
    served = {"ndcg@10": 0.25, "own_best_round": 2, "valid_global": 0.1,
              "valid_served": 0.2, "epoch_kept": 1, "epochs_run": 3}
    report = {"model": "sasrec", "rounds": [{"round": 1}, {"round": 2}, {"round": 3}],
              "tls": True, "privacy": None, "federated": {"ndcg@10": 0.125},
              "personalised": served, "item_table": "seeded from catalogue titles, trained",
              "adoption": adoption_check(0.2, 0.1, 0.15)}
    _adopt(tmp_path, report, model, None, items.ids, "127.0.0.1:1")
    after = load_current(tmp_path)
    card = after.info["model_card"]["sasrec"]
    assert card["test_ndcg_at_10"] == 0.25 and card["rounds"] == 3
    assert card["personalised"] == {k: v for k, v in served.items() if k != "ndcg@10"}
    history = items.encode(["p03", "p04", "p05"])
    np.testing.assert_allclose(after.sources["sasrec"].model_.score([history])[0],
                               model.estimator().score([history])[0], atol=1e-4)
    report.pop("personalised")  # no personalisation (DP-SGD, or switched off): said so
    _adopt(tmp_path, report, model, None, items.ids, "127.0.0.1:1")
    card = load_current(tmp_path).info["model_card"]["sasrec"]
    assert card["test_ndcg_at_10"] == 0.125 and card["personalised"].startswith("no")


def test_adoption_check_wants_the_served_model_not_below_global_nor_local() -> None:
    ok = adoption_check(0.3, 0.25, 0.3)
    assert ok["adopt"] and ok["valid_ndcg@10"] == {"served": 0.3, "global": 0.25,
                                                    "local_only": 0.3}
    worse = adoption_check(0.3, 0.25, 0.31)
    assert not worse["adopt"] and "local-only" in worse["why"]
    assert not adoption_check(0.2, 0.25, 0.1)["adopt"]


def test_join_does_not_adopt_a_model_below_the_homes_local_one(tmp_path: Path) -> None:
    """The guard refuses before the home is touched: no version is saved or announced."""
    from shopsense.cli.federated import _adopt

    report = {"model": "sasrec", "rounds": [{"round": 1}], "tls": True, "privacy": None,
              "federated": {"ndcg@10": 0.1}, "adoption": adoption_check(0.2, 0.2, 0.25)}
    result = _adopt(tmp_path, report, None, None, [], "127.0.0.1:1")
    assert result["adopted"] is False and "local-only" in result["why"]
    assert result["valid_ndcg@10"]["local_only"] == 0.25
    assert not (tmp_path / "models").exists()
