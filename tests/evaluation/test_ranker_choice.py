"""What orders the served recommendations when no learned ranker clearly wins: the offline
blend's order (`BlendOrderRanker`; the form engines saved before the blend became a source
rebuilt it from the candidates' SASRec and co-visit scores, and still loads), saved and loaded
like the learned ones; the paired interval the choice reads (tests/recs/test_blend_source.py:
the blend as a source and its exact order)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shopsense.rank.recs_features import feature_names
from shopsense.rank.recs_ranker import BlendOrderRanker, load_ranker
from shopsense.training.recs import _paired_interval, _per_user_ndcg


def _rows() -> tuple[list[str], np.ndarray]:
    names = feature_names(["sasrec", "covisit"])
    x = np.zeros((4, len(names)), dtype=np.float32)
    x[:, names.index("sasrec.score")] = [2.0, 3.0, 0.0, 0.0]  # logits; rows 2, 3: not proposed
    x[:, names.index("sasrec.rrank")] = [1 / 2, 1.0, 0.0, 0.0]
    x[:, names.index("covisit.score")] = [0.0, 0.0, 10.0, 40.0]
    return names, x


def test_the_older_blend_order_rebuilt_from_the_candidates(tmp_path: Path) -> None:
    names, x = _rows()
    assert np.argsort(-BlendOrderRanker(names, 0.0).score(x)).tolist()[:2] == [1, 0]
    # weight 4: row 3 (co-visit max) gets floor 1 + 4 = 5 > 3; row 2: 1 + 4 * 0.25 = 2
    blend = BlendOrderRanker(names, 4.0)
    assert blend.score(x).tolist() == pytest.approx([2.0, 3.0, 2.0, 5.0])
    assert blend.contributions(x)[3, names.index("covisit.score")] == pytest.approx(4.0)
    both = blend.score_groups(np.concatenate([x, x]), np.array([4, 4]))
    assert both.tolist() == pytest.approx(blend.score(x).tolist() * 2)
    blend.save(tmp_path / "r")
    again = load_ranker(tmp_path / "r")
    assert isinstance(again, BlendOrderRanker) and again.weight == 4.0
    assert np.array_equal(again.score(x), blend.score(x))
    alone = BlendOrderRanker(names, 0.0, partner=None)
    assert alone.score(x)[:2].tolist() == [2.0, 3.0]
    with pytest.raises(ValueError):
        BlendOrderRanker(names, 1.0, source="als")


def test_per_user_ndcg_counts_missing_shoppers_as_zero() -> None:
    scores = np.array([0.9, 0.1, 0.2, 0.8])
    labels = np.array([1.0, 0.0, 1.0, 0.0])
    values = _per_user_ndcg(scores, labels, np.array([2, 2]), 3)
    assert values.tolist() == pytest.approx([1.0, 1 / np.log2(3), 0.0])


def test_paired_interval_of_a_clear_and_of_no_gain() -> None:
    rng = np.random.default_rng(0)
    low, high = _paired_interval(0.05 + 0.01 * rng.standard_normal(500), 0)
    assert 0.04 < low < 0.05 < high < 0.06
    low, high = _paired_interval(rng.standard_normal(200) * 0.2, 0)
    assert low < 0 < high
    assert _paired_interval(np.zeros(0), 0) == (0.0, 0.0)
