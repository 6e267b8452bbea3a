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


def test_refit_uses_every_training_query_and_survives_a_reload(tmp_path: Path) -> None:
    groups, gains = _queries(200, 4, signal=True)
    rng = np.random.default_rng(4)
    for x in groups:  # a noisy cue: the model needs more than one tree
        x[:, COL["phrase_longest"]] += rng.normal(0.0, 0.25, len(x)).astype(np.float32)
    held = LambdaMartRanker(n_estimators=60, seed=0).fit(groups, gains)
    refitted = LambdaMartRanker(n_estimators=60, seed=0, refit=True).fit(groups, gains)
    assert refitted.mode_ == held.mode_ == "model"
    assert refitted.validation_ == held.validation_  # the guard's figures: the held-back fit
    best = held.booster_.best_iteration or held.n_trees  # type: ignore[attr-defined]
    assert best > 1 and refitted.n_trees == round(best * 200 / 160)  # 200 queries, not 160
    assert not np.allclose(refitted.score(groups[0]), held.score(groups[0]))
    refitted.save(tmp_path)
    loaded = LambdaMartRanker.load(tmp_path)
    assert loaded.refit and np.allclose(loaded.score(groups[0]), refitted.score(groups[0]))


def test_fit_validates_its_input() -> None:
    groups, gains = _queries(20, 4, signal=True)
    with pytest.raises(ValueError):
        LambdaMartRanker().fit(groups[:5], gains[:5])
    with pytest.raises(ValueError):
        LambdaMartRanker().fit(groups, [g[:-1] for g in gains])
    with pytest.raises(ValueError):
        LambdaMartRanker().fit([g[:, :3] for g in groups], gains)


def test_contributions_sum_exactly_to_the_score_and_cost_a_lookup(tmp_path: Path) -> None:
    import time

    rng = np.random.default_rng(3)
    groups, gains = [], []
    for _ in range(300):  # graded gains from two features and noise: a model of many trees
        x = rng.random((40, len(FEATURE_NAMES))).astype(np.float32)
        score = 2 * x[:, COL["phrase_longest"]] + x[:, COL["bm25f"]] + 0.3 * rng.random(40)
        groups.append(x)
        gains.append(np.digitize(score, [1.5, 2.2, 2.7]).astype(float))
    ranker = LambdaMartRanker(seed=0, min_child_samples=5).fit(groups, gains)
    assert ranker.mode_ == "model" and ranker.n_trees >= 10, ranker.n_trees
    x = np.vstack(groups[:4])[:100]
    raw = ranker.booster_.predict(x, num_threads=1)
    parts = ranker.contributions(x)
    assert parts.shape == (100, len(FEATURE_NAMES) + 1)
    assert np.abs(parts.sum(axis=1) - raw).max() < 1e-6
    named = ranker.explain(x)  # the evidence search shows: the same parts by name
    assert set(named) == {*FEATURE_NAMES, "base"}
    # the phrase feature decides relevance here; it carries the most weight
    weight = np.abs(parts[:, :-1]).mean(axis=0)
    assert FEATURE_NAMES[int(np.argmax(weight))] == "phrase_longest"
    started = time.thread_time()
    for _ in range(20):
        ranker.contributions(x)
    assert (time.thread_time() - started) / 20 < 0.01  # 100 results well under 10 ms
    ranker.save(tmp_path / "r")
    loaded = LambdaMartRanker.load(tmp_path / "r")
    assert np.abs(loaded.contributions(x) - parts).max() < 1e-6


def test_bagged_ranker_averages_its_bags_and_explains_on_one_scale(tmp_path: Path) -> None:
    """n_bags fits: each bag stops early on its own held-back part of the training queries
    (where the guard judges it), the score is the mean of the bags', the path contributions
    of every bag's trees sum exactly to it, and it round-trips."""
    groups, gains = _queries(200, 5, signal=True)
    rng = np.random.default_rng(5)
    for x in groups:  # a noisy cue: each bag needs several trees, and they differ
        x[:, COL["phrase_longest"]] += rng.normal(0.0, 0.25, len(x)).astype(np.float32)
    ranker = LambdaMartRanker(n_estimators=60, seed=0, n_bags=3).fit(groups, gains)
    assert ranker.mode_ == "model" and len(ranker.boosters_) == 3
    assert ranker.n_trees == sum(b.num_trees() for b in ranker.boosters_)
    x = groups[0]
    bags = np.stack([b.predict(x, num_threads=1) for b in ranker.boosters_])
    assert not np.allclose(bags[0], bags[1])  # other data, other seeds: other models
    assert np.allclose(ranker.score(x), bags.mean(axis=0), atol=1e-5)
    parts = ranker.contributions(x)
    assert np.abs(parts.sum(axis=1) - bags.mean(axis=0)).max() < 1e-5
    test_groups, test_gains = _queries(60, 6, signal=True)
    assert mean_ndcg(ranker, test_groups, test_gains) > \
        mean_ndcg(KeywordOrder(), test_groups, test_gains) + 0.2
    ranker.save(tmp_path)
    assert sorted(p.name for p in tmp_path.glob("model*.txt")) == [
        "model.txt", "model_1.txt", "model_2.txt"]
    loaded = LambdaMartRanker.load(tmp_path)
    assert loaded.n_bags == 3 and np.allclose(loaded.score(x), ranker.score(x))
    assert np.abs(loaded.contributions(x) - parts).max() < 1e-6
    with pytest.raises(ValueError):
        LambdaMartRanker(n_bags=0).fit(groups, gains)


def test_one_tree_walk_per_row_serves_the_score_and_its_explanation() -> None:
    """The bags are evaluated as one stacked forest: a row's leaves, found when it is scored,
    explain it afterwards without walking the trees again, and never outlive the model
    (a refit scores with the new trees)."""
    groups, gains = _queries(200, 7, signal=True)
    ranker = LambdaMartRanker(n_estimators=40, seed=0, n_bags=2).fit(groups, gains)
    x = groups[3]
    scores = ranker.score(x)
    walks: list[int] = []
    for booster in ranker.boosters_:
        real = booster.predict
        booster.predict = (lambda data, *a, _real=real, **kw:
                           walks.append(len(data)) or _real(data, *a, **kw))
    parts = ranker.contributions(x[[4, 0, 9]])  # the page's rows, in page order
    assert walks == []
    assert np.abs(parts.sum(axis=1) - scores[[4, 0, 9]]).max() < 1e-5
    ranker.contributions(np.vstack([x[:2], x[:2] + 1.0]))  # two rows never scored
    assert walks == [2, 2]
    other_groups, other_gains = _queries(200, 8, signal=True)
    ranker.fit([g[:, ::-1].copy() for g in other_groups], other_gains)  # other trees
    fresh = np.mean([b.predict(x, num_threads=1) for b in ranker.boosters_], axis=0)
    assert np.allclose(ranker.score(x), fresh, atol=1e-5)
    assert np.abs(ranker.contributions(x).sum(axis=1) - fresh).max() < 1e-5


@pytest.mark.parametrize("signal", [True, False])
def test_a_page_explained_as_one_table_is_explain_exactly(signal: bool) -> None:
    """`explain_table` (what a search page's contributions read) holds `explain`'s parts, in
    its order, value for value, whether the model serves or its fallback does; and the page's
    contributions are the same through either."""
    from shopsense.pipeline.search_page import _contributions

    groups, gains = _queries(150, 11, signal=signal)
    ranker = LambdaMartRanker(n_estimators=40, seed=0, n_bags=2).fit(groups, gains)
    x = groups[3]
    parts = ranker.explain(x)
    names, table = ranker.explain_table(x)
    assert names == tuple(parts)
    assert np.array_equal(table, np.column_stack([np.asarray(v, np.float64)
                                                  for v in parts.values()]))
    js = [4, 0, 17, 4, 29]
    rows = js if ranker.mode_ != "model" else list(range(len(js)))
    picked = parts if ranker.mode_ != "model" else ranker.explain(x[js])
    want = [{n: float(np.float64(picked[n][r])) for n in picked if picked[n][r] != 0}
            for r in rows]
    assert _contributions(ranker, x, js) == want
