"""Linear-time row-set operations equal numpy's sorting ones."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from shopsense.index.rowsets import difference, member, union

ROWS = st.sets(st.integers(0, 60), max_size=40)


@settings(max_examples=200, deadline=None)
@given(ROWS, ROWS, st.randoms(use_true_random=False))
def test_row_sets_equal_numpy_set_operations(a: set[int], b: set[int], rnd) -> None:  # type: ignore[no-untyped-def]
    big = np.asarray(sorted(a), dtype=np.int64)
    small_sorted = np.asarray(sorted(b), dtype=np.int64)
    shuffled = list(b)
    rnd.shuffle(shuffled)
    small_any = np.asarray(shuffled, dtype=np.int64)
    assert np.array_equal(member(big, small_any), np.isin(small_any, big))
    assert np.array_equal(union(big, small_sorted), np.union1d(big, small_sorted))
    assert np.array_equal(difference(big, small_any), np.setdiff1d(big, small_any))
    assert union(big, small_sorted).dtype == np.int64
