"""Row formats every store backend shares: the products and events columns, a Product or an
Event to and from a row, the event filters of `iter_events`, and the one-way erasure token.
SQLite (store/sqlite.py) and PostgreSQL (store/postgres.py) both read and write these."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from typing import Any

from shopsense.domain import Event, Product

PRODUCT_COLS = ("item_id", "title", "description", "category", "brand", "price", "currency",
                 "attributes", "image_url", "available", "created_at", "locale")
EVENT_COLS = ("event_id", "user_id", "session_id", "item_id", "event_type", "query", "value",
              "platform", "timestamp")
EVENT_FIELDS = ("event_id", "event_type", "timestamp", "user_id", "session_id", "item_id",
                "query", "value", "platform")  # Event's field order: rows of add_event_rows


def product_row(p: Product) -> tuple[Any, ...]:
    attrs = json.dumps(p.attributes, ensure_ascii=False, sort_keys=True, default=str)
    return (p.item_id, p.title, p.description, p.category, p.brand, p.price, p.currency, attrs,
            p.image_url, int(p.available), p.created_at, p.locale)


def event_filter(since: float | None, until: float | None, actor: str | None,
                 mark: str = "?") -> tuple[list[str], list[Any]]:
    """(WHERE clauses, parameters) of `iter_events`' filters; `mark` is the placeholder."""
    clauses, params = ["1=1"], []
    if since is not None:
        clauses.append(f"timestamp >= {mark}")
        params.append(since)
    if until is not None:
        clauses.append(f"timestamp < {mark}")
        params.append(until)
    if actor is not None:
        clauses.append(f"(user_id = {mark} OR session_id = {mark})")
        params += [actor, actor]
    return clauses, params


def product_from_row(row: Sequence[Any]) -> Product:
    return Product(item_id=row[0], title=row[1], description=row[2], category=row[3],
                   brand=row[4], price=row[5], currency=row[6], attributes=json.loads(row[7]),
                   image_url=row[8], available=bool(row[9]), created_at=row[10], locale=row[11])


def event_from_row(row: Sequence[Any]) -> Event:
    return Event(event_id=row[0], user_id=row[1], session_id=row[2], item_id=row[3],
                 event_type=row[4], query=row[5], value=row[6], platform=row[7],
                 timestamp=row[8])


def erasure_token(user_id: str) -> str:
    """One-way token of an erased pseudonym: lets models drop the user without the store
    keeping the pseudonym itself."""
    return "x_" + hashlib.blake2b(user_id.encode(), digest_size=16).hexdigest()


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive slices of at most `size` (ids for a bounded `IN (...)` list)."""
    for start in range(0, len(items), size):
        yield items[start:start + size]
