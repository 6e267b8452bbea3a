"""Quality floor on real judgments: Home Depot, a seeded sample of dev queries split by query.

Keyword + learned ranker only (no encoder), so it stays within seconds; the full hybrid figures
are in benchmarks/README.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from shopsense.evaluation.search import (
    load_catalog,
    load_judgments,
    sample_queries,
    score_baseline,
    score_engine,
    split_queries,
    train_from_judgments,
)
from shopsense.pipeline.search import SearchEngine
from shopsense.rank.ltr import KeywordOrder

HOMEDEPOT = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / \
    "homedepot-search-relevance"


@pytest.mark.slow
def test_trained_ranker_beats_bm25_on_held_out_home_depot_queries() -> None:
    if not HOMEDEPOT.exists():
        pytest.skip("../shared/data/homedepot-search-relevance is missing")
    products, _ = load_catalog(HOMEDEPOT / "products.csv")
    judged, notes = load_judgments(HOMEDEPOT / "judgments_dev.csv")
    assert notes and "relevance - 1" in notes[0]
    train, held_out = split_queries(sample_queries(judged, 600, seed=1), 0.3, seed=1)
    engine = SearchEngine.build(products, encoder=None)
    baseline = score_baseline(products, held_out)
    engine.ranker = KeywordOrder()
    keyword = score_engine(engine, held_out)
    report = train_from_judgments(engine, train, seed=0)  # what `shopsense train` runs
    trained = score_engine(engine, held_out)
    figures = (report, trained["ndcg@10"], keyword["ndcg@10"], baseline["ndcg@10"])
    assert report["mode"] == "model" and report["serving"] == "lambdamart", figures
    assert trained["ndcg@10"] >= keyword["ndcg@10"] >= baseline["ndcg@10"], figures
    assert trained["ndcg@10"] >= 0.37, figures
    assert trained["ndcg@10"] >= 1.1 * baseline["ndcg@10"], figures
