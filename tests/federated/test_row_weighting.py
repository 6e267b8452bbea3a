"""Row-weighted aggregation of item tables, and title-seeded (frozen) item tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shopsense.federated.dp import DPSettings
from shopsense.federated.recs import Holdout, LocalSASRec, fed_config
from shopsense.federated.rounds import row_weighted_mean, run_rounds, weighted_mean

BEAUTY = Path(__file__).resolve().parents[3] / "shared" / "data" / "amazon-beauty-p5-titles"


def test_a_row_takes_the_clients_that_used_it_weighted_by_their_use() -> None:
    table_a = np.array([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0], [2.0, 2.0]], np.float32)
    table_b = np.array([[0.0, 0.0], [3.0, 3.0], [7.0, 7.0], [4.0, 4.0]], np.float32)
    bias_a, bias_b = np.array([1.0], np.float32), np.array([3.0], np.float32)
    counts_a = np.array([0.0, 2.0, 0.0, 1.0])  # row 2 never used by a
    counts_b = np.array([0.0, 0.0, 4.0, 3.0])  # row 1 never used by b
    mean = row_weighted_mean([([table_a, bias_a], 1.0, {0: counts_a}),
                              ([table_b, bias_b], 3.0, {0: counts_b})])
    np.testing.assert_allclose(mean[0][1], [1.0, 1.0])  # only a used it
    np.testing.assert_allclose(mean[0][2], [7.0, 7.0])  # only b used it
    np.testing.assert_allclose(mean[0][3], [(2.0 * 1 + 4.0 * 3) / 4] * 2)
    np.testing.assert_allclose(mean[0][0], [0.0, 0.0])  # nobody: the example-weighted mean
    np.testing.assert_allclose(mean[1], weighted_mean([([bias_a], 1.0), ([bias_b], 3.0)])[0])


def _chains(start: int, n: int = 40, length: int = 6, n_items: int = 24) -> list[np.ndarray]:
    rng = np.random.default_rng(start)
    out = []
    for _ in range(n):
        first = start + int(rng.integers(0, n_items // 2 - length))
        out.append(np.arange(first, first + length))
    return out


def test_sasrec_reports_how_often_each_item_row_was_used() -> None:
    model = LocalSASRec(24, fed_config(dim=8, max_len=8, batch_size=16))
    assert model.row_counts() == {}  # nothing trained yet
    sequences = _chains(0)
    model.fit_round(sequences, epochs=1)
    counts = model.row_counts()[model.keys().index("item_emb.weight")]
    expected = np.bincount(np.concatenate(sequences), minlength=25)
    expected[0] = 0
    np.testing.assert_array_equal(counts, expected)
    assert counts[13:].sum() == 0  # the other half of the catalogue: never used here
    assert LocalSASRec(24, fed_config(dim=8), row_weighted=False).row_counts() == {}


def test_rows_a_client_never_used_keep_the_other_clients_values() -> None:
    """Two clients on disjoint halves of the catalogue: after a round, the global rows of each
    half are exactly the rows of the client that used them (no averaging with a client that
    never saw those items); the body is the plain mean."""
    def pair() -> list[LocalSASRec]:
        made = [LocalSASRec(24, fed_config(dim=8, max_len=8, batch_size=16, dropout=0.0),
                            seed=s) for s in (0, 1)]
        made[1].load(made[0].weights())
        return made

    datas = [_chains(0), _chains(12)]
    alone = pair()
    trained = []
    for client, data in zip(alone, datas, strict=True):
        client.fit_round(data, 1)
        trained.append(client.weights())
    federation = pair()
    run_rounds(federation, datas, rounds=1)
    key = federation[0].keys().index("item_emb.weight")
    table = federation[0].weights()[key]
    for data, weights in zip(datas, trained, strict=True):
        rows = np.unique(np.concatenate(data))
        np.testing.assert_allclose(table[rows], weights[key][rows], rtol=1e-5, atol=1e-6)
    body = [i for i, k in enumerate(federation[0].keys()) if k != "item_emb.weight"]
    for i in body:
        np.testing.assert_allclose(federation[0].weights()[i],
                                   (trained[0][i] + trained[1][i]) / 2, rtol=1e-4, atol=1e-6)


def _titles(n_items: int, dim: int) -> np.ndarray:
    return np.random.default_rng(5).normal(size=(n_items, dim)).astype(np.float32)


def test_frozen_title_items_stay_put_and_are_not_sent() -> None:
    init = _titles(24, 8)
    model = LocalSASRec(24, fed_config(dim=8, max_len=8, batch_size=16), item_init=init,
                        freeze_items=True)
    before = model.net.item_emb.weight.detach().clone()
    np.testing.assert_allclose(before[1:].numpy(), init * 8 ** -0.5, rtol=1e-6)
    body_before = model.net.pos_emb.weight.detach().clone()
    model.fit_round(_chains(0), epochs=1)
    assert (model.net.item_emb.weight == before).all()
    assert not (model.net.pos_emb.weight == body_before).all()  # the body trained
    assert "item_emb.weight" not in model.keys()
    assert model.row_counts() == {}
    with pytest.raises(ValueError, match="item_init"):
        LocalSASRec(24, fed_config(dim=8), freeze_items=True)
    with pytest.raises(ValueError, match="item_init"):
        LocalSASRec(24, fed_config(dim=8), item_init=_titles(23, 8))


@pytest.mark.slow  # per-sample gradients (~10 s on the loaded 2-core machine)
def test_dp_sgd_on_a_frozen_title_table_noises_only_the_body() -> None:
    holdout = Holdout.of(_chains(0, n=80))
    model = LocalSASRec(24, fed_config(dim=8, max_len=8), item_init=_titles(24, 8),
                        freeze_items=True, dp=DPSettings(8.0, batch_size=16), total_epochs=2)
    table = model.net.item_emb.weight.detach().clone()
    model.fit_round(holdout.train, epochs=2)
    spent = model.privacy()
    assert spent is not None and 7.0 < spent["epsilon"] <= 8.0 + 1e-6
    assert (model.net.item_emb.weight == table).all()
    trainable = {n for n, p in model.net.named_parameters() if p.requires_grad}
    assert "item_emb.weight" not in trainable and "pos_emb.weight" in trainable


@pytest.mark.slow  # loads the USE encoder
@pytest.mark.skipif(not BEAUTY.exists(), reason="Beauty data not present")
def test_simulate_finds_beauty_titles_and_refuses_a_file_without_a_catalogue(
        tmp_path: Path) -> None:
    from shopsense.federated.simulate import load_input, title_init

    data = load_input(BEAUTY / "sequential_data.txt", max_users=40)
    vectors = title_init(BEAUTY / "sequential_data.txt", None, data.items, 8)
    assert vectors.shape == (len(data.items), 8)
    assert (np.abs(vectors).sum(axis=1) > 0).mean() > 0.9  # nearly every item has a title
    lonely = tmp_path / "sequential_data.txt"
    lonely.write_text("u1 1 2 3\nu2 2 3 4\n")
    with pytest.raises(ValueError, match="catalogue"):
        title_init(lonely, None, load_input(lonely).items, 8)
