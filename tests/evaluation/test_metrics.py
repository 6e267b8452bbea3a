"""The one metrics module against hand-computed cases and brute-force oracles."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shopsense.evaluation.metrics import (
    bootstrap_ci,
    bootstrap_means,
    dcg_at_k,
    grouped_ndcg,
    hits_from_ranks,
    loo_metrics,
    mean_with_misses,
    mrr_at_k,
    ndcg_at_k,
    ndcg_from_ranks,
    recall_at_k,
    summarise,
    target_ranks,
)


def test_target_ranks_by_hand() -> None:
    top = np.array([[5, 3, 9], [1, 2, 3], [7, 7, 4]])
    assert target_ranks(top, np.array([9, 8, 7])).tolist() == [2, -1, 0]


def test_leave_one_out_metrics_by_hand() -> None:
    ranks = np.array([0, 1, 9, 10, -1])
    assert hits_from_ranks(ranks, 10).tolist() == [1, 1, 1, 0, 0]
    expected = [1.0, 1 / math.log2(3), 1 / math.log2(11), 0.0, 0.0]
    assert ndcg_from_ranks(ranks, 10) == pytest.approx(expected)
    got = loo_metrics(ranks, (1, 10))
    assert got["hr@1"].tolist() == [1, 0, 0, 0, 0]
    assert got["ndcg@10"].mean() == pytest.approx(sum(expected) / 5)


def test_graded_ndcg_by_hand() -> None:
    gains = {"a": 3.0, "b": 2.0, "c": 1.0}
    ranked = ["c", "x", "a", "b"]
    dcg = 1 / 1 + 0 + 3 / 2 + 2 / math.log2(5)
    ideal = 3 / 1 + 2 / math.log2(3) + 1 / 2
    assert dcg_at_k(ranked, gains, 10) == pytest.approx(dcg)
    assert ndcg_at_k(ranked, gains, 10) == pytest.approx(dcg / ideal)
    assert ndcg_at_k(ranked, gains, 1) == pytest.approx(1 / 3)
    assert ndcg_at_k(ranked, {"z": 0.0}, 10) == 0.0
    assert recall_at_k(ranked, gains, 2) == pytest.approx(1 / 3)
    assert mrr_at_k(["x", "y", "b"], gains, 10) == pytest.approx(1 / 3)
    assert mrr_at_k(["x", "y", "b"], gains, 2) == 0.0


def test_grouped_ndcg_by_hand() -> None:
    # group 1: scores order b, a, c; gains a=1, b=0, c=2 -> DCG = 0 + 1/log2(3) + 2/2
    # group 2: one positive ranked first -> 1; group 3: nothing relevant -> 0
    scores = np.array([0.5, 0.9, 0.1, 3.0, 1.0, 0.2, 0.3])
    gains = np.array([1.0, 0.0, 2.0, 1.0, 0.0, 0.0, 0.0])
    got = grouped_ndcg(scores, gains, np.array([3, 2, 2]), k=10)
    ideal = 2 + 1 / math.log2(3)
    assert got == pytest.approx([(1 / math.log2(3) + 1) / ideal, 1.0, 0.0])
    assert grouped_ndcg(scores, gains, np.array([3, 2, 2]), k=1)[0] == 0.0
    assert mean_with_misses(got, 5) == pytest.approx(got.sum() / 5)


def test_grouped_ndcg_ties_keep_input_order() -> None:
    got = grouped_ndcg(np.zeros(3), np.array([0.0, 0.0, 1.0]), np.array([3]), k=2)
    assert got.tolist() == [0.0]  # the positive is third among equals
    with pytest.raises(ValueError):
        grouped_ndcg(np.zeros(3), np.zeros(3), np.array([2]))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(st.tuples(st.floats(-5, 5), st.integers(0, 3)), min_size=1, max_size=12),
                min_size=1, max_size=6), st.integers(1, 10))
def test_grouped_ndcg_equals_the_list_version(groups: list[list[tuple[float, int]]],
                                               k: int) -> None:
    """Oracle: sort each group in Python and score it with the id-list nDCG."""
    scores = np.array([s for g in groups for s, _ in g])
    gains = np.array([float(y) for g in groups for _, y in g])
    got = grouped_ndcg(scores, gains, np.array([len(g) for g in groups]), k)
    for value, g in zip(got, groups, strict=True):
        order = sorted(range(len(g)), key=lambda i: -g[i][0])  # stable, like the module
        expected = ndcg_at_k([str(i) for i in order], {str(i): float(y) for i, (_, y) in
                                                       enumerate(g)}, k)
        assert value == pytest.approx(expected)
        assert 0.0 <= value <= 1.0 + 1e-12


def test_summarise_gives_paired_intervals_around_the_mean() -> None:
    rng = np.random.default_rng(0)
    per_user = {"ndcg@10": rng.random(500) * 0.2, "hr@10": (rng.random(500) < 0.3) * 1.0}
    got = summarise(per_user, n_resamples=400)
    for name, values in per_user.items():
        low, high = got[f"{name}_ci"]
        assert low < got[name] < high
        assert high - low == pytest.approx(2 * 1.96 * values.std() / math.sqrt(500), rel=0.2)
    assert summarise({"x": np.zeros(0)}) == {"x": 0.0, "x_ci": [0.0, 0.0]}


def test_bootstrap_chunks_do_not_change_the_answer() -> None:
    values = np.random.default_rng(1).random((300, 2))
    one = bootstrap_means(values, n_resamples=50, seed=3)
    assert one.shape == (50, 2)
    assert np.all((one > 0.4) & (one < 0.6))
    assert bootstrap_ci([1.0, 1.0, 1.0]) == (1.0, 1.0)
    assert bootstrap_ci([]) == (0.0, 0.0)
