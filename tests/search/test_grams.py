"""Title character trigrams (index/grams.py): the ranker's view of how much of the query's
writing a title shares, on real Home Depot titles and queries."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pytest

from shopsense.index.grams import BUCKETS, overlap, trigram_ids
from shopsense.index.keyword import KeywordIndex
from shopsense.rank.search_features import FEATURE_NAMES, QueryContext, candidate_features

HD = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "homedepot-search-relevance"
_WORD = re.compile(r"[a-z0-9\u4e00-\u9fff]+(?:[./][a-z0-9\u4e00-\u9fff]+)*")


def _grams(text: str) -> set[str]:
    padded = " " + " ".join(_WORD.findall(text.lower())) + " "
    return {padded[i:i + 3] for i in range(len(padded) - 2)} if padded.strip() else set()


def _rows(name: str, n: int) -> list[dict[str, str]]:
    path = HD / name
    if not path.exists():
        pytest.skip(f"{path} not present")
    with path.open(encoding="utf-8", errors="replace") as f:
        return [row for _, row in zip(range(n), csv.DictReader(f), strict=False)]


def test_overlap_is_the_set_jaccard_and_cover_of_real_titles_and_queries() -> None:
    titles = [r["product_title"] for r in _rows("products.csv", 400)]
    queries = sorted({r["search_term"] for r in _rows("judgments_dev.csv", 300)})[:60]
    title_ids = [trigram_ids(t) for t in titles]
    checked = differ = 0
    for q in queries:
        jaccard, cover = overlap(trigram_ids(q), title_ids)
        qg = _grams(q)
        for t, j, c in zip(titles, jaccard, cover, strict=True):
            tg = _grams(t)
            want_j = len(qg & tg) / max(len(qg | tg), 1)
            want_c = len(qg & tg) / max(len(qg), 1)
            checked += 1
            differ += abs(j - want_j) > 1e-6 or abs(c - want_c) > 1e-6
    assert checked == len(queries) * len(titles)
    assert differ <= checked * 0.001  # only a rare hash collision may differ


@pytest.mark.parametrize(("query", "near", "far"), [
    ("ceilng fan", "Hunter 52 in. Ceiling Fan", "Honeywell 20 in. Box Fan"),  # a typo
    ("doorknob", "Kwikset Door Knob Set", "Kwikset Deadbolt"),  # joined words
    ("3/4in plywood", "3/4 in. x 4 ft. x 8 ft. Plywood", "1/2 in. x 4 ft. x 8 ft. Plywood"),
    ("鼠标垫", "罗技 鼠标垫 大号", "罗技 鼠标 无线")])
def test_the_title_written_like_the_query_shares_more_of_it(query: str, near: str,
                                                            far: str) -> None:
    jaccard, cover = overlap(trigram_ids(query), [trigram_ids(near), trigram_ids(far)])
    assert cover[0] > cover[1] and jaccard[0] > jaccard[1]


def test_ids_are_stable_sorted_and_bounded() -> None:
    ids = trigram_ids("Whirlpool 1.9 cu. ft. Over the Range Microwave")
    assert ids.dtype == np.int32 and (np.diff(ids) > 0).all()
    assert ids.min() >= 0 and ids.max() < BUCKETS
    assert trigram_ids("WHIRLPOOL 1.9 cu ft over the range microwave!").tolist() == ids.tolist()
    assert trigram_ids("").size == 0 and trigram_ids("!!!").size == 0
    jaccard, cover = overlap(trigram_ids(""), [ids])
    assert jaccard.tolist() == [0.0] and cover.tolist() == [0.0]


def test_the_index_keeps_title_grams_through_save_load_and_old_indexes_load(
        tmp_path: Path) -> None:
    index = KeywordIndex()
    index.add([("a", {"title": "Hunter 52 in. Ceiling Fan"}), ("b", {"title": "Box Fan"})])
    index.add([("b", {"title": "Honeywell Box Fan"})])  # an update appends a row
    assert len(index.title_grams_) == len(index.item_ids_) == 3
    assert index.title_grams_[2].tolist() == trigram_ids("Honeywell Box Fan").tolist()
    index.save(tmp_path / "kw")
    loaded = KeywordIndex.load(tmp_path / "kw")
    assert [g.tolist() for g in loaded.title_grams_] == [g.tolist() for g in index.title_grams_]
    for name in ("title_grams.npy", "title_grams_len.npy"):  # saved before trigrams existed
        (tmp_path / "kw" / name).unlink()
    old = KeywordIndex.load(tmp_path / "kw")
    assert len(old.title_grams_) == 3 and all(g.size == 0 for g in old.title_grams_)


def test_candidate_features_carry_the_trigram_columns() -> None:
    index = KeywordIndex()
    index.add([("a", {"title": "Hunter 52 in. Ceiling Fan"}),
               ("b", {"title": "Honeywell 20 in. Box Fan"})])
    terms = ["ceil", "fan"]
    ctx = QueryContext.build("ceilng fan", terms, index)
    rows = np.array([0, 1])
    x = candidate_features(ctx, index, rows, np.array([1.0, 0.5]), np.array([2, 1]),
                           np.array([0.5, 0.4], np.float32), [])
    col = {n: i for i, n in enumerate(FEATURE_NAMES)}
    jaccard, cover = overlap(trigram_ids("ceilng fan"), [index.title_grams_[0],
                                                         index.title_grams_[1]])
    assert x[:, col["trigram_jaccard"]].tolist() == jaccard.tolist()
    assert x[:, col["trigram_cover"]].tolist() == cover.tolist()
    assert x[0, col["trigram_cover"]] > x[1, col["trigram_cover"]] > 0


def test_an_engine_saved_with_a_ranker_of_older_features_loads_and_serves_the_blend(
        tmp_path: Path) -> None:
    """A home saved before the trigram columns existed: its ranker cannot score today's
    features, so the engine loads without it (the blend serves) until `shopsense train`."""
    import json

    from shopsense.domain import Product
    from shopsense.pipeline.search import SearchEngine
    from shopsense.rank.ltr import LambdaMartRanker

    products = [Product(f"p{i}", f"Hunter {i} in. Ceiling Fan", category="fans")
                for i in range(12)]
    engine = SearchEngine.build(products, encoder=None)
    rng = np.random.default_rng(0)
    groups = [rng.random((12, len(FEATURE_NAMES))).astype(np.float32) for _ in range(40)]
    gains = [(g[:, 0] > 0.7).astype(float) for g in groups]
    engine.ranker = LambdaMartRanker(n_estimators=10, seed=0).fit(groups, gains)
    engine.save(tmp_path / "index")
    config = tmp_path / "index" / "ranker" / "config.json"
    data = json.loads(config.read_text())
    data["state"]["features"] = [n for n in FEATURE_NAMES if not n.startswith("trigram")]
    config.write_text(json.dumps(data))
    loaded = SearchEngine.load(tmp_path / "index")
    assert getattr(loaded.ranker, "name", "blend") == "blend"
    assert loaded.search("ceiling fan", k=5).results
