"""`top_indices` (every source's top k) equals a full sort of the allowed finite scores, on
long vectors (the block-maxima bound a request over a million items takes) and short ones,
with ties, non-finite scores and banned items."""

from __future__ import annotations

import numpy as np
import pytest

from shopsense.models.context import BLOCK, top_indices


def _reference(scores: np.ndarray, k: int, banned: set[int]) -> np.ndarray:
    allowed = np.array([i for i in np.flatnonzero(np.isfinite(scores)) if i not in banned],
                       dtype=np.int64)
    return allowed[np.lexsort((allowed, -scores[allowed]))][:k]


def _vector(n: int, kind: str, rng: np.random.Generator) -> np.ndarray:
    scores = rng.normal(size=n)
    if kind == "ties":
        scores = np.round(scores, 1)
    elif kind == "sparse":  # co-visits: most items score nothing
        scores = np.full(n, -np.inf)
        scores[rng.choice(n, 300, replace=False)] = rng.random(300)
    elif kind == "odd":
        scores[rng.choice(n, 50, replace=False)] = np.inf
        scores[rng.choice(n, 50, replace=False)] = np.nan
        scores[rng.choice(n, n // 10, replace=False)] = -np.inf
    return scores


@pytest.mark.parametrize("n", [1000, 64 * BLOCK, 100_000 + 17])
@pytest.mark.parametrize("kind", ["plain", "ties", "sparse", "odd"])
def test_top_k_equals_a_full_sort(n: int, kind: str) -> None:
    rng = np.random.default_rng(n + len(kind))
    scores = _vector(n, kind, rng)
    before = scores.copy()
    for k in (1, 10, 50, 400):
        reference_top = _reference(scores, k, set())
        banned = set(reference_top[: k // 2].tolist()) | set(rng.choice(n, 20).tolist())
        for ban in (set(), banned):
            got, want = top_indices(scores, k, ban), _reference(scores, k, ban)
            assert np.array_equal(scores[got], scores[want])  # the same scores, best first
            blocks = -(-n // BLOCK)
            if kind != "ties" or (n >= 64 * BLOCK and k + len(ban) < blocks):
                assert np.array_equal(got, want)  # the bound's path: ties by the lower index
            assert not set(got.tolist()) & ban
    assert np.array_equal(before, scores, equal_nan=True)  # not modified


def test_the_top_of_a_vector_with_the_best_items_in_one_block() -> None:
    scores = np.zeros(200 * BLOCK)
    scores[5 * BLOCK: 5 * BLOCK + 100] = np.arange(100, 0, -1)  # one block holds the top 100
    assert top_indices(scores, 60).tolist() == list(range(5 * BLOCK, 5 * BLOCK + 60))
    banned = set(range(5 * BLOCK, 5 * BLOCK + 100))
    got = top_indices(scores, 3, banned)  # then ties at 0, by the lower index
    assert got.tolist() == [0, 1, 2]


@pytest.mark.parametrize("k", [0, -1])
def test_no_items_for_k_below_one(k: int) -> None:
    assert top_indices(np.ones(10), k).size == 0


def test_fewer_allowed_items_than_k() -> None:
    scores = np.full(70 * BLOCK, -np.inf)
    scores[[3, 9, 700]] = [1.0, 3.0, 2.0]
    assert top_indices(scores, 10, {700}).tolist() == [9, 3]


@pytest.mark.parametrize("k", [1, 10, 50])
def test_blocks_hidden_by_nan_and_the_short_last_block_are_read(k: int) -> None:
    """Only the blocks whose maximum may reach the bound are read: a NaN maximum hides
    its block's finite scores (the block is read), and the short last block counts."""
    rng = np.random.default_rng(k)
    n = 300 * BLOCK + 5
    scores = rng.normal(size=n)
    scores[7 * BLOCK + 3] = 100.0  # the best item, in a block whose maximum is NaN
    scores[7 * BLOCK + 9] = np.nan
    scores[n - 2] = 50.0  # the second best, in the short last block
    scores[40 * BLOCK: 41 * BLOCK] = np.inf  # a block of +inf (never finite)
    banned = {int(i) for i in rng.choice(n, 5)} - {7 * BLOCK + 3, n - 2}
    got = top_indices(scores, k, banned)
    assert np.array_equal(got, _reference(scores, k, banned))
    assert got[:2].tolist() == [7 * BLOCK + 3, n - 2][:k]
