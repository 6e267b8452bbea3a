"""Where hybrid search's first-stage candidate lists live, chosen in one place.

`retrieval_for(search_settings, store_url)` returns the backend the settings select:

- `embedded` (the default with SQLite): the top BM25F rows of the replica's own keyword index
  and a numpy / faiss vector index in process;
- `postgresql` (the default when the store is `postgresql://…`): PostgreSQL full-text search
  over pre-segmented terms (`store.pg_fulltext`) and pgvector HNSW (`index.pgvector`) in the
  shared database, with the shopper's filters pushed down into both;
- `pgvector`: BM25F in process for keywords, pgvector for vectors (measured faster than
  full-text at 1M products, whose ranking of every matching row dominates the tail).

A backend makes the two parts the `SearchEngine` holds: a vector index (the `VectorIndex`
protocol) and `KeywordCandidates`. Features, facets, totals and sorting still use the
replica's in-process product table and BM25F statistics in both cases; only candidate
generation (and, with pgvector, the candidate vectors) moves into PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from shopsense.config import SearchSettings
from shopsense.domain import Product
from shopsense.index.filter import ProductFilter
from shopsense.index.keyword import KeywordIndex, KeywordMatches
from shopsense.index.vector import VectorIndex, load_vector_index, make_vector_index


class KeywordCandidates(Protocol):
    """The keyword list of hybrid search: rows of the engine's keyword index, best first."""

    name: str

    def top_rows(self, terms: Sequence[str], bm25: KeywordMatches, k: int, *,
                 where: ProductFilter | None = None) -> np.ndarray:
        """Up to `k` rows for the analysed query `terms`; `bm25` holds the BM25F of the rows
        with a query term, from the keyword index (a backend may rank by it or by its own
        engine)."""
        ...

    def add(self, products: Sequence[Product]) -> None: ...

    def remove(self, item_ids: Iterable[str]) -> None: ...


class BM25FCandidates:
    """The top rows by the BM25F the keyword index already computed. Its state is that index,
    which the engine keeps current itself, so `add` / `remove` have nothing else to update."""

    name = "bm25f"

    def top_rows(self, terms: Sequence[str], bm25: KeywordMatches, k: int, *,
                 where: ProductFilter | None = None) -> np.ndarray:
        rows, _ = bm25.top(k)
        return rows

    def add(self, products: Sequence[Product]) -> None:
        return None

    def remove(self, item_ids: Iterable[str]) -> None:
        return None


class PgFullTextCandidates:
    """PostgreSQL full-text matches (filters pushed down), mapped to keyword-index rows; ids
    this replica's catalogue does not hold yet are skipped. Rows with every query term come
    first; rows with only some of them are added (up to `k`) when fewer than a page
    (`FILL_BELOW`) hold every term: PostgreSQL ranks every matching row, and OR over common
    terms cost ~100 ms at 100k products (benchmarks/scale.py)."""

    FILL_BELOW = 10

    name = "pg_fulltext"

    def __init__(self, fulltext: Any, keyword: KeywordIndex) -> None:
        self.fulltext, self.keyword = fulltext, keyword

    def top_rows(self, terms: Sequence[str], bm25: KeywordMatches, k: int, *,
                 where: ProductFilter | None = None) -> np.ndarray:
        ids, _ = self.fulltext.search(terms, k, where=where, every=True)
        if len(ids) < min(k, self.FILL_BELOW) and len(set(terms)) > 1:
            more, _ = self.fulltext.search(terms, k, where=where)
            ids = list(dict.fromkeys([*ids, *more]))[:k]
        rows = [row for i in ids if (row := self.keyword.row_of_.get(i)) is not None]
        return np.asarray(rows, dtype=np.int64)

    def add(self, products: Sequence[Product]) -> None:
        self.fulltext.add(products)

    def remove(self, item_ids: Iterable[str]) -> None:
        self.fulltext.remove(item_ids)


class EmbeddedRetrieval:
    """In-process lists: BM25F top rows and numpy / faiss vectors."""

    name = "embedded"

    def __init__(self, exact_threshold: int = 20_000) -> None:
        self.exact_threshold = exact_threshold

    def vector_index(self, dim: int, item_ids: Sequence[str], vectors: np.ndarray) -> VectorIndex:
        return make_vector_index(dim, item_ids, vectors, self.exact_threshold)

    def load_vector_index(self, directory: Path) -> VectorIndex:
        return load_vector_index(directory)

    def keyword_candidates(self, keyword: KeywordIndex,
                           products: Sequence[Product] | None = None) -> KeywordCandidates:
        return BM25FCandidates()

    def close(self) -> None:
        return None


class PostgresRetrieval:
    """Lists in PostgreSQL: full-text search over segmented terms and pgvector HNSW. Their
    tables sit beside the store's `products` table (filters join it), in the schema the URL's
    search_path names."""

    name = "postgresql"

    def __init__(self, url: str, *, ef_search: int = 100, pool_max: int = 4,
                 hnsw: dict[str, Any] | None = None) -> None:
        """`hnsw`: build options passed to PgVectorIndex (m, ef_construction, build_memory,
        build_workers); its defaults otherwise."""
        from shopsense.store.postgres import split_url

        self.url, _, _ = split_url(url)  # libpq does not know pool_min / pool_max
        self.ef_search, self.pool_max = ef_search, pool_max
        self.hnsw = dict(hnsw or {})
        self._opened: list[Any] = []

    def _keep(self, part: Any) -> Any:
        self._opened.append(part)
        return part

    def vector_index(self, dim: int, item_ids: Sequence[str], vectors: np.ndarray) -> VectorIndex:
        """Replace the table's rows by these vectors and build the HNSW graph (once)."""
        from shopsense.index.pgvector import PgVectorIndex

        index = self._keep(PgVectorIndex(self.url, dim, ef_search=self.ef_search,
                                         pool_max=self.pool_max, **self.hnsw))
        index.add(list(item_ids), vectors)
        index.keep_only(list(item_ids))
        return index.build()

    def load_vector_index(self, directory: Path) -> VectorIndex:
        from shopsense.index.pgvector import PgVectorIndex

        return self._keep(PgVectorIndex.load(directory, self.url, ef_search=self.ef_search))

    def keyword_candidates(self, keyword: KeywordIndex,
                           products: Sequence[Product] | None = None) -> KeywordCandidates:
        """Open the full-text table; with `products`, make its rows exactly these."""
        from shopsense.store.pg_fulltext import PgFullTextIndex

        fulltext = self._keep(PgFullTextIndex(self.url, pool_max=self.pool_max))
        if products is not None:
            fulltext.add(products)
            fulltext.keep_only([p.item_id for p in products])
        return PgFullTextCandidates(fulltext, keyword)

    def close(self) -> None:
        for part in self._opened:
            part.close()
        self._opened.clear()


class PgVectorRetrieval(PostgresRetrieval):
    """Vectors in pgvector (filters pushed down), keywords from the in-process BM25F index."""

    name = "pgvector"

    def keyword_candidates(self, keyword: KeywordIndex,
                           products: Sequence[Product] | None = None) -> KeywordCandidates:
        return BM25FCandidates()


Retrieval = EmbeddedRetrieval | PostgresRetrieval
BACKENDS = ("embedded", "postgresql", "pgvector")
_SHARED = {"postgresql": PostgresRetrieval, "pgvector": PgVectorRetrieval}


def retrieval_for(settings: SearchSettings, store_url: str) -> Retrieval:
    """The backend `settings.backend` selects; `auto` follows the store URL's scheme."""
    name = settings.backend
    if name == "auto":
        scheme = store_url.split("://", 1)[0]
        name = "postgresql" if scheme in ("postgresql", "postgres") else "embedded"
    if name == "embedded":
        return EmbeddedRetrieval(settings.exact_threshold)
    if name in _SHARED:
        url = settings.retrieval_url or store_url
        if not url.startswith(("postgresql://", "postgres://")):
            raise ValueError(f"search.backend={name} needs a postgresql:// URL in "
                             f"search.retrieval_url or store.url, got {url!r}")
        return _SHARED[name](url, ef_search=settings.hnsw_ef_search)
    raise ValueError(f"unknown search.backend {name!r}; known: auto, {', '.join(BACKENDS)}")


__all__ = ["BACKENDS", "BM25FCandidates", "EmbeddedRetrieval", "KeywordCandidates",
           "PgFullTextCandidates", "PgVectorRetrieval", "PostgresRetrieval", "Retrieval",
           "retrieval_for"]
