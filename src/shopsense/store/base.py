"""Store protocols. Callers depend on these, never on a backend; `open_store(url)` picks one."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol

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
