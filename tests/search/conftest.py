"""Shared fixtures for search tests: the real USE encoder, a small bilingual catalogue and the
retrieval backends the search contract runs over (embedded; PostgreSQL full-text + pgvector,
and BM25F + pgvector, when a loopback PostgreSQL is available, else those skip with the
reason)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import pytest

from shopsense.domain import Product

BILINGUAL = [
    Product("ac1", "格力 变频空调 1.5匹 冷暖 挂机", category="家电 > 空调", brand="格力", price=2999,
            attributes={"power": "1.5匹"}, created_at=1_700_000_000),
    Product("ac2", "美的 空调 挂机 1匹 新一级能效", category="家电 > 空调", brand="美的", price=1999,
            attributes={"power": "1匹"}, created_at=1_710_000_000),
    Product("ac3", "Gree inverter air conditioner 2 HP", category="家电 > 空调", brand="格力",
            price=3999, available=False, created_at=1_720_000_000),
    Product("sh1", "Nike 男士跑步鞋 气垫运动鞋", category="鞋靴 > 运动鞋", brand="Nike", price=699,
            attributes={"colour": "black"}, created_at=1_690_000_000),
    Product("sh2", "李宁 运动鞋 女款 轻便透气", category="鞋靴 > 运动鞋", brand="李宁", price=399,
            attributes={"colour": "white"}),
    Product("sh3", "Adidas running shoes Ultraboost men", category="鞋靴 > 运动鞋", brand="Adidas",
            price=1299, attributes={"colour": "black"}),
    Product("tv1", "小米 电视 55英寸 4K 超高清", category="家电 > 电视", brand="小米", price=2499),
    Product("fr1", "Haier refrigerator 300L double door", category="家电 > 冰箱", brand="海尔",
            price=3299),
    Product("fr2", "海尔 冰箱 十字对开门 500升", category="家电 > 冰箱", brand="海尔", price=4999),
    Product("lb1", "Philips LED light bulb 60W warm white", category="家居 > 灯具", brand="Philips",
            price=19.9),
    Product("ph1", "华为 手机 Mate 60 256GB", category="手机数码 > 手机", brand="华为", price=5999),
    Product("ph2", "Apple iPhone 15 128GB smartphone", category="手机数码 > 手机", brand="苹果",
            price=5999),
]


@pytest.fixture(scope="session")
def bilingual_products() -> list[Product]:
    return list(BILINGUAL)


@pytest.fixture(scope="session")
def use_encoder():  # type: ignore[no-untyped-def]
    from shopsense.text.encoders import USEEncoder

    return USEEncoder(threads=1)


class Catalogue:
    """A search engine over one retrieval backend plus, for PostgreSQL, the store (in a schema
    of its own) whose `products` table the pushed-down filters join. Writes go to both, store
    first, in the order `Shop.upsert_items` / `delete_items` use."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.store: Any = None
        self.url = ""
        if backend in ("postgresql", "pgvector"):
            from shopsense.scale.services import fresh_postgres_url, postgres_for_tests
            from shopsense.store.postgres import PostgresStore

            base, why = postgres_for_tests()
            if base is None:
                pytest.skip(f"no PostgreSQL server: {why}")
            self.url = fresh_postgres_url(base)
            self.store = PostgresStore(self.url)

    def retrieval(self) -> Any:
        from shopsense.retrieve.backends import (
            EmbeddedRetrieval,
            PgVectorRetrieval,
            PostgresRetrieval,
        )

        if not self.url:
            return EmbeddedRetrieval()
        return (PgVectorRetrieval if self.backend == "pgvector" else PostgresRetrieval)(self.url)

    def build(self, products: Sequence[Product], encoder: Any, **options: Any) -> Any:
        from shopsense.pipeline.search import SearchEngine

        if self.store is not None:
            self.store.upsert_products(products)
        return SearchEngine.build(products, encoder=encoder, retrieval=self.retrieval(),
                                  **options)

    def upsert(self, engine: Any, products: Sequence[Product]) -> None:
        if self.store is not None:
            self.store.upsert_products(products)
        engine.upsert(products)

    def remove(self, engine: Any, item_ids: Iterable[str]) -> None:
        ids = list(item_ids)
        if self.store is not None:
            self.store.delete_products(ids)
        engine.remove(ids)

    def close(self) -> None:
        if self.store is not None:
            self.store.close()


@pytest.fixture(scope="session", params=["embedded", "postgresql", "pgvector"])
def search_backend(request: pytest.FixtureRequest) -> str:
    """A retrieval backend name; the shared ones skip without the scale extra or a server."""
    if request.param != "embedded":
        pytest.importorskip("psycopg_pool", reason="scale extra not installed (psycopg)")
        services = pytest.importorskip("shopsense.scale.services",
                                       reason="scale extra not installed (psycopg)")
        base, why = services.postgres_for_tests()
        if base is None:
            pytest.skip(f"no PostgreSQL server: {why}")
    return str(request.param)


@pytest.fixture
def catalogue(search_backend: str) -> Iterator[Catalogue]:
    """An empty catalogue of its own on the backend under test."""
    fresh = Catalogue(search_backend)
    yield fresh
    fresh.close()


@pytest.fixture(scope="session")
def bilingual_engine(use_encoder, search_backend: str):  # type: ignore[no-untyped-def]
    shared = Catalogue(search_backend)
    engine = shared.build(BILINGUAL, use_encoder)
    yield engine
    engine.close()
    shared.close()
