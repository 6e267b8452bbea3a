"""Stores behind small protocols, chosen by URL from an explicit registry.

    open_store("sqlite:///abs/path/shop.db")   # embedded default (WAL)
    open_store("memory://")                    # tests: SQLite in memory, same semantics
    open_store("postgresql://user@host:5432/db?pool_max=10")   # shared by API replicas
"""

from __future__ import annotations

from collections.abc import Callable

from shopsense.store.base import CatalogStore, EventStore, SqlStore, Store
from shopsense.store.sqlite import SqliteStore

__all__ = ["REGISTRY", "CatalogStore", "EventStore", "SqlStore", "SqliteStore", "Store",
           "open_store"]


def _sqlite(url: str) -> SqliteStore:
    path = url.removeprefix("sqlite:///")
    if not path:
        raise ValueError(f"store URL {url!r} names no file (sqlite:///path/shop.db)")
    return SqliteStore(path)  # sqlite:///rel/path or sqlite:////abs/path (SQLAlchemy style)


def _memory(url: str) -> SqliteStore:
    return SqliteStore(":memory:")


def _postgresql(url: str) -> Store:
    from shopsense.store.postgres import PostgresStore  # optional extra: psycopg, psycopg_pool

    return PostgresStore(url)


REGISTRY: dict[str, Callable[[str], Store]] = {
    "sqlite": _sqlite,
    "memory": _memory,
    "postgresql": _postgresql,
    "postgres": _postgresql,
}


def open_store(url: str) -> Store:
    scheme = url.split("://", 1)[0] if "://" in url else ""
    factory = REGISTRY.get(scheme)
    if factory is None:
        raise ValueError(f"unknown store URL scheme {scheme!r} in {url!r}; "
                         f"known: {', '.join(sorted(REGISTRY))}")
    return factory(url)
