"""The search pipeline over the PostgreSQL retrieval backend: chosen by the store URL (or the
`search.backend` setting) in one factory, product writes reaching pgvector and full-text at
once, and shopper filters pushed down so a narrow filter still gets ranked candidates."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("psycopg_pool", reason="psycopg-pool (scale extra) not installed")

from shopsense.config import SearchSettings, Settings, StoreSettings
from shopsense.domain import Product
from shopsense.index.pgvector import PgVectorIndex
from shopsense.pipeline.search import SearchEngine
from shopsense.pipeline.search_open import build_search_engine
from shopsense.pipeline.shop import ModelSet, Shop
from shopsense.rank.filters import user_clauses
from shopsense.retrieve.backends import (
    EmbeddedRetrieval,
    PgFullTextCandidates,
    PgVectorRetrieval,
    PostgresRetrieval,
    retrieval_for,
)
from shopsense.store import open_store
from shopsense.store.pg_fulltext import PgFullTextIndex


@pytest.fixture(scope="module")
def use_encoder():  # type: ignore[no-untyped-def]
    from shopsense.text.encoders import USEEncoder

    return USEEncoder(threads=1)


def test_the_backend_follows_the_store_url_unless_a_setting_picks_one() -> None:
    pg = "postgresql://u@127.0.0.1:5432/shop?pool_max=3"
    chosen = retrieval_for(SearchSettings(), pg)
    assert isinstance(chosen, PostgresRetrieval) and "pool_max" not in chosen.url
    assert isinstance(retrieval_for(SearchSettings(), "sqlite:///x/shop.db"), EmbeddedRetrieval)
    assert isinstance(retrieval_for(SearchSettings(backend="embedded"), pg), EmbeddedRetrieval)
    replica = retrieval_for(SearchSettings(retrieval_url="postgresql://r@10.0.0.2/shop"), pg)
    assert isinstance(replica, PostgresRetrieval) and replica.url.startswith("postgresql://r@")
    split = retrieval_for(SearchSettings(backend="pgvector"), pg)
    assert isinstance(split, PgVectorRetrieval) and split.url == chosen.url
    with pytest.raises(ValueError, match=r"search\.backend=postgresql needs a postgresql://"):
        retrieval_for(SearchSettings(backend="postgresql"), "sqlite:///x/shop.db")


def test_shop_writes_reach_pgvector_and_full_text_within_a_second(
        pg_url: str, tmp_path: Path, use_encoder) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(home=tmp_path, store=StoreSettings(url=pg_url))
    shop = Shop(settings)
    shop.upsert_items([
        {"item_id": "ac1", "title": "格力 变频空调 1.5匹", "category": "家电 > 空调",
         "brand": "格力", "price": 2999},
        {"item_id": "sh1", "title": "Nike 男士跑步鞋", "category": "鞋靴 > 运动鞋",
         "brand": "Nike", "price": 699},
    ])
    engine = build_search_engine(shop.store, settings, encoder=use_encoder)
    assert isinstance(engine.vector, PgVectorIndex)
    assert isinstance(engine.keyword_candidates, PgFullTextCandidates)
    shop.swap_models(ModelSet(search=engine))
    shop.upsert_items([{"item_id": "vc1", "title": "戴森 无线吸尘器 V12",
                        "category": "家电 > 吸尘器", "brand": "戴森", "price": 3990}])
    assert engine.search("吸尘器", k=1).results[0].item_id == "vc1"
    assert engine.search("vacuum cleaner", k=1).results[0].item_id == "vc1"  # via pgvector
    fulltext = PgFullTextIndex(engine.retrieval.url)
    assert fulltext.search(["吸尘器"], 5)[0] == ["vc1"]
    shop.delete_items(["vc1"])  # gone when the call returns: no wait, no poll
    assert "vc1" not in [r.item_id for r in engine.search("吸尘器").results]
    assert fulltext.search(["吸尘器"], 5)[0] == []
    assert not engine.vector.vectors_of(["vc1"]).any()
    assert len(engine.vector) == 2
    engine.save(tmp_path / "search")
    loaded = SearchEngine.load(tmp_path / "search", encoder=use_encoder,
                               retrieval=PostgresRetrieval(pg_url, ef_search=123))
    assert loaded.search("跑步鞋", k=1).results[0].item_id == "sh1"
    with loaded.vector._table._pool.connection() as conn:  # setting beats saved value
        assert conn.execute("SHOW hnsw.ef_search").fetchone()[0] == "123"
    loaded.close()
    fulltext.close()
    engine.close()
    shop.store.close()


def test_a_narrow_filter_is_pushed_down_into_both_lists(
        pg_url: str, use_encoder) -> None:  # type: ignore[no-untyped-def]
    """With 5-item candidate lists, 30 brand-A air conditioners crowd out the 3 brand-B ones
    unless the brand filter runs inside PostgreSQL; pushed down, all three are ranked."""
    products = [Product(f"a{i}", f"格力 变频空调 挂机 {i}", category="家电 > 空调", brand="格力",
                        price=2000.0 + i) for i in range(30)]
    products += [Product(f"b{i}", f"美的 空调 挂机 新一级能效 静音 节能 省电 家用 卧室 客厅 型号{i}", category="家电 > 空调", brand="美的",
                         price=2500.0 + i) for i in range(3)]
    store = open_store(pg_url)
    store.upsert_products(products)
    store.close()
    narrow = {"n_keyword": 5, "n_vector": 5}
    shared = SearchEngine.build(products, encoder=use_encoder,
                                retrieval=PostgresRetrieval(pg_url), **narrow)
    local = SearchEngine.build(products, encoder=use_encoder, **narrow)
    brand_b = user_clauses(brand="美的")
    pushed = shared.search("空调 挂机", filters=brand_b).results
    assert {r.item_id for r in pushed} == {"b0", "b1", "b2"}
    assert all("ranker" in r.signals for r in pushed)  # ranked candidates, not the tail
    in_process = local.search("空调 挂机", filters=brand_b).results
    assert {r.item_id for r in in_process} == {"b0", "b1", "b2"}  # same products shown
    assert not all("ranker" in r.signals for r in in_process)  # but reached as the tail
    shared.close()
