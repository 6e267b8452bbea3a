"""SASRec's title term (models/sasrec_net.py): scores = gate * h . E_i + scale * t_last . t_i,
the gate 0 at the start. An untrained network ranks exactly as the title neighbour; every
scorer (torch, the numpy serving path, two-stage serving, losses, DP-SGD) reads the same
[gate h, scale t_last] . [E_i, t_i]; the title vectors are never trained nor sent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from shopsense.federated.adopt import _reindexed
from shopsense.federated.dp import DPSettings
from shopsense.federated.experiment import RecsPlan, compare, title_neighbour
from shopsense.federated.recs import Holdout, LocalSASRec, fed_config
from shopsense.federated.rounds import run_rounds
from shopsense.federated.splits import Client
from shopsense.models.incremental import WarmStart, carry_weights
from shopsense.models.sasrec import SASRec, titled_config
from shopsense.models.sasrec_net import SASRecNet

N_ITEMS, DIM = 30, 8


def _titles(n_items: int = N_ITEMS, dim: int = DIM, seed: int = 5) -> np.ndarray:
    titles = np.random.default_rng(seed).normal(size=(n_items, dim)).astype(np.float32)
    titles[-1] = 0.0  # an item without a title
    return titles


def _chains(lo: int, hi: int, n: int = 40, length: int = 5, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [np.arange(s, s + length) for s in rng.integers(lo, hi - length + 1, size=n)]


def _histories(n: int = 40, seed: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, N_ITEMS, size=int(rng.integers(1, 7))) for _ in range(n)]


def _participant(**kwargs: object) -> LocalSASRec:
    return LocalSASRec(N_ITEMS, fed_config(dim=DIM, max_len=8, batch_size=16, title_term=True),
                       item_init=_titles(), **kwargs)  # type: ignore[arg-type]


def _unit(titles: np.ndarray) -> np.ndarray:
    return titles / np.maximum(np.linalg.norm(titles, axis=1, keepdims=True), 1e-12)


def test_an_untrained_network_scores_as_the_title_neighbour() -> None:
    model = _participant()
    histories = _histories()
    scores = model.estimator().score(histories)
    unit = _unit(_titles())
    expected = unit[[int(h[-1]) for h in histories]] @ unit.T
    np.testing.assert_allclose(scores, 10.0 * expected, atol=1e-5)
    assert np.all(scores[:, -1] == 0.0)  # the untitled item: no title evidence either way
    holdouts = [Holdout.of(_chains(0, N_ITEMS, n=30, seed=s)) for s in (2, 3)]
    clients = [Client(f"c{i}", [f"u{i}{j}" for j in range(30)], h.train, {})
               for i, h in enumerate(holdouts)]
    reference = title_neighbour(clients, holdouts, _titles())
    ndcg = np.concatenate([model.per_user(h.test_histories, h.test_targets)[0]
                           for h in holdouts])
    assert float(ndcg.mean()) == pytest.approx(reference["ndcg@10"], abs=1e-4)


def test_training_moves_the_gate_and_scale_and_never_the_title_vectors() -> None:
    model = _participant()
    titles = model.net.title_vec.clone()
    model.fit_round(_chains(0, N_ITEMS - 1, n=80), epochs=3)
    assert torch.equal(model.net.title_vec, titles)
    assert abs(float(model.net.body_gate.detach())) > 1e-3  # the transformer now has a say
    assert float(model.net.title_log_scale.detach()) != pytest.approx(np.log(10.0))
    assert "title_vec" not in model.keys()  # public, rebuilt at each home, never sent
    assert {"body_gate", "title_log_scale"} <= set(model.keys())
    assert len(model.weights()) == len(model.keys())


def test_the_title_term_learns_what_titles_cannot_say() -> None:
    """Chains whose next item is title-unrelated: training must beat the title start."""
    model = LocalSASRec(N_ITEMS, fed_config(dim=DIM, max_len=8, batch_size=16, lr=1e-2,
                                            title_term=True), item_init=_titles())
    holdout = Holdout.of(_chains(0, N_ITEMS - 1, n=120, length=6))
    before = model.per_user(holdout.valid_histories, holdout.valid_targets)[0].mean()
    model.fit_round(holdout.train, epochs=8)
    after = model.per_user(holdout.valid_histories, holdout.valid_targets)[0].mean()
    assert after > before + 0.2


def test_numpy_serving_path_equals_the_torch_forward() -> None:
    model = _participant()
    model.fit_round(_chains(0, N_ITEMS - 1, n=60), epochs=2)
    estimator = model.estimator()
    histories = _histories(4)
    small = estimator._encode_small(histories)
    batched = estimator.encode(histories * 2)[:4]  # > 4 histories: the torch path
    np.testing.assert_allclose(small, batched, atol=1e-5)
    assert small.shape == (4, 2 * DIM)
    assert estimator.encode([]).shape == (0, 2 * DIM)


def test_saved_and_loaded_model_scores_the_same(tmp_path: Path) -> None:
    model = _participant()
    model.fit_round(_chains(0, N_ITEMS - 1, n=60), epochs=2)
    estimator = model.estimator()
    estimator.save(tmp_path / "m")
    loaded = SASRec.load(tmp_path / "m")
    assert loaded.config.title_term
    histories = _histories(12)
    np.testing.assert_allclose(loaded.score(histories), estimator.score(histories), atol=1e-5)


@pytest.mark.parametrize("loss", ["full", "sampled"])
def test_central_fit_with_either_loss_keeps_the_titles(loss: str) -> None:
    sequences = _chains(0, N_ITEMS - 1, n=80, length=6)
    valid = ([s[:-1] for s in sequences[:20]], np.array([s[-1] for s in sequences[:20]]))
    model = SASRec(dim=DIM, max_len=8, batch_size=16, max_epochs=3, patience=5, loss=loss,
                   negatives=8, title_term=True)
    model.fit(sequences, N_ITEMS, valid=valid, item_init=_titles())
    assert model.net_ is not None and model.net_.title_term
    np.testing.assert_allclose(model.net_.title_vec[1:].numpy(), _unit(_titles()), atol=1e-6)
    assert model.item_vectors().shape == (N_ITEMS, 2 * DIM)
    assert np.isfinite(model.history_[-1]["loss"])


def test_without_titles_the_title_term_is_off() -> None:
    model = SASRec(dim=DIM, max_len=8, batch_size=16, max_epochs=1, title_term=True)
    model.fit(_chains(0, N_ITEMS, n=20), N_ITEMS)
    assert not model.config.title_term and not model.net_.title_term  # type: ignore[union-attr]
    assert model.training_report(100)["title_term"] is False
    config = fed_config(dim=DIM, title_term=True)
    assert not titled_config(config, np.zeros((N_ITEMS, DIM), np.float32)).title_term
    assert titled_config(config, _titles()).title_term
    plain = LocalSASRec(N_ITEMS, config)  # no item_init: a plain SASRec, no silent zero term
    assert not plain.net.title_term and plain.net.out_dim == DIM
    with pytest.raises(ValueError, match="title term"):
        plain.net.set_titles(_titles())


def test_set_titles_refuses_a_wrong_shape() -> None:
    net = SASRecNet(N_ITEMS, fed_config(dim=DIM, title_term=True))
    with pytest.raises(ValueError, match=r"\(30, 8\)"):
        net.set_titles(np.ones((N_ITEMS + 1, DIM), np.float32))


@pytest.mark.slow
def test_dp_sgd_trains_the_gate_and_spends_its_budget() -> None:
    model = _participant(dp=DPSettings(8.0, batch_size=8), total_epochs=1)
    titles = model.net.title_vec.clone()
    model.fit_round(_chains(0, N_ITEMS - 1, n=24), epochs=1)
    privacy = model.privacy()
    assert privacy is not None and 0 < privacy["epsilon"] <= 8.0 + 1e-6
    assert float(model.net.body_gate.detach()) != 0.0
    assert torch.equal(model.net.title_vec, titles)


def test_federated_rounds_with_the_title_term_share_only_trained_weights() -> None:
    participants = [_participant(seed=i) for i in range(2)]
    for p in participants[1:]:
        p.load(participants[0].weights())
    datas = [_chains(0, 15, n=40, seed=3), _chains(14, N_ITEMS - 1, n=40, seed=4)]
    log = run_rounds(participants, datas, rounds=2, local_epochs=1)
    assert len(log.rows) == 2
    a, b = (p.net.state_dict() for p in participants)
    assert all(torch.equal(a[k], b[k]) for k in a)  # both hold the same global model
    np.testing.assert_allclose(a["title_vec"][1:].numpy(), _unit(_titles()), atol=1e-6)


def test_compare_reports_every_variant_from_the_title_start() -> None:
    clients = [Client(f"c{i}", [f"u{i}{j}" for j in range(40)],
                      _chains(lo, hi, n=40, length=6, seed=i), {})
               for i, (lo, hi) in enumerate([(0, 15), (14, N_ITEMS - 1)])]
    plan = RecsPlan(rounds=2, local_epochs=1, dim=DIM, batch_size=16, max_len=8,
                    title_term=True, adapt_epochs=0)
    out = compare(clients, N_ITEMS, plan, item_init=_titles())
    for name in ("centralised", "federated", "local_only", "title_neighbour"):
        assert 0.0 <= out[name]["ndcg@10"] <= 1.0
    assert "federated_vs_title_neighbour" in out["paired"]


def test_adoption_lays_title_vectors_out_in_the_home_order() -> None:
    model = _participant().estimator()
    federation = [f"i{i:02d}" for i in range(N_ITEMS)]
    home = [*reversed(federation[:10]), "new"]
    adopted = _reindexed(model, federation, home, None)
    net = adopted.net_
    assert net is not None and net.title_term
    source = model.net_.title_vec  # type: ignore[union-attr]
    for row, item in enumerate(home[:-1]):
        assert torch.equal(net.title_vec[row + 1], source[federation.index(item) + 1])
    assert torch.equal(net.title_vec[len(home)], torch.zeros(DIM))  # unknown: no title term


def test_a_warm_start_keeps_the_title_term_and_refuses_a_plain_predecessor() -> None:
    model = _participant()
    model.fit_round(_chains(0, N_ITEMS - 1, n=40), epochs=1)
    old = model.estimator()
    config = old.config
    net = SASRecNet(N_ITEMS + 2, config)
    titles = np.concatenate([_titles(), _titles(2, seed=9)])
    net.set_titles(titles)
    mapping = np.concatenate([np.arange(N_ITEMS), [-1, -1]])
    carry_weights(WarmStart(old, mapping), net, titles)
    assert torch.equal(net.body_gate, old.net_.body_gate)  # type: ignore[union-attr]
    np.testing.assert_allclose(net.title_vec[1:].numpy(), _unit(titles), atol=1e-6)
    plain = LocalSASRec(N_ITEMS, fed_config(dim=DIM, max_len=8), item_init=_titles())
    with pytest.raises(ValueError, match="retrain from scratch"):
        carry_weights(WarmStart(plain.estimator(), np.arange(N_ITEMS)),
                      SASRecNet(N_ITEMS, config), None)


@pytest.mark.slow
def test_eval_recs_cli_trains_and_scores_with_the_title_term(tmp_path: Path, write_chain
                                                             ) -> None:
    """`shopsense eval recs --title-term` through the real CLI, titles from the catalogue
    (the real USE encoder): the report's SASRec says it ran with the title term."""
    import json

    from typer.testing import CliRunner

    from shopsense.cli import app

    events, catalog = write_chain(tmp_path, 0)
    out = CliRunner().invoke(app, ["eval", "recs", "--events", str(events), "--catalog",
                                   str(catalog), "--title-term", "--json", "--max-minutes",
                                   "0.5"])
    assert out.exit_code == 0, out.output
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["blend"]["title_init"] is True
    assert report["sasrec_only"]["training"]["title_term"] is True
    assert 0.0 < report["sasrec_only"]["ndcg@10"] <= 1.0


def test_a_home_serving_an_adopted_title_term_model_retrains_from_scratch(monkeypatch
                                                                          ) -> None:
    """Incremental training continues the serving SASRec only when it has the same shape;
    a federated title-term model adopted by a home whose own SASRec has no title term is
    not continued (its layers would not fit), but retrained."""
    from types import SimpleNamespace

    import shopsense.pipeline.recommend as recommend
    from shopsense.retrieve.sequential import SequentialRetriever
    from shopsense.training.recs import Incremental, serving_warm_start

    model = _participant().estimator()
    source = SequentialRetriever(model.config)
    source.model_ = model
    serving = SimpleNamespace(sources={"sasrec": source}, info={"last_event_at": 1.0,
                                                                "version": "v1"})
    monkeypatch.setattr(recommend, "load_current", lambda home, products=(): serving)
    plain = fed_config(dim=DIM, max_len=8)
    assert "trained from scratch" in str(serving_warm_start(None, [], plain))
    assert isinstance(serving_warm_start(None, [], model.config), Incremental)
