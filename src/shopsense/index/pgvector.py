"""Vector retrieval at scale: pgvector (HNSW, inner product) in the shop's PostgreSQL, behind
the same interface as index.vector (`add` / `remove` / `search` / `vectors_of` / `len`).

The table and its SQL are the store's (store/pgvector.py). Filters are pushed down into SQL:
`search(q, k, where=ProductFilter(...))` joins the products table (category prefix, brands,
price range, availability) and lets pgvector's iterative index scan keep walking the graph
until `k` rows pass the filter, so a narrow filter still returns `k` results instead of the
few that happened to be in the first candidate list.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from shopsense.index.filter import ProductFilter
from shopsense.store.pgvector import NAME, PgVectorTable
from shopsense.store.pgvector import copy_binary as copy_binary  # re-exported


class PgVectorIndex:
    """Unit vectors in table `table` (item_id, embedding vector(dim)) with an HNSW index;
    the SQL is the store's (store/pgvector.py)."""

    kind = "pgvector"
    applies_filters = True

    def __init__(self, url: str, dim: int, *, table: str = "item_vectors", m: int = 16,
                 ef_construction: int = 64, ef_search: int = 64, pool_max: int = 4,
                 build_memory: str = "1GB", build_workers: int = 0) -> None:
        if dim <= 0:
            raise ValueError("dim must be positive")
        if not NAME.match(table):
            raise ValueError(f"table name {table!r} must match {NAME.pattern}")
        if not re.match(r"^\d+(kB|MB|GB)$", build_memory):
            raise ValueError(f"build_memory like '1GB', got {build_memory!r}")
        self.url, self.dim, self.table = url, dim, table
        self.m, self.ef_construction, self.ef_search = m, ef_construction, ef_search
        self.build_memory, self.build_workers = build_memory, build_workers
        self._table = PgVectorTable(url, dim, table, ef_search=ef_search, pool_max=pool_max)

    def build(self) -> PgVectorIndex:
        """Create the HNSW index (after a bulk load: building once is faster than growing)."""
        self._table.build_hnsw(m=self.m, ef_construction=self.ef_construction,
                               memory=self.build_memory, workers=self.build_workers)
        return self

    def __len__(self) -> int:
        return self._table.count()

    def add(self, item_ids: Sequence[str], vectors: np.ndarray) -> None:
        """Insert or replace; (n, dim) float32 unit rows. COPY inside one transaction."""
        vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        if len(item_ids) != len(vectors):
            raise ValueError(f"{len(item_ids)} ids for {len(vectors)} vectors")
        self._table.replace(item_ids, vectors)

    def remove(self, item_ids: Iterable[str]) -> int:
        return self._table.remove(item_ids)

    def keep_only(self, item_ids: Sequence[str]) -> int:
        """Delete every row whose id is not in `item_ids` (after a rebuild from the store)."""
        return self._table.keep_only(item_ids)

    def search(self, query: np.ndarray, k: int, *, where: ProductFilter | None = None
               ) -> tuple[list[str], np.ndarray]:
        """Top-`k` (item_ids, inner products) for a (dim,) unit query, best first."""
        if k <= 0:
            return [], np.zeros(0, dtype=np.float32)
        rows = self._table.nearest(query, k, where)
        return [r[0] for r in rows], np.asarray([r[1] for r in rows], dtype=np.float32)

    def vectors_of(self, item_ids: Sequence[str]) -> np.ndarray:
        """(len(item_ids), dim); zero rows for unknown ids."""
        rows = self._table.vectors(item_ids)
        out = np.zeros((len(item_ids), self.dim), dtype=np.float32)
        for i, item_id in enumerate(item_ids):
            if item_id in rows:
                out[i] = rows[item_id]
        return out

    def save(self, directory: Path) -> None:
        """The vectors live in PostgreSQL; the folder records where (no credentials)."""
        directory.mkdir(parents=True, exist_ok=True)
        config = {"kind": self.kind, "dim": self.dim, "table": self.table, "m": self.m,
                  "ef_construction": self.ef_construction, "ef_search": self.ef_search}
        (directory / "vector_config.json").write_text(json.dumps(config))

    @classmethod
    def load(cls, directory: Path, url: str, *, ef_search: int | None = None) -> PgVectorIndex:
        """Open the table a saved engine used; `ef_search` overrides the saved one."""
        config = json.loads((directory / "vector_config.json").read_text())
        return cls(url, int(config["dim"]), table=config["table"], m=config["m"],
                   ef_construction=config["ef_construction"],
                   ef_search=config["ef_search"] if ef_search is None else ef_search)

    def close(self) -> None:
        self._table.close()


__all__ = ["PgVectorIndex"]
