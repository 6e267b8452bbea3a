"""BM25F index: a hand-computed score, field weights, in-place upsert / remove, save / load."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shopsense.index.keyword as keyword_module
from shopsense.index.keyword import KeywordIndex, top_k

DOCS = [("a", {"title": "red drill"}), ("b", {"title": "blue drill drill bit"}),
        ("c", {"title": "red hammer"})]


def test_bm25_matches_a_hand_computed_score() -> None:
    index = KeywordIndex({"title": 1.0}, k1=1.2, b=0.75)
    index.add(DOCS)
    scores, matched = index.score_all(["drill"])
    # df(drill) = 2 of N = 3; lengths 2, 4, 2 -> avglen 8/3
    idf = math.log(1 + (3 - 2 + 0.5) / (2 + 0.5))
    def part(tf: float, length: float) -> float:
        t = tf / (1 - 0.75 + 0.75 * length / (8 / 3))
        return idf * t / (1.2 + t)
    assert scores[0] == pytest.approx(part(1, 2), rel=1e-5)
    assert scores[1] == pytest.approx(part(2, 4), rel=1e-5)
    assert scores[2] == 0.0
    assert matched.tolist() == [1, 1, 0]


def test_field_weights_rank_brand_matches() -> None:
    index = KeywordIndex()
    index.add([("x", {"title": "cordless drill", "brand": "dewalt"}),
               ("y", {"title": "cordless drill", "description": "works like a dewalt"})])
    rows, _ = index.search(["dewalt"], 2)
    assert [index.item_ids_[r] for r in rows] == ["x", "y"]
    features, evidence = index.field_features(["dewalt", "drill"], rows)
    assert features.shape == (2, 5)
    assert evidence[0] == {"title": ["drill"], "brand": ["dewalt"]}


def test_upsert_and_remove_apply_at_once() -> None:
    index = KeywordIndex({"title": 1.0})
    index.add(DOCS)
    index.add([("c", {"title": "green saw"})])  # replaces c
    assert "c" not in [index.item_ids_[r] for r in index.search(["hammer"], 5)[0]]
    assert [index.item_ids_[r] for r in index.search(["saw"], 5)[0]] == ["c"]
    assert index.remove(["a", "missing"]) == 1
    assert [index.item_ids_[r] for r in index.search(["red"], 5)[0]] == []
    assert index.df_[index.vocab_["drill"]] == 1
    assert index.n_alive == 2


def test_tail_segments_merge_without_changing_scores() -> None:
    index = KeywordIndex({"title": 1.0}, merge_fraction=0.0)
    index.add([(str(i), {"title": f"item {i % 7} drill"}) for i in range(50)])
    before = index.score_all(["drill", "3"])[0].copy()
    index.add([(f"n{i}", {"title": "new thing"}) for i in range(1200)])  # forces a merge
    assert len(index.segments_) == 1
    after = index.score_all(["drill", "3"])[0][:50]
    # idf changes with N; the order among the old rows must not
    assert np.array_equal(np.argsort(-before, kind="stable"), np.argsort(-after, kind="stable"))


def test_save_load_round_trip(tmp_path: Path) -> None:
    index = KeywordIndex()
    index.add([("1", {"title": "格力 变频空调", "category": "家电 > 空调"}),
               ("2", {"title": "running shoes", "brand": "Nike"})])
    index.remove(["2"])
    index.add([("3", {"title": "air conditioner remote"})])
    index.save(tmp_path)
    loaded = KeywordIndex.load(tmp_path)
    for terms in (["空调"], ["air", "conditioner"], ["shoe"]):
        assert np.allclose(index.score_all(terms)[0], loaded.score_all(terms)[0])
    assert loaded.row_of_ == index.row_of_


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 100, allow_nan=False), min_size=0, max_size=40),
       st.integers(1, 10))
def test_top_k_equals_sorted_positive(values: list[float], k: int) -> None:
    scores = np.asarray(values, dtype=np.float32)
    rows, vals = top_k(scores, k)
    expected = sorted((i for i in range(len(values)) if scores[i] > 0),
                      key=lambda i: (-scores[i], i))[:k]
    assert rows.tolist() == expected
    assert vals.tolist() == [scores[i] for i in expected]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.sampled_from("abcdefg"), max_size=6), min_size=1, max_size=30),
       st.lists(st.sampled_from("abcdefgxyz"), min_size=0, max_size=5), st.data())
def test_term_counts_equal_the_dense_counts(titles: list[list[str]], query: list[str],
                                            data: st.DataObject) -> None:
    index = KeywordIndex({"title": 1.0}, merge_fraction=1e9)  # keep the tail segment apart
    split = data.draw(st.integers(0, len(titles)))
    for part in (titles[:split], titles[split:]):
        index.add([(f"{len(index.item_ids_) + i}", {"title": " ".join(t)})
                   for i, t in enumerate(part)])
    rows = np.asarray(data.draw(st.lists(st.integers(0, len(titles) - 1), unique=True)),
                      dtype=np.int64)
    ids = index.query_term_ids(query)
    expected = np.zeros((len(rows), len(ids)), dtype=np.float32)
    for j, r in enumerate(rows.tolist()):
        for c, term_id in enumerate(ids.tolist()):
            expected[j, c] = index.terms_[term_id] in titles[r] and \
                titles[r].count(index.terms_[term_id])
    assert np.array_equal(index.term_counts("title", rows, ids), expected)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.lists(st.sampled_from("abcdef"), max_size=5),
                          st.lists(st.sampled_from("abcdef"), max_size=5)),
                min_size=1, max_size=20),
       st.lists(st.sampled_from("abcdefxyz"), min_size=1, max_size=4), st.data())
def test_field_counts_read_every_field_of_every_segment(
        docs: list[tuple[list[str], list[str]]], query: list[str], data: st.DataObject) -> None:
    """One pass over the packed fields gives each field's own counts (segments kept apart);
    the per-field matrices are views into the packed buffer, not copies."""
    index = KeywordIndex({"title": 1.0, "description": 0.25}, merge_fraction=1e9)
    split = data.draw(st.integers(0, len(docs)))
    for part in (docs[:split], docs[split:]):
        index.add([(f"{len(index.item_ids_) + i}",
                    {"title": " ".join(t), "description": " ".join(d)})
                   for i, (t, d) in enumerate(part)])
    rows = np.asarray(data.draw(st.lists(st.integers(0, len(docs) - 1), unique=True)),
                      dtype=np.int64)
    ids = index.query_term_ids(query)
    expected = np.zeros((2, len(rows), len(ids)), dtype=np.float32)
    for j, r in enumerate(rows.tolist()):
        for c, term_id in enumerate(ids.tolist()):
            for f, words in enumerate(docs[r]):
                expected[f, j, c] = words.count(index.terms_[term_id])
    assert np.array_equal(index.field_counts(rows, ids), expected)
    assert np.array_equal(index.field_counts(rows, ids, ["description"]), expected[1:])
    assert index.field_matches(query, rows) == index.field_features(query, rows)[1]
    for seg in index.segments_:
        for tf in seg.field_tf.values():
            if tf.nnz:
                assert np.shares_memory(tf.indices, seg.counts.indices)
                assert np.shares_memory(tf.data, seg.counts.data)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.sampled_from("bcdefg"), max_size=6), min_size=1, max_size=30),
       st.lists(st.sampled_from("bcdefgyz"), min_size=0, max_size=5), st.data(),
       st.sampled_from([0.0, 1e9]))
def test_posting_scores_equal_the_full_matrix_product(titles: list[list[str]],
                                                      query: list[str],
                                                      data: st.DataObject,
                                                      dense_postings: float) -> None:
    """Both ways of summing posting lists (dense rows, binary search) equal the product."""
    saved, keyword_module.DENSE_POSTINGS = keyword_module.DENSE_POSTINGS, dense_postings
    try:
        _check_posting_scores(titles, query, data)
    finally:
        keyword_module.DENSE_POSTINGS = saved


def _check_posting_scores(titles: list[list[str]], query: list[str],
                          data: st.DataObject) -> None:
    index = KeywordIndex({"title": 1.0}, merge_fraction=1e9)
    split = data.draw(st.integers(0, len(titles)))
    for part in (titles[:split], titles[split:]):
        index.add([(f"{len(index.item_ids_) + i}", {"title": " ".join(t)})
                   for i, t in enumerate(part)])
    index.remove(data.draw(st.lists(st.sampled_from(index.item_ids_), max_size=5)))
    ids = index.query_term_ids(query)
    expected = np.zeros(len(index.item_ids_), dtype=np.float32)
    held = np.zeros(len(index.item_ids_), dtype=np.int32)
    for seg in index.segments_:  # every row times the query terms' idf, in query order
        known = ids[ids < seg.saturated.shape[1]]
        expected[seg.start:seg.start + seg.n] = seg.saturated[:, known] @ index.idf(known)
        held[seg.start:seg.start + seg.n] = (seg.saturated[:, known] > 0).sum(axis=1).A1
    expected[~index.alive_], held[~index.alive_] = 0.0, 0
    matches = index.score_matches(query)
    scores, matched = matches.dense()
    assert np.array_equal(scores, expected)  # to the last bit: rankings must not move
    assert np.array_equal(matched, held)
    assert matches.rows.tolist() == np.flatnonzero(held).tolist()
    rows = np.arange(len(index.item_ids_))
    assert np.array_equal(matches.bm25_of(rows), scores)
    assert np.array_equal(matches.matched_of(rows), matched)
    few = rows[::9]  # few enough to be looked up by binary search, not a dense scatter
    assert np.array_equal(matches.bm25_of(few), scores[few])
    assert np.array_equal(matches.matched_of(few), matched[few])
    assert matches.top(3)[0].tolist() == top_k(expected, 3)[0].tolist()
