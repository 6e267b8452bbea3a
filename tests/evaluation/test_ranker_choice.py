"""What orders the served recommendations when no learned ranker clearly wins: SASRec's own
order (`SourceOrderRanker`), saved and loaded like the learned ones; and the paired interval
the choice reads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shopsense.rank.recs_features import feature_names
from shopsense.rank.recs_ranker import SourceOrderRanker, load_ranker
from shopsense.training.recs import _paired_interval, _per_user_ndcg


def test_source_order_follows_the_source_then_fusion(tmp_path: Path) -> None:
    names = feature_names(["sasrec", "covisit"])
    ranker = SourceOrderRanker(names, "sasrec")
    x = np.zeros((4, len(names)), dtype=np.float32)
    x[:, names.index("sasrec.rrank")] = [1 / 3, 1.0, 0.0, 0.0]  # sasrec ranks 3, 1, -, -
    x[:, names.index("covisit.rrank")] = [1.0, 0.0, 1 / 2, 1.0]  # covisit breaks the rest
    assert np.argsort(-ranker.score(x)).tolist() == [1, 0, 3, 2]
    contributions = ranker.contributions(x)
    assert contributions.shape == x.shape and contributions[1, names.index("sasrec.rrank")] == 1
    ranker.save(tmp_path / "r")
    again = load_ranker(tmp_path / "r")
    assert isinstance(again, SourceOrderRanker) and again.source == "sasrec"
    assert np.array_equal(again.score(x), ranker.score(x))
    with pytest.raises(ValueError):
        SourceOrderRanker(names, "als")


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
