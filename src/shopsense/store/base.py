"""Store protocols. Callers depend on these, never on a backend; `open_store(url)` picks one."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from shopsense.domain import Event, Product


class CatalogStore(Protocol):
    def upsert_products(self, products: Sequence[Product]) -> tuple[int, int]:
        """Insert or replace by item_id; returns (written, unchanged)."""
        ...

    def delete_products(self, item_ids: Iterable[str]) -> int: ...

    def get_product(self, item_id: str) -> Product | None: ...

    def get_products(self, item_ids: Sequence[str]) -> dict[str, Product]: ...

    def iter_products(self) -> Iterator[Product]: ...

    def count_products(self) -> int: ...


class EventStore(Protocol):
    def add_events(self, events: Sequence[Event]) -> tuple[int, int]:
        """Insert, skipping event_ids already stored; returns (inserted, duplicates).
        The batch is committed atomically before this returns."""
        ...

    def iter_events(self, *, since: float | None = None, until: float | None = None,
                    actor: str | None = None) -> Iterator[Event]:
        """Events in timestamp order; `actor` limits to one user pseudonym or session."""
        ...

    def count_events(self) -> int: ...

    def link_session(self, session_id: str, user_id: str) -> int:
        """Stitch an anonymous session to a user (both pseudonyms); returns events moved."""
        ...

    def forget_user(self, user_id: str) -> int:
        """Erase every event and derived row of this pseudonym; returns rows removed."""
        ...


class Cursor(Protocol):
    """The slice of a DB-API cursor that repositories use inside `transaction()`."""

    rowcount: int

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor: ...

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Cursor: ...

    def fetchone(self) -> tuple[Any, ...] | None: ...

    def fetchall(self) -> list[tuple[Any, ...]]: ...


class SqlStore(Protocol):
    """What a repository in `store/` runs its SQL on: SQLite-flavoured text with `?`
    placeholders that each backend runs (the PostgreSQL store rewrites it: pg_dialect.py).
    Only modules inside `store/` call these (tests/test_architecture.py)."""

    dialect: str

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def transaction(self) -> AbstractContextManager[Any]: ...


class Store(CatalogStore, EventStore, SqlStore, Protocol):
    """A whole store as `open_store(url)` returns it (SqliteStore or PostgresStore): the
    catalogue and events, erasure and retention, small state and the audit log. Callers
    outside `store/` reach tables through the repositories, never through `execute`."""

    def close(self) -> None: ...

    def erased_tokens(self) -> set[str]: ...

    def is_erased(self, user_id: str) -> bool: ...

    def purge_events_before(self, timestamp: float) -> int: ...

    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...

    def audit(self, actor: str, action: str, detail: dict[str, Any]) -> None: ...

    def reset_caches(self) -> None: ...

    def checkpoint(self) -> None: ...

    def vacuum(self) -> None: ...
