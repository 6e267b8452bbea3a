"""Ragged rows: a gather equals the rows concatenated, before and after rows are appended
(the packed copy is made again), and for rows read back from their flat form."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from shopsense.index.ragged import Ragged

ROWS = st.lists(st.lists(st.integers(0, 50), max_size=6), min_size=1, max_size=12)


def _expected(rows: list[list[int]], picks: list[int]) -> tuple[list[int], list[int]]:
    return [v for p in picks for v in rows[p]], [len(rows[p]) for p in picks]


@settings(max_examples=60, deadline=None)
@given(ROWS, ROWS, st.data())
def test_gather_equals_the_rows_concatenated(first: list[list[int]], more: list[list[int]],
                                             data: st.DataObject) -> None:
    flat = np.asarray([v for r in first for v in r], dtype=np.int32)
    for ragged in (Ragged(np.asarray(r, np.int32) for r in first),
                   Ragged.from_flat(flat, np.asarray([len(r) for r in first]))):
        picks = data.draw(st.lists(st.integers(0, len(first) - 1), max_size=8))
        got, lengths = ragged.gather(np.asarray(picks, dtype=np.int64))
        assert (got.tolist(), lengths.tolist()) == _expected(first, picks)
        for r in more:  # appended after a gather: the next one sees them
            ragged.append(np.asarray(r, np.int32))
        rows = first + more
        picks = data.draw(st.lists(st.integers(0, len(rows) - 1), max_size=8))
        got, lengths = ragged.gather(np.asarray(picks, dtype=np.int64))
        assert (got.tolist(), lengths.tolist()) == _expected(rows, picks)
        assert [r.tolist() for r in ragged] == rows and len(ragged) == len(rows)
