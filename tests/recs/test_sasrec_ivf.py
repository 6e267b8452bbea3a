"""Two-stage SASRec scoring (models.sasrec_ivf), the sparse item table's rate, and the
convergence rule's floor: the changes that make SASRec learn and serve at a million items."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from shopsense.models.blend import blend_parts
from shopsense.models.context import RecContext
from shopsense.models.convergence import Convergence
from shopsense.models.sasrec import SASRec
from shopsense.models.sasrec_ivf import ItemPartition, recall_at
from shopsense.models.sasrec_loss import SplitAdam, make_optimiser
from shopsense.models.sasrec_net import SASRecNet
from shopsense.models.schedule import LRSchedule
from shopsense.models.sequences import ItemIndex, top_k_excluding
from shopsense.retrieve.sequential import SequentialRetriever


def _clustered(n_lists: int = 16, per: int = 50, dim: int = 8, seed: int = 0
               ) -> tuple[np.ndarray, np.ndarray]:
    """Item vectors around `n_lists` well separated centres; each item's true cluster."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_lists, dim)) * 4.0
    truth = np.repeat(np.arange(n_lists), per)
    table = centres[truth] + rng.normal(size=(truth.size, dim)) * 0.3
    order = rng.permutation(truth.size)  # items not stored cluster by cluster
    return table[order].astype(np.float32), truth[order]


def test_partition_groups_the_clusters_and_scores_probed_lists_exactly() -> None:
    table, truth = _clustered()
    part = ItemPartition.build(table, n_lists=32, n_probe=4)  # more lists than clusters
    assert part.members.size == len(table) and part.starts[-1] == len(table)
    assert sorted(part.members.tolist()) == list(range(len(table)))
    pure = 0
    for lst in range(32):  # k-means lists follow the planted clusters (Lloyd may merge two)
        rows = part.members[part.starts[lst]:part.starts[lst + 1]]
        assert np.all(part.assign[rows] == lst)
        pure += len(set(truth[rows].tolist())) <= 1
    assert pure >= 28
    grouped = part.grouped(table)
    recalls = []
    for state in np.random.default_rng(1).normal(size=(20, 8)).astype(np.float32):
        exact = (table @ state).astype(np.float64)
        got = part.scores(state, grouped)
        _, best = part.best_lists(state)
        probed = np.isin(part.assign, best)
        np.testing.assert_allclose(got[probed], exact[probed], rtol=1e-5, atol=1e-5)
        mean_score = part.means @ state  # every other item: its list's mean vector's score
        np.testing.assert_allclose(got[~probed], mean_score[part.assign[~probed]], rtol=1e-5,
                                   atol=1e-6)
        for lst in np.unique(part.assign[~probed])[:3]:
            assert mean_score[lst] == pytest.approx(exact[part.assign == lst].mean(), abs=1e-4)
        assert np.isfinite(got).all()
        recalls.append(recall_at(exact, got, 10))
        np.testing.assert_allclose(part.scores(state, grouped, n_probe=32), exact, rtol=1e-5,
                                   atol=1e-5)  # every list probed: exact everywhere
    assert np.mean(recalls) >= 0.9  # the top 10 lie in the best lists


def test_partition_defaults_save_load_and_bad_assignments(tmp_path: Path) -> None:
    table, _ = _clustered(n_lists=8, per=40)
    part = ItemPartition.build(table)
    assert len(part.centroids) == 16 and part.n_probe == 4  # ~sqrt(320) lists, 1/4 probed
    part.save(tmp_path / "ivf.npz")
    back = ItemPartition.load(tmp_path / "ivf.npz")
    assert np.array_equal(back.assign, part.assign) and back.n_probe == part.n_probe
    assert np.array_equal(back.members, part.members)
    np.testing.assert_array_equal(back.means, part.means)
    with pytest.raises(ValueError, match="does not exist"):
        ItemPartition.from_assignment(np.zeros((2, 3)), np.zeros((2, 3)), np.array([0, 2]), 1)
    assert recall_at(np.arange(10.0), np.arange(10.0)[::-1], 3) == 0.0


@pytest.fixture(scope="module")
def two_stage_model() -> SASRec:
    """Shoppers walk 128 items in order (i, i + 1, ...): the next item is predictable."""
    rng = np.random.default_rng(0)
    walks = [np.arange(s, s + 10) % 128 for s in rng.integers(0, 128, 300)]
    torch.manual_seed(0)
    model = SASRec(max_len=8, dim=16, n_blocks=1, max_epochs=30, dropout=0.0, loss="full",
                   lr=5e-3, ivf_min_items=100, seed=0)
    return model.fit(walks, 128)


def _next_items(model: SASRec, two_stage: bool) -> np.ndarray:
    histories = [np.arange(s, s + 4) % 128 for s in range(128)]
    scores = np.stack([model.score_request(h) for h in histories]) if two_stage \
        else model.score(histories)
    return top_k_excluding(scores, 1, histories)[:, 0]


def test_a_large_catalogue_serves_two_stage_scores_a_small_one_exact(
        two_stage_model: SASRec, tmp_path: Path) -> None:
    model = two_stage_model
    partition, _ = model._two_stage()
    assert len(partition.centroids) == 16 and partition.n_probe == 4
    assert model.training_report(1000)["two_stage_serving"] == {"lists": 16, "probed": 4}
    history = np.array([40, 41, 42, 43])
    got = model.score_request(history)
    assert got.dtype == np.float64 and got.shape == (128,) and np.isfinite(got).all()
    exact_next = _next_items(model, two_stage=False)
    assert np.mean(exact_next == (np.arange(128) + 4) % 128) >= 0.8  # the walks are learnt
    agree = []
    for probe in (1, 4, 16):  # 1 of 16 lists probed, 4 (the default share), all
        partition.n_probe = probe
        agree.append(float(np.mean(_next_items(model, two_stage=True) == exact_next)))
    partition.n_probe = 4
    assert agree[0] >= 0.4 and agree[1] >= 0.85 and agree[2] == 1.0
    model.save(tmp_path / "m")
    assert (tmp_path / "m" / "ivf.npz").exists()
    back = SASRec.load(tmp_path / "m")
    np.testing.assert_allclose(back.score_request(history), got, rtol=1e-5, atol=1e-5)
    exact_model = SASRec.load(tmp_path / "m")
    exact_model.config = type(model.config)(**{**vars(model.config), "ivf_min_items": 1000})
    exact_model._ivf_ = None
    assert exact_model._two_stage() is None
    np.testing.assert_array_equal(exact_model.score_request(history),
                                  model.score([history])[0].astype(np.float64))


def test_a_network_set_from_outside_gets_its_own_partition(two_stage_model: SASRec) -> None:
    model = two_stage_model
    other = SASRec(model.config)
    other.n_items_, other.net_ = 128, SASRecNet(128, model.config)
    other.net_.load_state_dict(model.net_.state_dict())
    other.net_.eval()
    first = other._two_stage()
    assert first is not None and other._two_stage()[0] is first[0]  # built once
    history = np.array([7, 8, 9])
    np.testing.assert_allclose(other.score_request(history), model.score_request(history),
                               rtol=1e-5, atol=1e-5)


def test_the_serving_source_and_the_blend_read_two_stage_scores(
        two_stage_model: SASRec) -> None:
    items = ItemIndex([f"i{i}" for i in range(128)])
    source = SequentialRetriever(two_stage_model.config)
    source.items_, source.categories_, source.model_ = items, [""] * 128, two_stage_model
    ctx = RecContext(recent_items=("i60", "i61", "i62"))
    scores = source.score_all(ctx)
    np.testing.assert_array_equal(scores, two_stage_model.score_request(np.array([60, 61, 62])))
    many = source.score_many([ctx, RecContext(recent_items=("unknown",)), ctx])
    np.testing.assert_array_equal(many[0], scores)  # an evaluation scores as it serves
    np.testing.assert_array_equal(many[2], scores)
    assert np.isneginf(many[1]).all()
    top = [c.item_id for c in source.retrieve(ctx, 1, exclude=ctx.recent_items)]
    assert top == [items.ids[int(np.argmax(np.where(np.isin(np.arange(128), [60, 61, 62]),
                                                    -np.inf, scores)))]]
    covisit = np.full(128, -np.inf)
    covisit[[100, 63]] = [1.0, 2.0]
    blend, logp, share = blend_parts(scores, covisit, 2.0)
    assert np.exp(logp).sum() == pytest.approx(1.0) and np.isfinite(blend).all()
    assert share[63] == 1.0 and share[100] == 0.5
    np.testing.assert_allclose(blend, logp + 2.0 * share)


def test_log_softmax_keeps_minus_inf_items_and_unknown_rows() -> None:
    scores = np.array([[1.0, -np.inf, 3.0], [-np.inf] * 3])
    blend, logp, _ = blend_parts(scores, None, 1.0)
    expected = scores[0] - np.log(np.exp(1.0) + np.exp(3.0))
    np.testing.assert_allclose(logp[0], expected, rtol=1e-7)
    assert np.isneginf(logp[0, 1]) and np.isneginf(logp[1]).all() and np.isneginf(blend[1]).all()
    wide = np.random.default_rng(0).normal(size=50_000) * 5
    reference = wide - np.log(np.sum(np.exp(wide - wide.max()))) - wide.max()
    np.testing.assert_allclose(blend_parts(wide, None, 0.0)[1], reference, atol=1e-6)


def test_the_sparse_item_table_takes_its_own_rate_through_the_schedule() -> None:
    net = SASRecNet(50, SASRec(dim=8, max_len=4).config)
    optimiser = make_optimiser(net, 1e-3, 0.0, sparse=True, table_lr_scale=10.0)
    assert isinstance(optimiser, SplitAdam)
    schedule = LRSchedule(optimiser, 1e-3, "cosine", warmup_steps=0)
    schedule.step()
    table_group, rest_group = (part.param_groups[0] for part in optimiser.parts)
    assert table_group["lr"] == pytest.approx(10 * rest_group["lr"])
    assert rest_group["lr"] == pytest.approx(1e-3)
    dense = make_optimiser(net, 1e-3, 0.0, sparse=False, table_lr_scale=10.0)
    assert all(g["lr"] == 1e-3 for g in dense.param_groups)  # dense tables: one rate


def test_a_curve_still_at_zero_has_not_converged() -> None:
    tracker = Convergence(patience=2)
    for epoch in range(1, 6):
        tracker.update(epoch, 0.0)
    assert not tracker.flattened  # not started, not converged
    tracker.update(6, 0.01)
    tracker.update(7, 0.01)
    tracker.update(8, 0.01)
    assert tracker.flattened and tracker.best_epoch == 6
