"""A cold search computes the ranking features of the candidates its filters keep only
(pipeline/search.py `_stage`, rank/search_features.py `subset`): at the demo's median a
search's hard filters keep a fifth of its candidates. Those rows must be exactly the rows of
the whole candidate set's matrix (ranks, shares of the best, z-scores and the feedback of the
top BM25F candidates stay of the whole set), so the served ranking is what it was."""

from __future__ import annotations

import random
import time
import types

import numpy as np
import pytest

from shopsense.pipeline import search as search_module
from shopsense.pipeline import surfaces
from shopsense.pipeline.search_page import filtered
from shopsense.pipeline.surfaces import query_reader, shop_merch

_NOW = 1_796_630_000.0
# the demo's own queries and ones it reads a category, brand, price or attribute into
_EXTRA = ["down jacket under 500", "华为 平板电脑", "cheap grey tablet", "平板电脑 5000以内",
          "white headphones", "小米平板电脑 紫色", "camel sleeping bag", "森马裙子 雪纺",
          "想买羽绒副", "xiaomi扫地机器人 白色", "无线耳机 500-1000元", "金色 空调",
          "gree wall-mounted inverter air conditioner", "honor 256gb smartphone $200-$500",
          "not apple phone", "便宜的洗发水", "face cream for dry skin", "zz no such thing"]


@pytest.fixture()
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Freshness is days before `time.time()`: one clock for the two computations."""
    monkeypatch.setattr(search_module, "time",
                        types.SimpleNamespace(time=lambda: _NOW, perf_counter=time.perf_counter))


def _queries(shop) -> list[str]:
    top = [q for q in shop.models.search.top_queries_[:300] if q.strip()]
    return list(dict.fromkeys([*top, *_EXTRA]))


def test_subset_rows_equal_the_whole_sets_rows(demo_shop, frozen_clock) -> None:
    engine = demo_shop.models.search
    read, synonyms = query_reader(demo_shop.models, shop_merch(demo_shop)[1])
    rng = np.random.default_rng(3)
    queries = _queries(demo_shop)
    narrowed = 0
    for query in queries:
        reading = read(query)
        found, ctx = engine.retrieved(query, reading, (), synonyms, False)
        whole = engine.features(found, ctx)
        keep = np.flatnonzero(filtered(engine, found, (), reading).keep)
        narrowed += len(keep) < len(found.rows)
        for subset in (keep, np.flatnonzero(rng.random(len(found.rows)) < 0.3),
                       np.arange(len(found.rows))[-1:]):
            part = engine.features(found, ctx, subset)
            assert part.shape == (len(subset), whole.shape[1])
            np.testing.assert_array_equal(part, whole[subset], err_msg=query)
    assert len(queries) >= 100 and narrowed >= 20  # the filters do narrow many of them


def test_served_ranking_is_that_of_the_whole_sets_features(demo_shop, frozen_clock,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    """The same pages, scores and reasons as when every candidate is featurised (the way
    before session 13): the stage asks for the kept subset, and gets it."""
    engine = demo_shop.models.search
    queries = random.Random(5).sample(_queries(demo_shop), 80) + _EXTRA
    asked: list[tuple[int, int]] = []
    real = engine.features

    def spy(found, ctx, subset=None):
        asked.append((len(found.rows), len(found.rows) if subset is None else len(subset)))
        return real(found, ctx, subset)

    def page(query: str) -> list[tuple]:
        body = surfaces.search(demo_shop, query, k=10)
        return [(r["item_id"], r["score"], r["reasons"], r["signals"]) for r in body["results"]]

    engine.clear_caches()
    monkeypatch.setattr(engine, "features", spy)
    subset_pages = [page(q) for q in queries]
    assert any(n < total for total, n in asked)  # it did featurise fewer rows
    engine.clear_caches()
    monkeypatch.setattr(engine, "features",
                        lambda found, ctx, subset=None: real(found, ctx)[
                            slice(None) if subset is None else subset])
    try:
        assert [page(q) for q in queries] == subset_pages
    finally:
        engine.clear_caches()
