"""Behaviour reads for the dashboard's aggregates (analytics.aggregates): every aggregate is a
named query selecting (actor, k, t) rows from `events e` (joined with `products p`, or the
storefront's `web_impressions i`) in a window [start, end), and the counts per key after each
actor is capped.

Portable SQL only (the PostgreSQL store runs the same text): days are integer day numbers
(unix days, UTC) turned into ISO dates in Python; top categories are cut in Python.
`BehaviourRepository` is the protocol; `StoreBehaviour` implements it over either backend.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from shopsense.store.base import SqlStore

SEP = "|"
ACTOR = "COALESCE(e.user_id, e.session_id)"
CLICK_WINDOW_S = 1800  # a search counts as clicked if the session engages within 30 minutes
WEB_IMPRESSIONS = "web_impressions"
_STAGE = "CASE e.event_type WHEN 'click' THEN 'view' ELSE e.event_type END"
_DAY = "CAST(FLOOR(e.timestamp / 86400) AS INTEGER)"
_QUERY = "lower(trim(e.query))"
_ENGAGED = ("EXISTS (SELECT 1 FROM events c WHERE c.session_id = e.session_id AND c.event_type "
            "IN ('click', 'view', 'cart', 'purchase') AND c.timestamp >= e.timestamp AND "
            f"c.timestamp <= e.timestamp + {CLICK_WINDOW_S})")
_ENGAGE_TYPES = "'view', 'click', 'cart', 'purchase'"


def _in_window(types: str) -> str:
    return f"e.timestamp >= ? AND e.timestamp < ? AND e.event_type IN ({types})"


_SEARCHES = _in_window("'search'")
_WITH_ITEM = (f"FROM events e JOIN products p ON p.item_id = e.item_id "
              f"WHERE {_in_window(_ENGAGE_TYPES)}")
_HIT = ("CASE WHEN EXISTS (SELECT 1 FROM events c WHERE c.session_id = i.session_id AND "
        "c.item_id = i.item_id AND c.event_type IN ('click', 'view', 'cart') AND "
        f"c.timestamp >= i.timestamp AND c.timestamp <= i.timestamp + {CLICK_WINDOW_S}) "
        "THEN 1 ELSE 0 END")

# name -> SQL selecting (actor, k, t); its first two parameters are the window's start and end
ROW_QUERIES: dict[str, str] = {
    "funnel_daily":
        f"SELECT {ACTOR} AS actor, {_DAY} || '{SEP}' || {_STAGE} AS k, MIN(e.timestamp) AS t "
        f"FROM events e WHERE {_in_window(_ENGAGE_TYPES)} GROUP BY actor, k",
    "funnel_category":
        f"SELECT {ACTOR} AS actor, p.category || '{SEP}' || {_STAGE} AS k, "
        f"MIN(e.timestamp) AS t {_WITH_ITEM} GROUP BY actor, k",
    "active_daily":
        f"SELECT {ACTOR} AS actor, {_DAY} AS k, MIN(e.timestamp) AS t FROM events e "
        "WHERE e.timestamp >= ? AND e.timestamp < ? GROUP BY actor, k",
    "new_returning":
        f"SELECT {ACTOR} AS actor, {_DAY} || '{SEP}' || CASE WHEN "
        f"CAST(FLOOR(f.first_seen / 86400) AS INTEGER) = {_DAY} THEN 'new' ELSE 'returning' "
        "END AS k, MIN(e.timestamp) AS t FROM events e JOIN (SELECT COALESCE(user_id, "
        "session_id) AS a, MIN(timestamp) AS first_seen FROM events GROUP BY a) f "
        f"ON f.a = {ACTOR} WHERE e.timestamp >= ? AND e.timestamp < ? GROUP BY actor, k",
    "top_queries":
        f"SELECT {ACTOR} AS actor, {_QUERY} AS k, MIN(e.timestamp) AS t FROM events e "
        f"WHERE {_SEARCHES} GROUP BY actor, k",
    "searches":  # every search with its raw query (keys expanded in Python)
        f"SELECT {ACTOR} AS actor, e.query AS k, e.timestamp AS t FROM events e "
        f"WHERE {_SEARCHES}",
    "no_click_queries":
        f"SELECT {ACTOR} AS actor, {_QUERY} AS k, MIN(e.timestamp) AS t FROM events e "
        f"WHERE {_SEARCHES} AND NOT {_ENGAGED} GROUP BY actor, k",
    "search_ctr":
        f"SELECT {ACTOR} AS actor, CASE WHEN {_ENGAGED} THEN 'clicked' ELSE 'abandoned' END "
        f"AS k, e.timestamp AS t FROM events e WHERE {_SEARCHES}",
    "category_share":
        f"SELECT {ACTOR} AS actor, p.category AS k, MIN(e.timestamp) AS t {_WITH_ITEM} "
        "GROUP BY actor, k",
    "brand_share":
        f"SELECT {ACTOR} AS actor, p.brand AS k, MIN(e.timestamp) AS t {_WITH_ITEM} "
        "GROUP BY actor, k",
    "platform_split":
        f"SELECT {ACTOR} AS actor, e.platform AS k, MIN(e.timestamp) AS t FROM events e "
        "WHERE e.timestamp >= ? AND e.timestamp < ? GROUP BY actor, k",
    "surface_ctr":  # lists the storefront showed, clicked by the session within 30 minutes
        f"SELECT actor, surface || '{SEP}' || CASE WHEN MAX(hit) = 1 THEN 'clicked' ELSE "
        "'not_clicked' END AS k, MIN(ts) AS t FROM (SELECT i.impression_id AS imp, "
        f"{ACTOR.replace('e.', 'i.')} AS actor, i.surface AS surface, i.timestamp AS ts, "
        f"{_HIT} AS hit FROM {WEB_IMPRESSIONS} i WHERE i.timestamp >= ? AND i.timestamp < ?) x "
        "GROUP BY imp, actor, surface",
}


class BehaviourRepository(Protocol):
    def newest_event_time(self, not_after: float) -> float | None:
        """The newest event timestamp at or before `not_after` (None: no events)."""
        ...

    def capped_counts(self, query: str, start: float, end: float, cap: int,
                      extra_params: Sequence[Any] = ()) -> list[tuple[Any, int]]:
        """(key, actors) of the named row query in [start, end), each actor keeping at most
        `cap` rows: a pseudo-random sample ordered by a multiplicative hash of their time."""
        ...

    def rows(self, query: str, start: float, end: float) -> Iterator[tuple[Any, Any, Any]]:
        """(actor, k, t) rows of the named row query in [start, end)."""
        ...

    def categories(self) -> list[str]:
        """Distinct category paths of the catalogue ('' included when a product has none)."""
        ...

    def brands(self) -> list[str]:
        """Distinct non-empty brands of the catalogue, sorted."""
        ...


class StoreBehaviour:
    """`BehaviourRepository` over a SQLite or PostgreSQL store."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store

    def newest_event_time(self, not_after: float) -> float | None:
        newest = self.store.execute("SELECT MAX(timestamp) FROM events WHERE timestamp <= ?",
                                    (not_after,))[0][0]
        return float(newest) if newest is not None else None

    def capped_counts(self, query: str, start: float, end: float, cap: int,
                      extra_params: Sequence[Any] = ()) -> list[tuple[Any, int]]:
        # CAST(k AS TEXT): day numbers are integers, and PostgreSQL refuses `integer != ''`
        sql = ("WITH pairs AS (" + ROW_QUERIES[query] + "), ranked AS (SELECT k, ROW_NUMBER() "
               "OVER (PARTITION BY actor ORDER BY (CAST(t AS INTEGER) * 2654435761) "
               "% 4294967291, k) AS r FROM pairs WHERE actor IS NOT NULL AND k IS NOT NULL "
               "AND CAST(k AS TEXT) != '') SELECT k, COUNT(*) FROM ranked WHERE r <= ? "
               "GROUP BY k")
        rows = self.store.execute(sql, (start, end, *extra_params, cap))
        return [(k, int(n)) for k, n in rows]

    def rows(self, query: str, start: float, end: float) -> Iterator[tuple[Any, Any, Any]]:
        yield from self.store.execute(ROW_QUERIES[query], (start, end))

    def categories(self) -> list[str]:
        return [r[0] for r in self.store.execute("SELECT DISTINCT category FROM products")]

    def brands(self) -> list[str]:
        return sorted(r[0] for r in self.store.execute(
            "SELECT DISTINCT brand FROM products WHERE brand != ''"))


__all__ = ["ACTOR", "CLICK_WINDOW_S", "ROW_QUERIES", "SEP", "BehaviourRepository",
           "StoreBehaviour"]
