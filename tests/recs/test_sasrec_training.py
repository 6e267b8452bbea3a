"""SASRec training that scales: sampled softmax with log-Q, automatic loss choice, convergence."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from shopsense.domain import Event
from shopsense.models.convergence import Convergence, extrapolate, summary
from shopsense.models.interactions import interactions_from_events
from shopsense.models.sasrec import SASRec
from shopsense.models.sasrec_loss import (
    SampledSoftmax,
    SplitAdam,
    choose_loss,
    full_softmax_loss,
    make_optimiser,
)
from shopsense.models.sequences import ItemIndex


def test_loss_is_chosen_by_catalogue_size() -> None:
    assert choose_loss("auto", 5000, 8192) == "full"
    assert choose_loss("auto", 8192, 8192) == "full"
    assert choose_loss("auto", 8193, 8192) == "sampled"
    assert choose_loss("full", 10**6, 8192) == "full"
    assert choose_loss("sampled", 10, 8192) == "sampled"
    with pytest.raises(ValueError, match="loss must be one of"):
        choose_loss("bpr", 10, 8192)


def test_candidates_are_unique_and_labels_point_at_each_target() -> None:
    counts = np.array([50, 30, 10, 5, 3, 1, 1, 0, 0, 0], dtype=float)
    sampler = SampledSoftmax(counts, negatives=4, rng=np.random.default_rng(0))
    targets = torch.tensor([0, 0, 1, 3, 6])
    items, labels, log_q = sampler.candidates(targets)
    assert len(torch.unique(items)) == len(items)
    assert torch.equal(items[labels], targets)
    assert torch.all(log_q <= 0) and torch.all(torch.isfinite(log_q))
    q = dict(zip(items.tolist(), log_q.tolist(), strict=True))
    assert q[0] > q[3] > q[6]  # popular targets are the likelier in-batch negatives


def test_inclusion_probability_matches_simulation() -> None:
    """log-Q is the log of each item's chance to be a candidate: compare with sampling."""
    rng = np.random.default_rng(1)
    counts = rng.integers(1, 40, 30).astype(float)
    p = counts / counts.sum()
    sampler = SampledSoftmax(counts, negatives=5, rng=np.random.default_rng(2))
    hits, trials = np.zeros(30), 4000
    for _ in range(trials):
        batch = rng.choice(30, size=8, p=p)
        present = set(batch.tolist()) | set(rng.integers(0, 30, 5).tolist())
        hits[list(present)] += 1
    items, _, log_q = sampler.candidates(torch.arange(8))  # a batch of 8 target positions
    predicted = 1.0 - (1.0 - p) ** 8 * (1.0 - 1.0 / 30) ** 5
    assert np.allclose(hits / trials, predicted, atol=0.03)
    exact = dict(zip(items.tolist(), np.exp(log_q.numpy()), strict=True))
    for item, value in exact.items():
        assert value == pytest.approx(predicted[item], rel=1e-4)


def test_sampled_loss_equals_full_softmax_when_every_item_is_certain() -> None:
    """With so many uniform negatives that every item is a candidate with probability ~1, the
    log-Q correction vanishes and the sampled loss is the full-catalogue cross-entropy."""
    torch.manual_seed(0)
    items, hidden = nn.Embedding(8, 4, padding_idx=0), torch.randn(5, 4)
    targets = torch.tensor([0, 2, 2, 6, 1])
    sampler = SampledSoftmax(np.ones(7), negatives=400, rng=np.random.default_rng(0))
    sampled = sampler(hidden, targets, items, False)
    full = full_softmax_loss(hidden, targets, items, False)
    assert float(sampled.detach()) == pytest.approx(float(full.detach()), rel=1e-5)
    table = items.weight[1:]
    assert float(full.detach()) == pytest.approx(
        float(F.cross_entropy(hidden @ table.T, targets).detach()))


def test_sparse_item_updates_touch_only_the_rows_a_step_used() -> None:
    """SplitAdam + a sparse item table: rows that were neither input nor candidate stay put,
    while the dense layers still learn."""
    torch.manual_seed(0)
    net = nn.Module()
    net.item_emb = nn.Embedding(51, 4, padding_idx=0)
    net.proj = nn.Linear(4, 4)
    before = net.item_emb.weight.detach().clone()
    optimiser = make_optimiser(net, lr=0.1, weight_decay=0.0, sparse=True)
    assert isinstance(optimiser, SplitAdam) and net.item_emb.sparse
    sampler = SampledSoftmax(np.ones(50), negatives=0, rng=np.random.default_rng(0))
    seqs, targets = torch.tensor([[3, 4]]), torch.tensor([9, 10])
    hidden = net.proj(net.item_emb(seqs)[0])
    loss = sampler(hidden, targets, net.item_emb, False)
    optimiser.zero_grad()
    loss.backward()
    assert net.item_emb.weight.grad.is_sparse
    optimiser.step()
    changed = (net.item_emb.weight.detach() != before).any(dim=1).nonzero().flatten().tolist()
    assert changed == [3, 4, 10, 11]  # inputs 3, 4 and candidates 9, 10 (+1 for the pad row)
    assert not isinstance(make_optimiser(net, 0.1, 0.0, sparse=False), SplitAdam)
    assert not net.item_emb.sparse


def test_a_sparse_fit_learns_and_serves_dense(events: list[Event]) -> None:
    sequences, items = _walk_data(events)
    train = [s[:-1] for s in sequences]
    valid = (train, np.array([s[-1] for s in sequences]))
    model = SASRec(dim=16, max_len=10, max_epochs=60, patience=5, batch_size=32, dropout=0.1,
                   lr=1e-2, loss="sampled", negatives=8, sparse_items_above=0)
    model.fit(train, len(items), valid=valid)
    assert model.info_["sparse_item_updates"] is True
    assert model.net_ is not None and not model.net_.item_emb.sparse
    top = np.argsort(-model.score(train), axis=1)[:, :3]
    assert np.mean([valid[1][i] in top[i] for i in range(len(train))]) > 0.6


def test_sampler_rejects_bad_inputs() -> None:
    with pytest.raises(ValueError, match="positive sum"):
        SampledSoftmax(np.zeros(4), 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="negatives"):
        SampledSoftmax(np.ones(4), -1, np.random.default_rng(0))


def test_convergence_needs_patience_epochs_without_a_real_gain() -> None:
    tracker = Convergence(patience=2, min_delta=0.01)
    assert tracker.update(1, 0.10) and not tracker.flattened
    assert tracker.update(2, 0.1005)  # a new best, but < 1 % better: stale
    assert tracker.stale == 1 and tracker.best_epoch == 2
    assert not tracker.update(3, 0.09)
    assert tracker.flattened
    tracker = Convergence(patience=2, min_delta=0.01)
    for epoch, value in enumerate([0.1, 0.12, 0.14, 0.16], start=1):
        tracker.update(epoch, value)
    assert not tracker.flattened and tracker.best_epoch == 4
    with pytest.raises(ValueError):
        Convergence(patience=0)


def test_extrapolation_recovers_a_saturating_curve() -> None:
    t = np.array([10.0, 20, 30, 40, 50])
    v = 0.05 - 0.04 * np.exp(-t / 40.0)
    got = extrapolate(t, v, (100.0, 200.0))
    assert got is not None
    assert got["plateau"] == pytest.approx(0.05, rel=0.02)
    assert got["at_100_cpu_s"] == pytest.approx(0.05 - 0.04 * math.exp(-2.5), rel=0.02)
    assert got["at_100_cpu_s"] < got["at_200_cpu_s"] <= got["plateau"] + 1e-9
    assert extrapolate([1, 2], [0.1, 0.2], (4,)) is None
    assert extrapolate([1, 2, 3], [0.3, 0.2, 0.1], (6,)) is None  # falling: nothing to say


def test_summary_reports_budget_stops_with_an_extrapolation() -> None:
    rows = [{"cpu_seconds": 10.0 * e, "valid_ndcg@10": 0.05 - 0.04 * math.exp(-e / 3)}
            for e in range(1, 6)]
    tracker = Convergence(patience=3)
    for e, row in enumerate(rows, start=1):
        tracker.update(e, row["valid_ndcg@10"])
    out = summary(rows, tracker, budget_s=45.0, stopped_by="budget")
    assert out["converged"] is False and out["stopped_by"] == "budget"
    assert out["extrapolated"]["at_100_cpu_s"] > rows[-1]["valid_ndcg@10"]
    assert len(out["curve"]) == 5 and out["best_epoch"] == 5


def _walk_data(events: list[Event]) -> tuple[list[np.ndarray], ItemIndex]:
    data = interactions_from_events(events)
    items = ItemIndex(data.item_ids())
    return [items.encode(s) for s in data.sequences], items


@pytest.mark.parametrize("loss", ["full", "sampled"])
def test_both_losses_learn_the_walks(events: list[Event], loss: str) -> None:
    """Shoppers walk items in order: the next item after a history must rank first."""
    sequences, items = _walk_data(events)
    train = [s[:-1] for s in sequences]
    valid = (train, np.array([s[-1] for s in sequences]))
    model = SASRec(dim=16, max_len=10, max_epochs=60, patience=5, batch_size=32, dropout=0.1,
                   lr=1e-2, loss=loss, negatives=8, seed=0)
    model.fit(train, len(items), valid=valid)
    assert model.info_["loss"] == loss
    top = np.argsort(-model.score(train), axis=1)[:, :3]
    hits = np.mean([valid[1][i] in top[i] for i in range(len(train))])
    assert hits > 0.6, hits
    conv = model.info_["convergence"]
    assert conv["stopped_by"] in ("converged", "epochs")
    assert conv["converged"] == (conv["stopped_by"] == "converged")
    assert len(conv["curve"]) == len(model.history_) == conv["epochs"]
    assert model.training_report(sum(map(len, train)))["cpu_seconds_per_1k_events_epoch"] > 0


def test_validation_ndcg_equals_the_evaluation_harness(events: list[Event]) -> None:
    """The fast rank-counting validation metric agrees with the top-k evaluation code."""
    from shopsense.evaluation.recs import ranking_metrics

    sequences, items = _walk_data(events)
    model = SASRec(dim=16, max_len=10, max_epochs=2, batch_size=32, loss="full")
    model.fit(sequences, len(items))
    histories = [s[:-1] for s in sequences] + [np.zeros(0, np.int64)]
    targets = np.array([s[-1] for s in sequences] + [0])
    expected = ranking_metrics(model.score, histories, targets, len(items))["ndcg@10"]
    assert model._valid_ndcg(histories, targets) == pytest.approx(expected, abs=1e-9)


def test_a_budget_stop_is_reported_as_not_converged(events: list[Event]) -> None:
    sequences, items = _walk_data(events)
    model = SASRec(dim=16, max_len=10, max_epochs=50, batch_size=32, time_budget_s=0.0,
                   loss="sampled", negatives=8)
    model.fit(sequences, len(items), valid=(sequences, np.array([s[-1] for s in sequences])))
    conv = model.info_["convergence"]
    assert conv["stopped_by"] == "budget" and conv["converged"] is False
    assert len(model.history_) == 1


def test_saved_model_serves_the_same_scores(tmp_path: Path, events: list[Event]) -> None:
    sequences, items = _walk_data(events)
    model = SASRec(dim=16, max_len=10, max_epochs=3, batch_size=32, loss="sampled", negatives=8)
    model.fit(sequences, len(items))
    model.save(tmp_path / "m")
    again = SASRec.load(tmp_path / "m")
    assert np.allclose(again.score(sequences[:5]), model.score(sequences[:5]), atol=1e-5)
    assert again.config.loss == "sampled"
