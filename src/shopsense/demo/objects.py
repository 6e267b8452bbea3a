"""The demo shop as domain objects (Product, Event, Judgment), for tests that need no files.

Timestamps become unix seconds; user and session ids stay raw (not pseudonymised).
"""

from __future__ import annotations

from datetime import UTC, datetime

from shopsense.demo.catalog import build_catalogue
from shopsense.demo.generate import simulate
from shopsense.demo.queries import demo_judgments, demo_queries
from shopsense.domain import Event, Judgment, Product


def _unix(iso_text: str) -> float:
    return datetime.strptime(iso_text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


def demo_products(seed: int = 7, n_products: int = 3200) -> list[Product]:
    """The demo catalogue as `Product`s, in item_id order."""
    return [Product(**{**item.record, "created_at": _unix(item.record["created_at"])})
            for item in build_catalogue(seed, n_products)]


def demo_events(seed: int = 7, n_products: int = 3200, n_users: int = 1200,
                days: int = 60) -> list[Event]:
    """The demo events as `Event`s, oldest first."""
    rows = simulate(build_catalogue(seed, n_products), seed, n_users, days)
    return [Event(**{**row, "timestamp": _unix(row["timestamp"])}) for row in rows]


def demo_search_judgments(seed: int = 7, n_products: int = 3200) -> list[Judgment]:
    """Graded judgments of the demo queries (2 = meets every constraint, 1 = right category)."""
    rows = demo_judgments(demo_queries(), build_catalogue(seed, n_products))
    return [Judgment(query_id=r["query_id"], query=r["query"], item_id=r["item_id"],
                     relevance=float(r["relevance"])) for r in rows]
