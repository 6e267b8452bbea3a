"""Keyword retrieval in PostgreSQL full-text search over pre-segmented terms.

PostgreSQL's parsers do not segment Chinese, so every field is segmented by
`text.tokenize` (rjieba for Chinese, stemming for English) and stored as a `simple`-config
tsvector of those terms, weighted per field (title A, brand B, category C, description and
attributes D) with a GIN index. A query is the OR of its terms, ranked by `ts_rank_cd`: a
recall stage for several stateless replicas that share one database, not a replacement for
the in-process BM25F index (no idf; its ranking is coarser). Filters are pushed down through
`index.filter.ProductFilter` SQL (store.pg_filter) on the products table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from psycopg_pool import ConnectionPool

from shopsense.domain import Product
from shopsense.store.pg_filter import filter_sql
from shopsense.store.pg_items import ItemRows
from shopsense.text.tokenize import tokenize

_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_FIELDS = (("title", "A"), ("brand", "B"), ("category", "C"), ("description", "D"),
           ("attributes", "D"))


def _terms(product: Product) -> list[str]:
    texts = {"title": product.title, "brand": product.brand, "category": product.category,
             "description": product.description,
             "attributes": " ".join(f"{k} {v}" for k, v in product.attributes.items())}
    return [" ".join(tokenize(texts[name])) for name, _ in _FIELDS]


def tsquery_of(terms: Iterable[str], *, every: bool = False) -> str:
    """OR (AND with `every`) of quoted lexemes (quotes doubled), safe to pass to
    to_tsquery('simple', ...)."""
    quoted = ["'" + t.replace("\\", "\\\\").replace("'", "''") + "'" for t in dict.fromkeys(terms)
              if t.strip()]
    return (" & " if every else " | ").join(quoted)


class PgFullTextIndex(ItemRows):
    """item_id -> weighted tsvector of segmented terms, GIN-indexed, in table `table`."""

    kind = "pg_fulltext"

    def __init__(self, url: str, *, table: str = "item_text", pool_max: int = 4) -> None:
        if not _NAME.match(table):
            raise ValueError(f"table name {table!r} must match {_NAME.pattern}")
        self.url, self.table = url, table
        self._pool = ConnectionPool(url, min_size=1, max_size=pool_max, open=True,
                                    kwargs={"autocommit": True})
        with self._pool.connection() as conn:
            conn.execute(f'CREATE TABLE IF NOT EXISTS {table} (item_id TEXT COLLATE "C" '
                         "PRIMARY KEY, terms tsvector NOT NULL)")
            conn.execute(f"CREATE INDEX IF NOT EXISTS {table}_gin ON {table} USING gin (terms)")

    def add(self, products: Sequence[Product]) -> None:
        """Insert or replace the products' terms (one transaction)."""
        vector = " || ".join(f"setweight(to_tsvector('simple', %s), '{w}')" for _, w in _FIELDS)
        rows = [(p.item_id, *_terms(p)) for p in products]
        with self._pool.connection() as conn, conn.transaction():
            conn.cursor().executemany(
                f"INSERT INTO {self.table} (item_id, terms) VALUES (%s, {vector}) "
                "ON CONFLICT (item_id) DO UPDATE SET terms = excluded.terms", rows)

    def __len__(self) -> int:
        with self._pool.connection() as conn:
            return int(conn.execute(f"SELECT COUNT(*) FROM {self.table}").fetchone()[0])

    def search(self, terms: Sequence[str], k: int, *, where: Any = None, every: bool = False
               ) -> tuple[list[str], list[float]]:
        """Top-`k` (item_ids, ts_rank_cd scores) for segmented query terms, best first: rows
        with any term, or with every term when `every`. `where` is an object with
        `index.filter.ProductFilter` (rendered by store.pg_filter). Cost grows with the
        number of matching rows (each is ranked), so common terms are slow under OR."""
        query = tsquery_of(terms, every=every)
        if not query or k <= 0:
            return [], []
        join, clause, params = "", "TRUE", []
        if where is not None and not where.is_empty():
            clause, params = filter_sql(where)
            join = "JOIN products p ON p.item_id = t.item_id"
        sql = (f"SELECT t.item_id, ts_rank_cd(t.terms, q) AS score FROM {self.table} t {join}, "
               f"to_tsquery('simple', %s) q WHERE t.terms @@ q AND {clause} "
               "ORDER BY score DESC, t.item_id LIMIT %s")
        with self._pool.connection() as conn:
            rows = conn.execute(sql, [query, *params, k]).fetchall()
        return [r[0] for r in rows], [float(r[1]) for r in rows]

    def config(self) -> dict[str, Any]:
        return {"kind": self.kind, "table": self.table, "fields": dict(_FIELDS)}

    def close(self) -> None:
        self._pool.close()


__all__ = ["PgFullTextIndex", "tsquery_of"]
