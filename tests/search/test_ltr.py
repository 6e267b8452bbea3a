"""The learned ranker: it learns a signal that is there, refuses noise, and round-trips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shopsense.rank.ltr import KeywordOrder, LambdaMartRanker, QueryBlend, mean_ndcg
from shopsense.rank.search_features import FEATURE_NAMES

COL = {name: i for i, name in enumerate(FEATURE_NAMES)}


def _queries(n: int, seed: int, signal: bool) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """BM25F is a weak cue; when `signal`, the phrase feature decides relevance."""
    rng = np.random.default_rng(seed)
    groups, gains = [], []
    for _ in range(n):
        x = rng.random((30, len(FEATURE_NAMES))).astype(np.float32)
        relevant = rng.random(30) < 0.2
        cue = relevant if signal else rng.random(30) < 0.2
        x[:, COL["phrase_longest"]] = np.where(cue, 0.8 + 0.2 * rng.random(30), 0.5 * rng.random(30))
        x[:, COL["bm25f"]] = rng.random(30) + 0.3 * relevant
        x[:, COL["bm25f_rel"]] = x[:, COL["bm25f"]] / x[:, COL["bm25f"]].max()
        groups.append(x)
        gains.append(relevant.astype(float) * 2)
    return groups, gains


def test_lambdamart_learns_a_real_signal_and_beats_bm25() -> None:
    groups, gains = _queries(200, 0, signal=True)
    ranker = LambdaMartRanker(n_estimators=60, seed=0).fit(groups, gains)
    assert ranker.mode_ == "model"
    test_groups, test_gains = _queries(60, 1, signal=True)
    assert mean_ndcg(ranker, test_groups, test_gains) > \
        mean_ndcg(KeywordOrder(), test_groups, test_gains) + 0.2


def test_guard_falls_back_when_the_model_does_not_win() -> None:
    groups, gains = _queries(120, 2, signal=False)
    ranker = LambdaMartRanker(n_estimators=30, seed=0).fit(groups, gains)
    assert ranker.validation_["model"] <= max(ranker.validation_.values())
    if ranker.mode_ != "model":
        x = groups[0]
        expected = (KeywordOrder() if ranker.mode_ == "bm25f" else QueryBlend()).score(x)
        assert np.allclose(ranker.score(x), expected)


def test_save_load_round_trip_uses_the_text_model(tmp_path: Path) -> None:
    groups, gains = _queries(100, 3, signal=True)
    ranker = LambdaMartRanker(n_estimators=20, seed=0).fit(groups, gains)
    ranker.save(tmp_path)
    assert (tmp_path / "model.txt").read_text().startswith("tree")
    loaded = LambdaMartRanker.load(tmp_path)
    assert loaded.mode_ == ranker.mode_
    assert np.allclose(loaded.score(groups[0]), ranker.score(groups[0]))


def test_fit_validates_its_input() -> None:
    groups, gains = _queries(20, 4, signal=True)
    with pytest.raises(ValueError):
        LambdaMartRanker().fit(groups[:5], gains[:5])
    with pytest.raises(ValueError):
        LambdaMartRanker().fit(groups, [g[:-1] for g in gains])
    with pytest.raises(ValueError):
        LambdaMartRanker().fit([g[:, :3] for g in groups], gains)
