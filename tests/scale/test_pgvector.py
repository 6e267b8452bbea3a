"""pgvector index on the loopback PostgreSQL: same answers as the exact index (by recall),
filters pushed down still return k matching items, add/replace/remove/vectors_of round-trip."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("psycopg_pool", reason="psycopg-pool (scale extra) not installed")

from shopsense.domain import Product
from shopsense.index.filter import ProductFilter
from shopsense.index.pgvector import PgVectorIndex
from shopsense.index.vector import ExactVectorIndex
from shopsense.store import open_store

N, DIM = 3000, 32
CATS = ["家电 > 空调", "家电 > 冰箱", "Phones > Android", "Books"]


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    x = rng.standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def loaded(running):
    from shopsense.scale.services import fresh_postgres_url

    if not running.postgres_url:
        pytest.skip(f"no postgres server: {running.skipped.get('postgres')}")
    pg_url = fresh_postgres_url(running.postgres_url)
    rng = np.random.default_rng(7)
    ids = [f"i{n:05d}" for n in range(N)]
    vectors = _unit(rng, N)
    store = open_store(pg_url)
    store.upsert_products([Product(i, f"t{i}", category=CATS[n % 4], brand=f"b{n % 7}",
                                   price=float(n % 100), available=n % 5 != 0)
                           for n, i in enumerate(ids)])
    index = PgVectorIndex(pg_url, DIM, ef_search=80)
    index.add(ids, vectors)
    index.build()
    exact = ExactVectorIndex(DIM)
    exact.add(ids, vectors)
    yield index, exact, ids, vectors, _unit(rng, 30)
    index.close()
    store.close()


def test_recall_against_exact(loaded) -> None:
    index, exact, _, _, queries = loaded
    hits = 0
    for q in queries:
        got, scores = index.search(q, 10)
        want, want_scores = exact.search(q, 10)
        hits += len(set(got) & set(want))
        assert list(scores) == sorted(scores, reverse=True)
        assert scores[0] <= want_scores[0] + 1e-5  # never better than the true best
    assert hits / (10 * len(queries)) >= 0.9


def test_filters_are_pushed_down(loaded) -> None:
    index, _exact, ids, vectors, queries = loaded
    where = ProductFilter(category_prefix="家电 > 空调", price_max=30.0, available_only=True)
    allowed = np.asarray([n % 4 == 0 and n % 100 <= 30 and n % 5 != 0 for n in range(N)])
    for q in queries[:10]:
        got, _scores = index.search(q, 10, where=where)
        assert len(got) == 10  # ~3 % of items pass: iterative scan keeps walking
        rows = [int(i[1:]) for i in got]
        assert allowed[rows].all()
        truth = np.where(allowed, vectors @ q, -np.inf)
        best = [ids[r] for r in np.argsort(-truth)[:10]]
        assert len(set(got) & set(best)) >= 8
    parent, _ = index.search(queries[0], 20, where=ProductFilter(category_prefix="家电"))
    assert {int(i[1:]) % 4 for i in parent} <= {0, 1}
    brand, _ = index.search(queries[0], 5, where=ProductFilter(brands=("b3",)))
    assert all(int(i[1:]) % 7 == 3 for i in brand) and len(brand) == 5


def test_add_replace_remove(pg_url: str) -> None:
    rng = np.random.default_rng(3)
    ids, vectors, q = [f"i{n:05d}" for n in range(200)], _unit(rng, 200), _unit(rng, 1)[0]
    index = PgVectorIndex(pg_url, DIM)
    index.add(ids, vectors)
    index.add(["i00001"], q[None, :])  # replace: now the best match of q
    got, scores = index.search(q, 1)
    assert got == ["i00001"] and scores[0] == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(index.vectors_of(["i00001", "nope"]),
                               np.stack([q, np.zeros(DIM, np.float32)]), atol=1e-6)
    assert index.remove(["i00001", "nope"]) == 1
    assert "i00001" not in index.search(q, 5)[0]
    assert len(index) == 199
    with pytest.raises(ValueError):
        index.add(["a", "b"], vectors[:1])
    with pytest.raises(ValueError):
        PgVectorIndex(pg_url, DIM, table="x; DROP TABLE products")
    index.close()
