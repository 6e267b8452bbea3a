"""Start-up warming computes the stages the shop's searches will ask for (pipeline/search.py
`warm`, training/adopt.py): each warmed query's first search, as `/v1/search` runs it, is a
stage-cache hit. Until session 12 warming keyed a query's stage by its plain reading, while a
search keys it by the corrected query and the reading with the product type it names: 7 % of
the demo's top 400 queries and 15 % of its tail were computed at start-up and then computed
again on their first search."""

from __future__ import annotations

from shopsense.pipeline import surfaces
from shopsense.pipeline.surfaces import query_reader, shop_merch


def _first_searches_missing(shop, queries: list[str]) -> list[str]:
    missed = []
    for q in queries:
        body = surfaces.search(shop, q, k=10)
        if "stage_cache_hit" not in body["timings_ms"]:
            missed.append(q)
    return missed


def test_every_warmed_query_is_a_stage_hit_on_its_first_search(demo_shop) -> None:
    engine = demo_shop.models.search
    queries = [q for q in engine.top_queries_[:400] if q.strip()]
    assert len(queries) >= 100
    # the demo's product-type queries, and typos the search corrects before its stage
    extra = ["down jacket", "bedding set", "平板电脑", "face cream", "robot vacuum",
             "bluetooth headphones", "ceap protective case", "洗发氺", "好用的帐蓬", "chepa tea"]
    warmed = list(dict.fromkeys([*queries, *extra]))
    saved = engine.top_queries_
    engine.clear_caches()
    try:
        engine.top_queries_ = warmed
        read, synonyms = query_reader(demo_shop.models, shop_merch(demo_shop)[1])
        assert engine.warm(len(warmed), read=read, synonyms=synonyms) == len(warmed)
        assert _first_searches_missing(demo_shop, warmed) == []
    finally:
        engine.top_queries_ = saved
        engine.clear_caches()


def test_a_query_not_warmed_is_computed_on_its_first_search(demo_shop) -> None:
    engine = demo_shop.models.search
    engine.clear_caches()
    try:
        assert _first_searches_missing(demo_shop, ["zz unwarmed tent query"]) == [
            "zz unwarmed tent query"]
        assert _first_searches_missing(demo_shop, ["zz unwarmed tent query"]) == []
    finally:
        engine.clear_caches()
