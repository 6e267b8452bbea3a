"""Rows keyed by item id in a PostgreSQL table of a derived index (pgvector, full-text):
the removals both indexes share. A class using it sets `_pool` (a psycopg ConnectionPool) and
`table` (a checked identifier)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any


class ItemRows:
    _pool: Any
    table: str

    def remove(self, item_ids: Iterable[str]) -> int:
        with self._pool.connection() as conn:
            return int(conn.execute(f"DELETE FROM {self.table} WHERE item_id = ANY(%s)",
                                    (list(item_ids),)).rowcount)

    def keep_only(self, item_ids: Sequence[str]) -> int:
        """Delete every row whose id is not in `item_ids` (after a rebuild from the store)."""
        with self._pool.connection() as conn:
            return int(conn.execute(f"DELETE FROM {self.table} WHERE NOT (item_id = ANY(%s))",
                                    (list(item_ids),)).rowcount)


__all__ = ["ItemRows"]
