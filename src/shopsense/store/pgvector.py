"""The SQL of vector retrieval in PostgreSQL (pgvector): table `table` (item_id,
embedding vector(dim)) with an HNSW index for inner product. `index.pgvector.PgVectorIndex`
puts the vector-index interface on top (numpy in and out, save / load).

Filters are pushed down: `nearest(..., where=ProductFilter)` joins the products table
(store.pg_filter) and pgvector's iterative index scan keeps walking the graph until `k` rows
pass, so a narrow filter still returns `k` results.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence
from typing import Any

import numpy as np
from psycopg_pool import ConnectionPool

from shopsense.store.pg_filter import filter_sql
from shopsense.store.pg_items import ItemRows
from shopsense.store.pg_schema import SCHEMA_LOCK_ID

NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_COPY_BATCH = 10_000


def copy_binary(item_ids: Sequence[str], vectors: np.ndarray, *, header: bool = True,
                trailer: bool = True) -> bytes:
    """Rows (item_id text, embedding vector) in PostgreSQL's binary COPY format; pgvector's
    binary vector is int16 dim, int16 0, dim big-endian float32."""
    dim = vectors.shape[1]
    body = vectors.astype(">f4").tobytes()
    width = 4 * dim
    vector_head = struct.pack(">iHH", 4 + width, dim, 0)
    parts = [b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)] if header else []
    for row, item_id in enumerate(item_ids):
        key = item_id.encode()
        parts += [struct.pack(">hi", 2, len(key)), key, vector_head,
                  body[row * width:(row + 1) * width]]
    if trailer:
        parts.append(struct.pack(">h", -1))
    return b"".join(parts)


class PgVectorTable(ItemRows):
    """One pgvector table in the database at `url` (created if missing)."""

    def __init__(self, url: str, dim: int, table: str, *, ef_search: int, pool_max: int
                 ) -> None:
        if not NAME.match(table):
            raise ValueError(f"table name {table!r} must match {NAME.pattern}")
        self.dim, self.table, self.ef_search = dim, table, ef_search
        self._pool = ConnectionPool(url, min_size=1, max_size=pool_max, open=True,
                                    kwargs={"autocommit": True}, configure=self._configure)
        with self._pool.connection() as conn, conn.transaction():
            # Replicas opening the same table at once: `IF NOT EXISTS` alone races.
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_ID,))
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            conn.execute(f'CREATE TABLE IF NOT EXISTS {table} (item_id TEXT COLLATE "C" '
                         f"PRIMARY KEY, embedding vector({dim}) NOT NULL)")

    def _configure(self, conn: Any) -> None:
        conn.execute(f"SET hnsw.ef_search = {int(self.ef_search)}")
        conn.execute("SET hnsw.iterative_scan = strict_order")

    def build_hnsw(self, *, m: int, ef_construction: int, memory: str, workers: int) -> None:
        """Create the HNSW index (after a bulk load: building once is faster than growing)."""
        if not re.match(r"^\d+(kB|MB|GB)$", memory):
            raise ValueError(f"build_memory like '1GB', got {memory!r}")
        with self._pool.connection() as conn:
            conn.execute(f"SET maintenance_work_mem = '{memory}'")
            conn.execute(f"SET max_parallel_maintenance_workers = {int(workers)}")
            conn.execute(f"CREATE INDEX IF NOT EXISTS {self.table}_hnsw ON {self.table} USING "
                         f"hnsw (embedding vector_ip_ops) WITH (m = {int(m)}, "
                         f"ef_construction = {int(ef_construction)})")

    def count(self) -> int:
        with self._pool.connection() as conn:
            return int(conn.execute(f"SELECT COUNT(*) FROM {self.table}").fetchone()[0])

    def replace(self, item_ids: Sequence[str], vectors: np.ndarray) -> None:
        """Insert or replace (n, dim) float32 rows: COPY inside one transaction."""
        with self._pool.connection() as conn, conn.transaction():
            conn.execute(f"DELETE FROM {self.table} WHERE item_id = ANY(%s)", (list(item_ids),))
            sql = f"COPY {self.table} (item_id, embedding) FROM STDIN (FORMAT BINARY)"
            with conn.cursor().copy(sql) as cp:
                for start in range(0, len(item_ids), _COPY_BATCH):
                    stop = start + _COPY_BATCH
                    cp.write(copy_binary(item_ids[start:stop], vectors[start:stop],
                                         header=start == 0, trailer=stop >= len(item_ids)))

    def nearest(self, query: np.ndarray, k: int, where: Any = None
                ) -> list[tuple[str, float]]:
        """Top-`k` (item_id, inner product) for a (dim,) query, best first; `where` is an
        `index.filter.ProductFilter` or None."""
        q = "[" + ",".join(f"{x:.7g}" for x in np.asarray(query, dtype=np.float32)) + "]"
        if where is None or where.is_empty():
            sql = (f"SELECT item_id, -(embedding <#> %s::vector) FROM {self.table} "
                   "ORDER BY embedding <#> %s::vector LIMIT %s")
            params: list[Any] = [q, q, k]
        else:
            clause, params = filter_sql(where)
            sql = (f"SELECT v.item_id, -(v.embedding <#> %s::vector) FROM {self.table} v "
                   f"JOIN products p ON p.item_id = v.item_id WHERE {clause} "
                   "ORDER BY v.embedding <#> %s::vector LIMIT %s")
            params = [q, *params, q, k]
        with self._pool.connection() as conn:
            return [(r[0], r[1]) for r in conn.execute(sql, params).fetchall()]

    def vectors(self, item_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored (dim,) float32 vector of each known id."""
        # vector_send: pgvector's binary form (int16 dim, int16 0, big-endian float32s),
        # decoded by numpy; parsing the text form of real[] cost ~50 ms for 250 rows
        with self._pool.connection() as conn:
            rows = conn.execute(f"SELECT item_id, vector_send(embedding) FROM {self.table} "
                                "WHERE item_id = ANY(%s)", (list(item_ids),)).fetchall()
        return {r[0]: np.frombuffer(r[1], dtype=">f4", offset=4) for r in rows}

    def close(self) -> None:
        self._pool.close()


__all__ = ["NAME", "PgVectorTable", "copy_binary"]
