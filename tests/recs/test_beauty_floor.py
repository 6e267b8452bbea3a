"""Quality floor on real data: Amazon Beauty 5-core, leave-one-out, full ranking.

The cheap co-visitation source alone measured NDCG@10 0.0437 / HR@10 0.0700 (window 3;
benchmarks/recs.py --parts sources); the floor leaves ~15% room. Published SASRec: 0.0318 / 0.0605.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from shopsense.evaluation.recs import (
    leave_one_out,
    popularity_scorer,
    ranking_metrics,
    source_scorer,
    split_interactions,
)
from shopsense.models.interactions import load_interactions
from shopsense.retrieve.covisit import CovisitRetriever

BEAUTY = (
    Path(__file__).resolve().parents[2]
    / ".."
    / "shared"
    / "data"
    / "amazon-beauty-p5-titles"
    / "sequential_data.txt"
)


pytestmark = pytest.mark.skipif(
    not BEAUTY.exists(), reason="../shared/data is not beside the repository"
)


@pytest.mark.slow
def test_covisit_floor_on_beauty() -> None:
    data = load_interactions(BEAUTY)
    assert (len(data.users), data.n_events) == (22_363, 198_502)
    split = leave_one_out(data)
    assert len(split.items) == 12_101
    source = CovisitRetriever(window=3).fit(split_interactions(split, data.users), split.items)
    got = ranking_metrics(
        source_scorer(source, split.items),
        split.test_histories,
        split.test_targets,
        len(split.items),
    )
    assert got["ndcg@10"] >= 0.037 and got["hr@10"] >= 0.060, got
    pop = ranking_metrics(
        popularity_scorer([*split.train, split.valid_targets], len(split.items)),
        split.test_histories[:5000],
        split.test_targets[:5000],
        len(split.items),
    )
    assert got["ndcg@10"] > 3 * pop["ndcg@10"]


@pytest.mark.slow
def test_interchange_format_gives_the_same_sequences(tmp_path: Path) -> None:
    """`shopsense convert amazon-5core` output (events.jsonl with synthetic timestamps) reads
    back as exactly the raw sequence file, so eval recs sees the same data either way."""
    from typer.testing import CliRunner

    from shopsense.cli import app

    out = CliRunner().invoke(
        app, ["convert", "amazon-5core", str(BEAUTY.parent), "--out", str(tmp_path)]
    )
    assert out.exit_code == 0, out.output
    converted = load_interactions(tmp_path)
    raw = load_interactions(BEAUTY)
    assert dict(zip(converted.users, converted.sequences, strict=True)) == dict(
        zip(raw.users, raw.sequences, strict=True)
    )
