"""One request's blend (`blend_parts` of a 1-d score vector) equals the batched blend
(the same row scored as a 2-d batch, the arithmetic the offline evaluation and the
served path always used) bit for bit: the same normaliser, the same log-softmax, co-visit
share and blend for every item, whatever the scores hold (-inf, NaN, +inf, negative or
missing co-visits, a catalogue longer than one summing block)."""

from __future__ import annotations

import numpy as np
import pytest

from shopsense.models.blend import blend_parts


def _batched(sasrec: np.ndarray, covisit: np.ndarray | None, weight: float
             ) -> tuple[np.ndarray, ...]:
    rows = blend_parts(sasrec[None], None if covisit is None else covisit[None], weight)
    return tuple(row[0] for row in rows)


def _request_like(n: int, rng: np.random.Generator, spread: float = 3.0
                  ) -> tuple[np.ndarray, np.ndarray]:
    """SASRec scores as a request has them (float32 logits widened to float64) and a
    co-visit vector that scores a few items (-inf elsewhere)."""
    sasrec = (rng.normal(size=n) * spread).astype(np.float32).astype(np.float64)
    covisit = np.full(n, -np.inf)
    some = rng.choice(n, min(n, 300), replace=False)
    covisit[some] = rng.random(some.size) * 5
    return sasrec, covisit


def _assert_bit_equal(got: tuple[np.ndarray, ...], want: tuple[np.ndarray, ...]) -> None:
    for a, b in zip(got, want, strict=True):
        assert a.shape == b.shape and a.dtype == b.dtype == np.float64
        assert np.array_equal(a, b, equal_nan=True)


@pytest.mark.parametrize("n", [1, 7, 5_000, 8 * np.getbufsize(), 3 * 65_536 + 123])
@pytest.mark.parametrize("weight", [0.0, 0.5, 4.0])
def test_a_request_s_parts_equal_the_batched_parts_bit_for_bit(n: int, weight: float) -> None:
    rng = np.random.default_rng(n)
    sasrec, covisit = _request_like(n, rng)
    _assert_bit_equal(blend_parts(sasrec, covisit, weight), _batched(sasrec, covisit, weight))
    _assert_bit_equal(blend_parts(sasrec, None, weight), _batched(sasrec, None, weight))


def test_scores_that_are_not_float32_and_wide_ranges_stay_equal() -> None:
    rng = np.random.default_rng(1)
    for spread in (0.01, 30.0, 400.0):  # exponentials that underflow in float32 included
        sasrec = rng.normal(size=200_003) * spread  # float64 values, not float32 ones
        covisit = np.where(rng.random(sasrec.size) < 0.01, rng.random(sasrec.size), -np.inf)
        _assert_bit_equal(blend_parts(sasrec, covisit, 2.0), _batched(sasrec, covisit, 2.0))


def test_non_finite_scores_and_odd_co_visits() -> None:
    rng = np.random.default_rng(2)
    sasrec, covisit = _request_like(70_000, rng)
    sasrec[rng.choice(sasrec.size, 500, replace=False)] = -np.inf  # items it cannot score
    covisit[:3] = [np.nan, np.inf, -2.0]  # counted as 0, 0 and -2 (a negative co-visit)
    cases = [(sasrec, covisit), (sasrec, -np.abs(np.nan_to_num(covisit, neginf=-1.0))),
             (sasrec, np.abs(np.nan_to_num(covisit, posinf=1.0, neginf=0.5))),  # all finite
             (np.full(9, -np.inf), covisit[:9]),  # a shopper SASRec cannot score
             (np.r_[1.0, np.nan, 2.0], np.r_[1.0, 0.0, -np.inf]),
             (np.r_[1.0, np.inf, 2.0], None), (np.r_[3e38, 4e38], None)]  # float32 overflow
    for scores, cov in cases:
        got = blend_parts(scores, cov, 1.5)
        _assert_bit_equal(got, _batched(scores, cov, 1.5))
    blend, logp, share = blend_parts(sasrec, covisit, 1.5)
    finite = np.isfinite(sasrec)
    assert np.exp(logp[finite]).sum() == pytest.approx(1.0)
    assert np.isneginf(logp[~finite]).all() and np.isneginf(blend[~finite]).all()
    assert share[:3].tolist() == [0.0, 0.0, -2.0 / np.nanmax(covisit[np.isfinite(covisit)])]


def test_the_request_path_leaves_its_inputs_alone_and_returns_fresh_arrays() -> None:
    sasrec, covisit = _request_like(100_000, np.random.default_rng(3))
    before = (sasrec.copy(), covisit.copy())
    first = blend_parts(sasrec, covisit, 2.0)
    second = blend_parts(sasrec * 0.5, covisit, 2.0)
    assert np.array_equal(sasrec, before[0]) and np.array_equal(covisit, before[1])
    assert not any(np.shares_memory(a, b) for a in first for b in second)
    assert not np.array_equal(first[1], second[1])  # the first answer was not overwritten


def test_a_float32_score_vector_is_read_as_its_float64_widening() -> None:
    sasrec, covisit = _request_like(30_000, np.random.default_rng(4))
    _assert_bit_equal(blend_parts(sasrec.astype(np.float32), covisit, 2.0),
                      blend_parts(sasrec, covisit, 2.0))
