"""Product constraints rendered as SQL over the alias `p` of the `products` table, for the
PostgreSQL indexes that push filters down (store/pgvector.py, store/pg_fulltext.py).

`where` is an `index.filter.ProductFilter` (read by attribute: the store sits below index).
"""

from __future__ import annotations

from typing import Any


def filter_sql(where: Any) -> tuple[str, list[Any]]:
    """(WHERE clause over alias p, parameters) in psycopg's %s style."""
    clauses, params = [], []
    if where.category_prefix:
        clauses.append("(p.category = %s OR p.category LIKE %s)")
        escaped = where.category_prefix.replace("\\", "\\\\").replace("%", "\\%")
        params += [where.category_prefix, escaped.replace("_", "\\_") + " > %"]
    if where.brands is not None:
        clauses.append("lower(p.brand) = ANY(%s)")
        params.append([b.lower() for b in where.brands])
    if where.price_min is not None:
        clauses.append("p.price >= %s")
        params.append(where.price_min)
    if where.price_max is not None:
        clauses.append("p.price <= %s")
        params.append(where.price_max)
    if where.available_only:
        clauses.append("p.available = 1")
    return " AND ".join(clauses) or "TRUE", params


__all__ = ["filter_sql"]
