"""A federated client's local step is the home's SASRec step: the same loss rule (full
softmax on small catalogues, sampled softmax with log-Q correction above `full_max_items`),
batch size and rate; and a federation trained with the sampled step still beats its
clients alone where they lack each other's transitions (a known answer)."""

from __future__ import annotations

import numpy as np
import pytest

from shopsense.federated.experiment import RecsPlan, compare
from shopsense.federated.recs import LocalSASRec, fed_config
from shopsense.federated.splits import Client
from shopsense.models.sasrec import SASRec, SASRecConfig

HALF = 30  # items 0..29 and 30..59: two halves of one chain catalogue


def _runs(lo: int, hi: int, n: int, length: int, seed: int) -> list[np.ndarray]:
    """Runs of consecutive items inside [lo, hi): the next item is always the following one."""
    rng = np.random.default_rng(seed)
    return [np.arange(s, s + length) for s in rng.integers(lo, hi - length + 1, size=n)]


def test_the_federated_default_is_the_homes_recipe() -> None:
    home, fed = SASRecConfig(), fed_config()
    assert (fed.batch_size, fed.lr, fed.loss, fed.full_max_items, fed.negatives) == (
        home.batch_size, home.lr, home.loss, home.full_max_items, home.negatives)
    assert RecsPlan().batch_size == home.batch_size
    assert fed.bf16 is False


@pytest.mark.parametrize("full_max_items", [16, 64])
def test_a_client_chooses_its_loss_as_the_home_does(full_max_items: int) -> None:
    sequences = _runs(0, 40, n=20, length=5, seed=0)
    config = fed_config(dim=8, max_len=8, full_max_items=full_max_items, max_epochs=1)
    home = SASRec(config).fit(sequences, 40)
    client = LocalSASRec(40, config)
    client.fit_round(sequences)
    assert client.loss == home.info_["loss"] == ("sampled" if full_max_items < 40 else "full")


def test_a_sampled_step_leaves_items_outside_its_candidates_alone() -> None:
    """One step, no uniform negatives: only the batch's own items get a gradient, so every
    other row of the item table stays put (under the full softmax every row moves: each is
    a negative of every position; test_sparse_items)."""
    data = _runs(0, 20, n=30, length=5, seed=1)
    used = np.zeros(41, bool)
    used[np.concatenate(data) + 1] = True  # row = item + 1 (row 0: padding)

    def moved_rows(loss: str) -> np.ndarray:
        client = LocalSASRec(40, fed_config(dim=8, max_len=8, batch_size=64, loss=loss,
                                            negatives=0), seed=0)
        before = client.net.item_emb.weight.detach().clone()
        client.fit_round(data)  # 30 shoppers, batches of 64: one step
        return ((client.net.item_emb.weight.detach() - before).norm(dim=1) > 0).numpy()

    np.testing.assert_array_equal(moved_rows("sampled"), used)
    assert moved_rows("full")[1:].all()


@pytest.mark.slow
@pytest.mark.parametrize("loss", ["sampled", "full"])
def test_federation_with_the_homes_step_beats_each_client_alone(loss: str) -> None:
    """Each client holds long runs in its own half and new shoppers (three items) in the
    other; its new shoppers' next items follow transitions only the other client saw."""
    clients = []
    for c, (own, other) in enumerate([((0, HALF), (HALF, 2 * HALF)),
                                      ((HALF, 2 * HALF), (0, HALF))]):
        seqs = _runs(*own, n=80, length=8, seed=c) + _runs(*other, n=40, length=4,
                                                           seed=10 + c)
        clients.append(Client(f"c{c}", [f"c{c}-{i}" for i in range(len(seqs))], seqs))
    plan = RecsPlan(rounds=12, local_epochs=2, dim=16, batch_size=32, loss=loss,
                    adapt_epochs=0, own_round=False, max_len=8, seed=0)
    out = compare(clients, 2 * HALF, plan, variants=("federated", "local_only"))
    for name in ("c0", "c1"):
        fed, alone = (out[v]["per_client"][name]["ndcg@10"] for v in ("federated",
                                                                     "local_only"))
        assert fed > alone + 0.1, (name, fed, alone)
        assert 1 <= out["local_only"]["per_client"][name]["best_epoch"] <= 24  # reported
