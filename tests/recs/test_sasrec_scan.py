"""SASRec's quantised scan + exact re-scoring (models/sasrec_scan.py) and the sparse request
it feeds (models/sparse_scores.py, `blend.sparse_parts`): the exact path is unchanged below
the size threshold, the sparse arithmetic equals the dense one, and the scan keeps the exact
top k of a planted structure at 50k items."""

from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np
import pytest

from shopsense.models.blend import _request_log_softmax, blend_parts
from shopsense.models.context import RecContext, top_indices
from shopsense.models.sasrec import SASRec, SASRecNet
from shopsense.models.sasrec_scan import QuantisedScan
from shopsense.models.sparse_scores import SparseRow
from shopsense.pipeline.recommend import RecommendationEngine


def _row(dense: np.ndarray, index: np.ndarray, **kw: object) -> SparseRow:
    return SparseRow.of(dense.size, index, dense[index], **kw)


def test_a_sparse_row_reads_as_its_dense_vector() -> None:
    rng = np.random.default_rng(0)
    dense = np.round(rng.normal(size=5000), 1)  # many ties: broken by the lower index
    index = rng.choice(5000, 700, replace=False)
    covered = np.full(5000, -np.inf)
    covered[index] = dense[index]
    row = _row(dense, index)  # fill -inf: what co-visits hand on
    assert np.array_equal(row.dense(), covered) and np.array_equal(np.asarray(row), covered)
    wanted = rng.integers(0, 5000, 300)
    assert np.array_equal(row[wanted], covered[wanted]) and row[int(index[0])] == dense[index[0]]
    banned = set(rng.choice(index, 40).tolist())
    for k in (1, 10, 50, 700, 900):
        assert np.array_equal(row.top(k, banned), top_indices(covered, k, banned))
    exact = _row(dense, index, rest=lambda w: dense[w])  # any other item exact on demand
    assert np.array_equal(exact.dense(), dense) and np.array_equal(exact[wanted], dense[wanted])
    # fewer allowed candidates than k: read from the dense vector, as the exact path would
    assert np.array_equal(exact.top(650, set(index[:100].tolist())),
                          top_indices(dense, 650, set(index[:100].tolist())))
    shares = _row(np.abs(dense), index, fill=0.0)
    assert np.array_equal(shares.top(800), top_indices(shares.dense(), 800))


def test_sparse_blend_arithmetic_equals_the_dense_request() -> None:
    """Over every item, with the exact normaliser, the sparse parts are the dense ones bit
    for bit; over candidates, every candidate's parts are, and other items' on demand."""
    rng = np.random.default_rng(1)
    n = 70_000
    logits = rng.normal(size=n) * 3
    covisit = np.full(n, -np.inf)
    at = rng.choice(n, 900, replace=False)
    covisit[at] = rng.exponential(size=at.size)
    norm = float(logits[0] - _request_log_softmax(logits)[0])
    want = blend_parts(logits, covisit, 2.0)
    every = SparseRow(n, np.arange(n), logits.copy(), rest=lambda w: logits[w], normaliser=norm)
    cov = _row(covisit, at)
    for got in (blend_parts(every, covisit, 2.0), blend_parts(every, cov, 2.0)):
        for g, w in zip(got, want, strict=True):
            assert np.array_equal(g.dense(), w)
    some = rng.choice(n, 2000, replace=False)
    part = _row(logits, some, rest=lambda w: logits[w], normaliser=norm)
    got = blend_parts(part, cov, 2.0)
    assert np.array_equal(got[0].index, np.union1d(some, at))
    for g, w in zip(got, want, strict=True):
        assert np.array_equal(g.dense(), w)
        assert np.array_equal(g[np.arange(0, n, 7)], w[::7])
    # a dense SASRec vector with a sparse co-visit row: the dense arithmetic, unchanged
    for g, w in zip(blend_parts(logits, cov, 2.0), want, strict=True):
        assert np.array_equal(g, w)
    # a shopper SASRec cannot score: -inf blend and log-softmax, the co-visit share kept
    empty = SparseRow(n, np.zeros(0, np.int64), np.zeros(0))
    blend, logp, share = blend_parts(empty, cov, 2.0)
    assert np.all(blend.dense() == -np.inf) and np.all(logp.dense() == -np.inf)
    assert np.array_equal(share.dense(), blend_parts(np.full(n, -np.inf), covisit, 2.0)[2])


def _planted(n: int, group: int, dim: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Items around `n // group` directions; a shopper's state near one of them."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n // group, dim)).astype(np.float32)
    table = (np.repeat(centres, group, axis=0) + rng.normal(size=(n, dim)) * 0.6)
    states = centres[rng.integers(0, len(centres), 40)] + rng.normal(size=(40, dim)) * 0.3
    return table.astype(np.float32), states.astype(np.float32)


def test_the_scan_keeps_the_exact_top_k_of_a_planted_structure() -> None:
    table, states = _planted(50_000, 100, 64, seed=2)
    scan = QuantisedScan.build(table, candidates=1024)
    recall10, recall50, error = [], [], []
    for state in states:
        exact = (table @ state).astype(np.float64)
        row = scan.request(state, table)
        assert np.allclose(row.values, exact[row.index], rtol=1e-5, atol=1e-4)
        recall10.append(np.isin(top_indices(exact, 10), row.top(10)).mean())
        recall50.append(np.isin(top_indices(exact, 50), row.top(50)).mean())
        top = exact.max()
        error.append(abs(row.normaliser - (top + np.log(np.exp(exact - top).sum()))))
    assert np.mean(recall10) >= 0.97 and np.mean(recall50) >= 0.95
    assert max(error) < 0.01  # one shift for every item of a request: no order changes


def _model(n_items: int, **config: int) -> SASRec:
    model = SASRec(dim=16, max_len=10, **config)
    model.n_items_, model.net_ = n_items, SASRecNet(n_items, model.config)
    model.net_.eval()
    return model


def test_the_size_threshold_switches_between_exact_and_scanned_scores() -> None:
    history = np.array([3, 17, 250, 4001])
    below = _model(5000, scan_min_items=5001)
    assert below._scanned() is None
    dense = below.request_scores(history)
    assert isinstance(dense, np.ndarray) and np.array_equal(dense, below.score_request(history))
    assert _model(5000, scan_min_items=0)._scanned() is None  # 0: exact at every size
    above = _model(5000, scan_min_items=5000, scan_candidates=256)
    above.net_ = below.net_
    row = above.request_scores(history)
    assert isinstance(row, SparseRow) and row.index.size == 256
    assert np.allclose(row.values, dense[row.index], rtol=1e-5, atol=1e-6)
    assert np.allclose(row[np.arange(5000)], dense, rtol=1e-5, atol=1e-6)
    assert np.isin(top_indices(dense, 10), row.top(10)).mean() >= 0.9
    top = dense.max()
    assert abs(row.normaliser - (top + np.log(np.exp(dense - top).sum()))) < 0.05


def test_for_you_through_the_scan_serves_what_the_exact_path_serves(
        engine: RecommendationEngine) -> None:
    """The engine with SASRec's scan forced on (every item a candidate): the same lists,
    the blend's signals within float32 rounding of the exact path's."""
    variant = copy.copy(engine)
    variant.sources = dict(engine.sources)
    sasrec = copy.copy(engine.sources["sasrec"])
    model = copy.copy(sasrec.model_)
    model.config = replace(model.config, scan_min_items=1, scan_candidates=model.n_items_)
    model._scan_ = None
    sasrec.model_ = model
    variant.sources["sasrec"] = sasrec
    assert isinstance(sasrec.request_scores(RecContext(
        recent_items=tuple(engine.histories[sorted(engine.histories)[0]]))), SparseRow)
    for user in sorted(engine.histories)[:40]:
        want, got = engine.for_you(user, 10), variant.for_you(user, 10)
        assert [r.item_id for r in got] == [r.item_id for r in want]
        for a, b in zip(got, want, strict=True):
            for key in ("blend", "sasrec.logp", "covisit.share"):
                if key in b.signals:
                    assert a.signals[key] == pytest.approx(b.signals[key], abs=1e-4)


def test_a_scanned_for_you_request_writes_no_catalogue_long_vector(
        engine: RecommendationEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    """With fewer candidates than items (and more than a source hands on plus the
    shopper's history), for-you requests read the candidates only: no reader asks a
    `SparseRow` for its dense vector."""
    variant = copy.copy(engine)
    variant.config = replace(engine.config, candidates_per_source=10)
    variant.sources = dict(engine.sources)
    sasrec = copy.copy(engine.sources["sasrec"])
    model = copy.copy(sasrec.model_)
    model.config = replace(model.config, scan_min_items=1, scan_candidates=40)
    model._scan_ = None
    sasrec.model_ = model
    variant.sources["sasrec"] = sasrec

    def refuse(row: SparseRow) -> np.ndarray:
        raise AssertionError("a catalogue-long vector")

    monkeypatch.setattr(SparseRow, "dense", refuse)
    served = [variant.for_you(user, 10) for user in sorted(engine.histories)[:30]]
    assert all(len(answer) == 10 for answer in served)
    assert all("blend" in r.signals for answer in served for r in answer[:3])
    assert model._scan_ is not None and model._scan_[1].candidates == 40  # it did scan
