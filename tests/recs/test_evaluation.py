"""Leave-one-out split, metrics and input readers of the recommendation evaluation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shopsense.evaluation.recs import (
    leave_one_out,
    popularity_scorer,
    ranking_metrics,
)
from shopsense.models.interactions import Interactions, is_sequence_file, load_interactions
from shopsense.models.sequences import top_k_excluding


def test_leave_one_out_split_is_by_time() -> None:
    data = Interactions(["u1", "u2"], [["a", "b", "c", "d"], ["x", "y"]])
    split = leave_one_out(data)
    ids = split.items.ids
    assert [ids[i] for i in split.train[0]] == ["a", "b"]
    assert [ids[i] for i in split.train[1]] == ["x", "y"]  # too short: trains, not scored
    assert [ids[i] for i in split.valid_histories[0]] == ["a", "b"]
    assert ids[split.valid_targets[0]] == "c"
    assert [ids[i] for i in split.test_histories[0]] == ["a", "b", "c"]
    assert ids[split.test_targets[0]] == "d"
    assert split.test_users == ["u1"]


def test_perfect_and_history_excluding_scorers() -> None:
    data = Interactions([f"u{n}" for n in range(4)],
                        [["a", "b", "c", "d"], ["b", "c", "d", "a"], ["c", "d", "a", "e"],
                         ["a", "c", "e", "b"]])
    split = leave_one_out(data)
    n = len(split.items)
    targets = split.test_targets

    def oracle(histories: list[np.ndarray]) -> np.ndarray:
        scores = np.zeros((len(histories), n))
        for row, history in enumerate(histories):
            scores[row, history] = 100.0  # history first: must be excluded by the harness
        scores[np.arange(len(histories)), targets[: len(histories)]] = 50.0
        return scores

    got = ranking_metrics(oracle, split.test_histories, targets, n)
    assert got["hr@10"] == got["ndcg@10"] == got["hr@20"] == 1.0
    worst = ranking_metrics(lambda h: -oracle(h), split.test_histories, targets, n, ks=(1,))
    assert worst["hr@1"] == 0.0


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=5, max_value=40), st.integers(min_value=0, max_value=10_000))
def test_metrics_stay_in_unit_interval(n_items: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    histories = [rng.integers(0, n_items, size=rng.integers(1, 4)) for _ in range(7)]
    targets = rng.integers(0, n_items, size=7)
    got = ranking_metrics(lambda h: rng.random((len(h), n_items)), histories, targets, n_items)
    assert all(0.0 <= v <= 1.0 for v in got.values())
    assert got["hr@10"] <= got["hr@20"] and got["ndcg@10"] <= got["hr@10"]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-5, 5), min_size=3, max_size=30), st.integers(1, 10))
def test_top_k_equals_sorted(values: list[float], k: int) -> None:
    scores = np.asarray([values])
    got = top_k_excluding(scores.copy(), k, [np.zeros(0, np.int64)])[0]
    expected = sorted(values, reverse=True)[:k]
    assert [values[i] for i in got] == expected


def test_popularity_counts_training_only() -> None:
    score = popularity_scorer([np.array([0, 1, 1]), np.array([2])], 4)
    assert score([np.array([0])])[0].tolist() == [1.0, 2.0, 1.0, 0.0]


def test_reads_sequence_files_and_event_tables(tmp_path: Path) -> None:
    seq = tmp_path / "Beauty.txt"
    seq.write_text("1 5 6 7\n2 6 7 8 9\n")
    assert is_sequence_file(seq)
    data = load_interactions(seq)
    assert data.users == ["1", "2"] and data.sequences[1] == ["6", "7", "8", "9"]

    rows = [  # out of order; a tie broken by file order; dismiss and search dropped
        {"user_id": "u", "item_id": "b", "timestamp": "2024-01-02T00:00:00Z", "event_type": "view"},
        {"user_id": "u", "item_id": "a", "timestamp": "2024-01-01T00:00:00Z", "event_type": "view"},
        {"user_id": "u", "item_id": "c", "timestamp": "2024-01-02T00:00:00Z", "event_type": "cart"},
        {"user_id": "u", "item_id": "x", "timestamp": "2024-01-03T00:00:00Z",
         "event_type": "dismiss"},
        {"user_id": "u", "item_id": "", "timestamp": "2024-01-03T00:00:00Z", "event_type": "search"},
        {"user_id": "", "session_id": "s1", "item_id": "a", "timestamp": 1704067200,
         "event_type": "purchase"},
    ]
    csv = tmp_path / "events.csv"
    pd.DataFrame(rows).to_csv(csv, index=False)
    jsonl = tmp_path / "events.jsonl"
    jsonl.write_text("\n".join(json.dumps(r) for r in rows))
    parquet = tmp_path / "events.parquet"
    pd.DataFrame(rows).astype(str).to_parquet(parquet)
    for path in (csv, jsonl, parquet):
        got = load_interactions(path)
        assert not is_sequence_file(path)
        by_user = dict(zip(got.users, got.sequences, strict=True))
        assert by_user["u"] == ["a", "b", "c"], path
        assert by_user["s:s1"] == ["a"]
    assert load_interactions(tmp_path / "events.csv").kinds is not None


def test_missing_columns_are_reported(tmp_path: Path) -> None:
    bad = tmp_path / "events.csv"
    bad.write_text("user_id,product\nu,a\n")
    with pytest.raises(ValueError, match="item_id"):
        load_interactions(bad)


def test_compressed_events_and_catalogue_fields(tmp_path: Path) -> None:
    import gzip

    from shopsense.models.interactions import load_catalog

    path = tmp_path / "events.jsonl.gz"
    with gzip.open(path, "wt") as handle:
        handle.write('{"user_id": "u", "item_id": "a", "timestamp": 5}\n'
                     '{"user_id": "u", "item_id": "b", "timestamp": 1}\n')
    assert load_interactions(path).sequences == [["b", "a"]]
    catalog = tmp_path / "products.csv"
    catalog.write_text("item_id,title,price,available,created_at\n"
                       "a,Shoe,9.5,false,2024-01-01T00:00:00Z\nb,Hat,,true,\n")
    first, second = load_catalog(catalog)
    assert (first.price, first.available, first.created_at) == (9.5, False, 1704067200.0)
    assert (second.price, second.available, second.created_at) == (None, True, None)
