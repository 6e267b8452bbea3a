"""Co-visit scores are computed over the columns the shopper's anchors co-occur with only (a
dense row per anchor is 8 MB at a million items), and equal the dense formula: recency-weighted
sum over the anchors of (trained + live pair weight) / item count ** alpha, -inf where 0."""

from __future__ import annotations

import numpy as np
import pytest

from shopsense.domain import Event
from shopsense.models.context import RecContext, recency_weights
from shopsense.models.interactions import Interactions
from shopsense.models.sequences import ItemIndex
from shopsense.retrieve.covisit import CovisitRetriever


def _fitted(n_items: int = 60, n_users: int = 80, seed: int = 1
            ) -> tuple[CovisitRetriever, Interactions, ItemIndex]:
    rng = np.random.default_rng(seed)
    data = Interactions([f"u{u}" for u in range(n_users)],
                        [[f"i{j}" for j in rng.integers(0, n_items // 2,
                                                         size=rng.integers(2, 10))]
                         for _ in range(n_users)])
    items = ItemIndex([f"i{j}" for j in range(n_items)])  # the upper half never co-occurs
    source = CovisitRetriever().fit(data, items)
    for u in range(0, n_users, 3):  # live pairs on top of the trained ones
        source.observe(Event(f"e{u}", "view", 0.0, user_id=f"u{u}",
                             item_id=f"i{(7 * u) % n_items}"))
    return source, data, items


def _dense_formula(source: CovisitRetriever, anchors: np.ndarray) -> np.ndarray:
    rows = source._with_live()[anchors].toarray()
    rows /= np.maximum(source.item_counts_, 1.0) ** source.alpha
    total = recency_weights(anchors.size, source.decay) @ rows
    return np.where(total > 0, total, -np.inf)


def test_scores_equal_the_dense_formula_with_live_pairs() -> None:
    source, data, _ = _fitted()
    for seq in data.sequences[:40]:
        ctx = RecContext(recent_items=tuple(seq))
        anchors = source.recent_indices(ctx)[-source.window * 2:]
        got, want = source.score_all(ctx), _dense_formula(source, anchors)
        assert np.array_equal(np.isfinite(got), np.isfinite(want))
        assert np.allclose(got[np.isfinite(got)], want[np.isfinite(want)], rtol=1e-12)


def test_rows_hold_only_the_columns_the_anchors_touch() -> None:
    source, data, _ = _fitted(n_items=200_000)
    ctx = RecContext(recent_items=tuple(data.sequences[0]))
    columns, rows = source._rows(source.recent_indices(ctx))
    assert columns.size <= 100 and rows.shape == (len(data.sequences[0]), columns.size)
    assert np.all(np.diff(columns) > 0)
    scores = source.score_all(ctx)
    assert set(np.flatnonzero(np.isfinite(scores)).tolist()) <= set(columns.tolist())


def test_evidence_names_the_anchor_that_contributes_most() -> None:
    source, data, items = _fitted()
    seq = data.sequences[5]
    ctx = RecContext(recent_items=tuple(seq))
    anchors = source.recent_indices(ctx)[-source.window * 2:]
    dense = source._with_live()[anchors].toarray()
    dense /= np.maximum(source.item_counts_, 1.0) ** source.alpha
    contrib = recency_weights(anchors.size, source.decay)[:, None] * dense
    scores = source.score_all(ctx)
    proposed = np.flatnonzero(np.isfinite(scores))[:10].tolist()
    never = [items.index("i59")]  # co-occurs with nothing: weight 0, the first anchor
    for index, ev in zip(proposed + never, source.evidence_many(ctx, proposed + never),
                         strict=True):
        best = int(np.argmax(contrib[:, index]))
        assert ev == {"because_item": items.ids[int(anchors[best])],
                      "pair_weight": round(float(contrib[best, index]), 4)}


@pytest.mark.parametrize("recent", [(), ("i59",), ("unknown",)])
def test_an_anchor_without_pairs_proposes_nothing(recent: tuple[str, ...]) -> None:
    source, _, _ = _fitted()
    ctx = RecContext(recent_items=recent)
    assert np.all(np.isneginf(source.score_all(ctx)))
    evidence = source.evidence_many(ctx, [0, 1])
    assert all(ev in ({}, {"because_item": "i59", "pair_weight": 0.0}) for ev in evidence)
