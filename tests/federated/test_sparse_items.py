"""Sparse item-table steps (only the rows a batch used move) and the untrained
title-neighbour reference of a simulation report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from shopsense.federated.dp import DPSettings
from shopsense.federated.experiment import RecsPlan, compare, title_neighbour
from shopsense.federated.recs import Holdout, LocalSASRec, fed_config
from shopsense.federated.report import recs_table
from shopsense.federated.splits import Client

N_ITEMS = 24


def _titles(n_items: int = N_ITEMS, dim: int = 8, seed: int = 5) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n_items, dim)).astype(np.float32)


def _chains(lo: int, hi: int, n: int = 40, length: int = 5, seed: int = 0) -> list[np.ndarray]:
    """Runs of consecutive items inside [lo, hi)."""
    rng = np.random.default_rng(seed)
    return [np.arange(s, s + length) for s in rng.integers(lo, hi - length + 1, size=n)]


def _model(sparse: bool, **kwargs: object) -> LocalSASRec:
    return LocalSASRec(N_ITEMS, fed_config(dim=8, max_len=8, batch_size=16), seed=0,
                       item_init=_titles(), sparse_items=sparse, **kwargs)  # type: ignore[arg-type]


def test_a_sparse_step_moves_only_the_rows_its_batches_used() -> None:
    model = _model(sparse=True)
    table = model.net.item_emb.weight.detach().clone()
    body = model.net.pos_emb.weight.detach().clone()
    model.fit_round(_chains(0, 12), epochs=2)  # items 0..11: rows 1..12
    after = model.net.item_emb.weight.detach()
    assert torch_equal(after[13:], table[13:])  # never in a batch: bit for bit the titles
    assert not torch_equal(after[1:13], table[1:13])
    assert all(not torch_equal(after[r], table[r]) for r in range(1, 13))  # each used row moved
    assert not torch_equal(model.net.pos_emb.weight.detach(), body)  # the body trains as ever


def test_a_dense_step_moves_rows_no_batch_used() -> None:
    """Why sparse steps exist: with the full softmax every row is a negative, and Adam moves
    each one by about the learning rate a step however small its gradient."""
    model = _model(sparse=False)
    table = model.net.item_emb.weight.detach().clone()
    model.fit_round(_chains(0, 12), epochs=2)
    moved = (model.net.item_emb.weight.detach()[13:] - table[13:]).norm(dim=1)
    assert (moved > 0.01).all()


def test_unseen_items_keep_their_title_vectors_and_their_twins() -> None:
    """Items 12..23 are near-twins by title of items 0..11 and no shopper touched them:
    after sparse training they are still the scaled title vectors (their title
    neighbourhoods intact); dense training moves them."""
    base = _titles(12)
    titles = np.concatenate([base, base + 0.05 * _titles(12, seed=6)])
    tables = {}
    for sparse in (True, False):
        model = LocalSASRec(N_ITEMS, fed_config(dim=8, max_len=8, batch_size=16), seed=0,
                            item_init=titles, sparse_items=sparse)
        model.fit_round(_chains(0, 12, n=80), epochs=3)
        tables[sparse] = model.net.item_weights().detach().numpy()
    np.testing.assert_allclose(tables[True][12:], titles[12:] * 8 ** -0.5, rtol=1e-6)
    assert not np.allclose(tables[False][12:], titles[12:] * 8 ** -0.5, atol=1e-3)


def test_sparse_steps_are_refused_under_dp_and_switched_off_by_the_plan() -> None:
    with pytest.raises(ValueError, match="DP-SGD"):
        _model(sparse=True, dp=DPSettings(8.0, batch_size=16))
    plan = RecsPlan(dim=8, sparse_items=True)
    assert plan.participant(N_ITEMS, "all", item_init=_titles()).sparse_items
    private = RecsPlan(dim=8, sparse_items=True, dp_epsilon=8.0).participant(N_ITEMS, "all")
    assert not private.sparse_items  # DP-SGD runs dense, as they must
    frozen = _model(sparse=True, freeze_items=True)
    assert not frozen.sparse_items  # nothing to thin out: the table does not train


def test_the_title_neighbour_reference_ranks_by_the_last_items_title() -> None:
    """Known answer: item i+12 is item i's title twin, and each shopper's test target is
    the twin of their last history item: the reference scores NDCG@10 = HR@10 = 1."""
    base = _titles(12)
    titles = np.concatenate([base, base + 0.01 * _titles(12, seed=6)])
    seqs = [np.array([(i + 3) % 12, (i + 5) % 12, i, i + 12]) for i in range(12)]
    clients = [Client("a", [f"u{i}" for i in range(6)], seqs[:6]),
               Client("b", [f"u{i}" for i in range(6, 12)], seqs[6:])]
    holdouts = [Holdout.of(c.sequences) for c in clients]
    row = title_neighbour(clients, holdouts, titles)
    assert row["ndcg@10"] == 1.0 and row["hr@10"] == 1.0 and row["trained"] is False
    assert set(row["per_client"]) == {"a", "b"} and row["_cases"].shape == (12,)
    shuffled = title_neighbour(clients, holdouts, _titles(seed=9))  # titles unrelated
    assert shuffled["ndcg@10"] < 0.6


def test_compare_reports_the_reference_beside_the_trained_variants() -> None:
    clients = [Client("a", [f"a{i}" for i in range(30)], _chains(0, 24, n=30, seed=1)),
               Client("b", [f"b{i}" for i in range(30)], _chains(0, 24, n=30, seed=2))]
    plan = RecsPlan(rounds=1, local_epochs=1, dim=8, batch_size=16, sparse_items=True,
                    adapt_epochs=0, own_round=False)
    out = compare(clients, N_ITEMS, plan, variants=("federated", "local_only"),
                  item_init=_titles())
    assert {"federated", "local_only", "title_neighbour"} <= set(out)
    assert "federated_vs_title_neighbour" in out["paired"]
    assert "local_only_vs_title_neighbour" in out["paired"]
    assert "title_neighbour" in recs_table({"recs": out})
    untitled = compare(clients, N_ITEMS, plan, variants=("local_only",))
    assert "title_neighbour" not in untitled  # no titles, no reference


def test_a_joining_home_takes_sparse_steps_as_asked_and_never_under_dp(
        tmp_path: Path, write_chain: Callable[..., tuple[Path, Path]]) -> None:
    from shopsense.federated.homes import JoinPlan, _sasrec_client, file_events
    from shopsense.federated.personalise import RoundKeeper

    events, _ = write_chain(tmp_path, 0)
    loaded, ids = file_events(events, None)
    for plan, expected in ((JoinPlan(dim=8, sparse_items=True), True),
                           (JoinPlan(dim=8), False),
                           (JoinPlan(dim=8, sparse_items=True, dp_epsilon=8.0), False)):
        _, _, participant = _sasrec_client(loaded, ids, plan, None, RoundKeeper(1))
        assert participant.sparse_items is expected


def torch_equal(a: object, b: object) -> bool:
    import torch

    return bool(torch.equal(a, b))  # type: ignore[arg-type]
