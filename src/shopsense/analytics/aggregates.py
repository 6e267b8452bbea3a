"""Which behaviour counts does the dashboard need, and what are they before noise?

Every aggregate is a histogram over (actor, key) rows read with SQL from the store's `events`
(and `products`) tables. The actor is the privacy unit: the user id when known, else the
session id. Each actor keeps at most `cap` rows (its earliest ones in the window) and adds at
most `per_key` to any one key, so the histogram's sensitivity is known before noise is added
(see `shopsense.privacy.dp.sensitivities`). Closed key domains (days, stages, the catalogue's
categories and brands, platforms) are listed in full, zeros included, because a missing key
would itself reveal something; open domains (query strings) are thresholded after noise.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shopsense.analytics.brands import brand_domain, brand_keys, brand_labels
from shopsense.domain import PLATFORMS

DAY = 86_400.0
ACTOR = "COALESCE(e.user_id, e.session_id)"
STAGES: tuple[str, ...] = ("view", "cart", "purchase")
_STAGE = "CASE e.event_type WHEN 'click' THEN 'view' ELSE e.event_type END"
# Portable SQL only (the PostgreSQL store runs the same text): days are integer day numbers
# (unix days, UTC) turned into ISO dates in Python; top categories are cut in Python.
_DAY = "CAST(FLOOR(e.timestamp / 86400) AS INTEGER)"
_QUERY = "lower(trim(e.query))"
CLICK_WINDOW_S = 1800  # a search counts as clicked if the session engages within 30 minutes
_ENGAGED = ("EXISTS (SELECT 1 FROM events c WHERE c.session_id = e.session_id AND c.event_type "
            "IN ('click', 'view', 'cart', 'purchase') AND c.timestamp >= e.timestamp AND "
            f"c.timestamp <= e.timestamp + {CLICK_WINDOW_S})")
SEP = "|"


@dataclass(frozen=True)
class Window:
    """[start, end) in unix seconds, whole UTC days."""

    start: float
    end: float

    @property
    def days(self) -> list[str]:
        out, t = [], self.start
        while t < self.end:
            out.append(time.strftime("%Y-%m-%d", time.gmtime(t)))
            t += DAY
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "days": len(self.days),
                "first_day": self.days[0] if self.days else None,
                "last_day": self.days[-1] if self.days else None}


def window_for(store: Any, days: int, end: float | None = None) -> Window:
    """The `days` whole UTC days up to `end` (default: the day of the newest event, never
    later than today: one future-dated event must not move the window past the data)."""
    if days < 1:
        raise ValueError(f"days must be >= 1, got {days}")
    if end is None:
        newest = store.execute("SELECT MAX(timestamp) FROM events WHERE timestamp <= ?",
                               (time.time(),))[0][0]
        end = float(newest) if newest is not None else time.time()
    stop = (int(end // DAY) + 1) * DAY
    return Window(stop - days * DAY, stop)


@dataclass(frozen=True)
class Spec:
    """One aggregate: its SQL rows, key domain and contribution bound per key."""

    name: str
    title_en: str
    title_zh: str
    sql: str  # selects (actor, k, t) from `events e` [join products p] within the window
    domain: Callable[[Any, Window], list[str]] | None  # None = open keys (thresholded)
    per_key: int = 1  # 1 when rows are distinct (actor, key) pairs
    weight: float = 1.0  # this aggregate's epsilon = the release's epsilon x weight
    cap_ceiling: int | None = None  # tighter cap than the release's, where it suits the key
    extra_params: tuple[Any, ...] = ()
    expand: Callable[[Any], Callable[[str], list[str]]] | None = None  # key -> keys, in Python
    dated: bool = False  # the key's first part is a unix day number, shown as an ISO date
    labels: Callable[[Any], dict[str, dict[str, str]]] | None = None  # key -> {zh, en} names

    def cap(self, per_user_cap: int) -> int:
        return min(per_user_cap, self.cap_ceiling or per_user_cap)


@dataclass
class Histogram:
    spec: Spec
    counts: dict[str, int] = field(default_factory=dict)


def bounded_counts(store: Any, spec: Spec, window: Window, cap: int) -> Histogram:
    """Exact counts per key after each actor is capped to `cap` rows.

    The rows kept are a pseudo-random sample of the actor's rows (ordered by a multiplicative
    hash of their time), so capping scales heavy shoppers down evenly instead of dropping
    their latest days, which would bend every time series downwards.
    """
    if cap < 1:
        raise ValueError(f"cap must be >= 1, got {cap}")
    sql = ("WITH pairs AS (" + spec.sql + "), ranked AS (SELECT k, ROW_NUMBER() OVER "
           "(PARTITION BY actor ORDER BY (CAST(t AS INTEGER) * 2654435761) % 4294967291, k) "
           "AS r FROM pairs WHERE actor IS NOT NULL "
           "AND k IS NOT NULL AND k != '') SELECT k, COUNT(*) FROM ranked WHERE r <= ? GROUP BY k")
    if spec.expand is not None:
        return _expanded_counts(store, spec, window, cap)
    rows = store.execute(sql, (window.start, window.end, *spec.extra_params, cap))
    counts = {str(k): int(n) for k, n in rows}
    return Histogram(spec, {_iso_key(k): n for k, n in counts.items()} if spec.dated else counts)


def _iso_key(key: str) -> str:
    """"20392|view" -> "2025-10-31|view" (unix day number to ISO date)."""
    day, sep, rest = key.partition(SEP)
    return time.strftime("%Y-%m-%d", time.gmtime(int(float(day)) * DAY)) + sep + rest


def top_category(path: str) -> str:
    return path.split(">", 1)[0].strip()


def _top_category_keys(store: Any) -> Callable[[str], list[str]]:
    """"家电 > 空调|cart" -> ["家电|cart"]; "家电 > 空调" -> ["家电"]."""
    def expand(value: str) -> list[str]:
        path, sep, rest = value.partition(SEP)
        top = top_category(path)
        return [top + sep + rest] if top else []

    return expand


def _expanded_counts(store: Any, spec: Spec, window: Window, cap: int) -> Histogram:
    """Rows whose key is a value to expand in Python (one query -> the terms it contains)."""
    assert spec.expand is not None
    expand = spec.expand(store)
    pairs: dict[str, dict[str, float]] = {}
    for actor, value, t in store.execute(spec.sql, (window.start, window.end)):
        if actor is None or value is None:
            continue
        mine = pairs.setdefault(actor, {})
        for key in expand(str(value)):
            mine[key] = min(mine.get(key, t), t)
    counts: dict[str, int] = {}
    for keys in pairs.values():
        ranked = sorted(keys.items(), key=lambda kv: ((int(kv[1]) * 2654435761) % 4294967291,
                                                     kv[0]))
        for key, _ in ranked[:cap]:
            counts[key] = counts.get(key, 0) + 1
    return Histogram(spec, counts)


def catalogue_terms(store: Any) -> list[str]:
    """Public vocabulary a query can be matched against: category names and brands (lower;
    at least two characters of CJK or three of anything else)."""
    terms: set[str] = set()
    for (path,) in store.execute("SELECT DISTINCT category FROM products"):
        terms.update(part.strip().lower() for part in str(path).split(">"))
    for (brand,) in store.execute("SELECT DISTINCT brand FROM products"):
        terms.add(str(brand).strip().lower())
    return sorted(t for t in terms if len(t) >= (2 if _has_cjk(t) else 3))


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _terms(store: Any, w: Window) -> list[str]:
    return catalogue_terms(store)


def term_matcher(store: Any) -> Callable[[str], list[str]]:
    """query -> the catalogue terms it contains (memoised per distinct query)."""
    terms = catalogue_terms(store)
    memo: dict[str, list[str]] = {}

    def match(query: str) -> list[str]:
        query = query.strip().lower()
        found = memo.get(query)
        if found is None:
            found = memo[query] = [t for t in terms if t in query]
        return found

    return match


def _in_window(types: str) -> str:
    return f"e.timestamp >= ? AND e.timestamp < ? AND e.event_type IN ({types})"


def _days_by_stage(store: Any, w: Window) -> list[str]:
    return [f"{d}{SEP}{s}" for d in w.days for s in STAGES]


def _days(store: Any, w: Window) -> list[str]:
    return w.days


def _new_returning(store: Any, w: Window) -> list[str]:
    return [f"{d}{SEP}{kind}" for d in w.days for kind in ("new", "returning")]


def top_categories(store: Any) -> list[str]:
    rows = store.execute("SELECT DISTINCT category FROM products")
    return sorted({top_category(str(r[0])) for r in rows if r[0]} - {""})


def _category_by_stage(store: Any, w: Window) -> list[str]:
    return [f"{c}{SEP}{s}" for c in top_categories(store) for s in STAGES]


def _categories(store: Any, w: Window) -> list[str]:
    return top_categories(store)


def _platforms(store: Any, w: Window) -> list[str]:
    return list(PLATFORMS)


def _search_outcomes(store: Any, w: Window) -> list[str]:
    return ["clicked", "abandoned"]


_ENGAGE_TYPES = "'view', 'click', 'cart', 'purchase'"
_WITH_ITEM = f"FROM events e JOIN products p ON p.item_id = e.item_id WHERE {_in_window(_ENGAGE_TYPES)}"

SPECS: tuple[Spec, ...] = (
    Spec("funnel_daily", "Funnel by day: shoppers who viewed, carted, bought",
         "每日转化漏斗：浏览、加购、购买的顾客数",
         f"SELECT {ACTOR} AS actor, {_DAY} || '{SEP}' || {_STAGE} AS k, MIN(e.timestamp) AS t "
         f"FROM events e WHERE {_in_window(_ENGAGE_TYPES)} GROUP BY actor, k",
         _days_by_stage, weight=2.0, dated=True),
    Spec("funnel_category", "Funnel by category", "分品类转化漏斗",
         f"SELECT {ACTOR} AS actor, p.category || '{SEP}' || {_STAGE} AS k, "
         f"MIN(e.timestamp) AS t {_WITH_ITEM} GROUP BY actor, k", _category_by_stage,
         expand=_top_category_keys),
    Spec("active_daily", "Active shoppers per day", "每日活跃顾客",
         f"SELECT {ACTOR} AS actor, {_DAY} AS k, MIN(e.timestamp) AS t FROM events e "
         "WHERE e.timestamp >= ? AND e.timestamp < ? GROUP BY actor, k", _days, dated=True),
    Spec("new_returning", "New vs returning shoppers per day", "每日新老顾客",
         f"SELECT {ACTOR} AS actor, {_DAY} || '{SEP}' || CASE WHEN "
         f"CAST(FLOOR(f.first_seen / 86400) AS INTEGER) = {_DAY} THEN 'new' ELSE 'returning' "
         "END AS k, MIN(e.timestamp) AS t FROM events e JOIN (SELECT COALESCE(user_id, "
         "session_id) AS a, MIN(timestamp) AS first_seen FROM events GROUP BY a) f "
         f"ON f.a = {ACTOR} WHERE e.timestamp >= ? AND e.timestamp < ? GROUP BY actor, k",
         _new_returning, dated=True),
    Spec("top_queries", "Top queries (shoppers searching)", "热门搜索词（搜索人数）",
         f"SELECT {ACTOR} AS actor, {_QUERY} AS k, MIN(e.timestamp) AS t FROM events e "
         f"WHERE {_in_window(chr(39) + 'search' + chr(39))} GROUP BY actor, k", None, cap_ceiling=2,
         weight=2.0),
    Spec("query_terms", "Searched catalogue terms (categories, brands)",
         "搜索词中的品类与品牌",
         f"SELECT {ACTOR} AS actor, e.query AS k, e.timestamp AS t FROM events e "
         f"WHERE {_in_window(chr(39) + 'search' + chr(39))}", _terms, expand=term_matcher),
    Spec("no_click_queries", "Queries with no click within 30 minutes",
         "搜索后 30 分钟内无点击的查询",
         f"SELECT {ACTOR} AS actor, {_QUERY} AS k, MIN(e.timestamp) AS t FROM events e "
         f"WHERE {_in_window(chr(39) + 'search' + chr(39))} AND NOT {_ENGAGED} "
         "GROUP BY actor, k", None, cap_ceiling=2),
    Spec("search_ctr", "Searches followed by a click (same session, 30 min)",
         "搜索后点击（同一会话，30 分钟内）",
         f"SELECT {ACTOR} AS actor, CASE WHEN {_ENGAGED} THEN 'clicked' ELSE 'abandoned' END "
         f"AS k, e.timestamp AS t FROM events e WHERE {_in_window(chr(39) + 'search' + chr(39))}",
         _search_outcomes, per_key=1_000_000),
    Spec("category_share", "Category share (shoppers engaging)", "品类占比（互动顾客数）",
         f"SELECT {ACTOR} AS actor, p.category AS k, MIN(e.timestamp) AS t {_WITH_ITEM} "
         "GROUP BY actor, k", _categories, expand=_top_category_keys),
    Spec("brand_share", "Brand share (shoppers engaging)", "品牌占比（互动顾客数）",
         f"SELECT {ACTOR} AS actor, p.brand AS k, MIN(e.timestamp) AS t {_WITH_ITEM} "
         "GROUP BY actor, k", brand_domain(), expand=brand_keys(), labels=brand_labels()),
    Spec("platform_split", "Platform split (shoppers)", "平台分布（顾客数）",
         f"SELECT {ACTOR} AS actor, e.platform AS k, MIN(e.timestamp) AS t FROM events e "
         "WHERE e.timestamp >= ? AND e.timestamp < ? GROUP BY actor, k", _platforms,
         weight=0.5, cap_ceiling=len(PLATFORMS)),
)
SPEC_BY_NAME: dict[str, Spec] = {s.name: s for s in SPECS}


def zero_result_spec(zero_result_queries: Collection[str]) -> Spec:
    """Searches whose query the search engine logged as returning nothing.

    Whether a query returns nothing depends on the catalogue and the engine, not on who typed
    it, so the logged set is used as a public predicate; the counts are still per shopper,
    capped, noised and thresholded like every open-key aggregate.
    """
    wanted = frozenset(q.strip().lower() for q in zero_result_queries)

    def matcher(store: Any) -> Callable[[str], list[str]]:
        return lambda query: [q] if (q := query.strip().lower()) in wanted else []

    return Spec("zero_result_queries", "Queries that returned no results",
                "无结果的搜索词",
                f"SELECT {ACTOR} AS actor, e.query AS k, e.timestamp AS t FROM events e "
                f"WHERE {_in_window(chr(39) + 'search' + chr(39))}", None, cap_ceiling=2,
                expand=matcher)


def read_zero_result_log(path: Path, limit: int = 100_000) -> set[str]:
    """Distinct lower-cased queries of the search engine's zero-result log (JSON lines)."""
    found: set[str] = set()
    if not path.is_file():
        return found
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            if n >= limit:
                break
            try:
                query = json.loads(line).get("query")
            except (ValueError, AttributeError):
                continue
            if isinstance(query, str) and query.strip():
                found.add(query.strip().lower())
    return found


def exact_histograms(store: Any, window: Window, per_user_cap: int,
                     specs: tuple[Spec, ...] = SPECS) -> list[Histogram]:
    """All aggregates, capped but without noise (never shown; the input of a DP release)."""
    return [bounded_counts(store, spec, window, spec.cap(per_user_cap)) for spec in specs]
