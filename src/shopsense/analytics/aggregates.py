"""Which behaviour counts does the dashboard need, and what are they before noise?

Every aggregate is a histogram over (actor, key) rows that a named query of the store's
behaviour repository (store/behaviour.py) reads from `events` (and `products`). The actor is the privacy unit: the user id when known, else the
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
from shopsense.store.base import Store
from shopsense.store.behaviour import ACTOR, CLICK_WINDOW_S, SEP, StoreBehaviour

__all__ = ["ACTOR", "CLICK_WINDOW_S", "DAY", "SEP", "SPECS", "SPEC_BY_NAME", "STAGES",
           "Histogram", "Spec", "Window", "bounded_counts", "catalogue_terms",
           "exact_histograms", "read_zero_result_log", "term_matcher", "top_categories",
           "top_category", "window_for", "zero_result_spec"]

DAY = 86_400.0
STAGES: tuple[str, ...] = ("view", "cart", "purchase")


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


def window_for(store: Store, days: int, end: float | None = None) -> Window:
    """The `days` whole UTC days up to `end` (default: the day of the newest event, never
    later than today: one future-dated event must not move the window past the data)."""
    if days < 1:
        raise ValueError(f"days must be >= 1, got {days}")
    if end is None:
        newest = StoreBehaviour(store).newest_event_time(time.time())
        end = newest if newest is not None else time.time()
    stop = (int(end // DAY) + 1) * DAY
    return Window(stop - days * DAY, stop)


@dataclass(frozen=True)
class Spec:
    """One aggregate: its rows, key domain and contribution bound per key."""

    name: str
    title_en: str
    title_zh: str
    rows: str  # the store's row query (store.behaviour.ROW_QUERIES): (actor, k, t) in the window
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


def bounded_counts(store: Store, spec: Spec, window: Window, cap: int) -> Histogram:
    """Exact counts per key after each actor is capped to `cap` rows.

    The rows kept are a pseudo-random sample of the actor's rows (ordered by a multiplicative
    hash of their time), so capping scales heavy shoppers down evenly instead of dropping
    their latest days, which would bend every time series downwards.
    """
    if cap < 1:
        raise ValueError(f"cap must be >= 1, got {cap}")
    if spec.expand is not None:
        return _expanded_counts(store, spec, window, cap)
    rows = StoreBehaviour(store).capped_counts(spec.rows, window.start, window.end, cap,
                                               spec.extra_params)
    counts = {str(k): int(n) for k, n in rows}
    return Histogram(spec, {_iso_key(k): n for k, n in counts.items()} if spec.dated else counts)


def _iso_key(key: str) -> str:
    """"20392|view" -> "2025-10-31|view" (unix day number to ISO date)."""
    day, sep, rest = key.partition(SEP)
    return time.strftime("%Y-%m-%d", time.gmtime(int(float(day)) * DAY)) + sep + rest


def top_category(path: str) -> str:
    return path.split(">", 1)[0].strip()


def _top_category_keys(store: Store) -> Callable[[str], list[str]]:
    """"家电 > 空调|cart" -> ["家电|cart"]; "家电 > 空调" -> ["家电"]."""
    def expand(value: str) -> list[str]:
        path, sep, rest = value.partition(SEP)
        top = top_category(path)
        return [top + sep + rest] if top else []

    return expand


def _expanded_counts(store: Store, spec: Spec, window: Window, cap: int) -> Histogram:
    """Rows whose key is a value to expand in Python (one query -> the terms it contains)."""
    assert spec.expand is not None
    expand = spec.expand(store)
    pairs: dict[str, dict[str, float]] = {}
    for actor, value, t in StoreBehaviour(store).rows(spec.rows, window.start, window.end):
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


def catalogue_terms(store: Store) -> list[str]:
    """Public vocabulary a query can be matched against: category names and brands (lower;
    at least two characters of CJK or three of anything else)."""
    terms: set[str] = set()
    catalogue = StoreBehaviour(store)
    for path in catalogue.categories():
        terms.update(part.strip().lower() for part in str(path).split(">"))
    for brand in catalogue.brands():
        terms.add(str(brand).strip().lower())
    return sorted(t for t in terms if len(t) >= (2 if _has_cjk(t) else 3))


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _terms(store: Store, w: Window) -> list[str]:
    return catalogue_terms(store)


def term_matcher(store: Store) -> Callable[[str], list[str]]:
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


def _days_by_stage(store: Store, w: Window) -> list[str]:
    return [f"{d}{SEP}{s}" for d in w.days for s in STAGES]


def _days(store: Store, w: Window) -> list[str]:
    return w.days


def _new_returning(store: Store, w: Window) -> list[str]:
    return [f"{d}{SEP}{kind}" for d in w.days for kind in ("new", "returning")]


def top_categories(store: Store) -> list[str]:
    paths = StoreBehaviour(store).categories()
    return sorted({top_category(str(p)) for p in paths if p} - {""})


def _category_by_stage(store: Store, w: Window) -> list[str]:
    return [f"{c}{SEP}{s}" for c in top_categories(store) for s in STAGES]


def _categories(store: Store, w: Window) -> list[str]:
    return top_categories(store)


def _platforms(store: Store, w: Window) -> list[str]:
    return list(PLATFORMS)


def _search_outcomes(store: Store, w: Window) -> list[str]:
    return ["clicked", "abandoned"]


SPECS: tuple[Spec, ...] = (
    Spec("funnel_daily", "Funnel by day: shoppers who viewed, carted, bought",
         "每日转化漏斗：浏览、加购、购买的顾客数", "funnel_daily", _days_by_stage, weight=2.0,
         dated=True),
    Spec("funnel_category", "Funnel by category", "分品类转化漏斗", "funnel_category",
         _category_by_stage, expand=_top_category_keys),
    Spec("active_daily", "Active shoppers per day", "每日活跃顾客", "active_daily", _days,
         dated=True),
    Spec("new_returning", "New vs returning shoppers per day", "每日新老顾客", "new_returning",
         _new_returning, dated=True),
    Spec("top_queries", "Top queries (shoppers searching)", "热门搜索词（搜索人数）",
         "top_queries", None, cap_ceiling=2, weight=2.0),
    Spec("query_terms", "Searched catalogue terms (categories, brands)",
         "搜索词中的品类与品牌", "searches", _terms, expand=term_matcher),
    Spec("no_click_queries", "Queries with no click within 30 minutes",
         "搜索后 30 分钟内无点击的查询", "no_click_queries", None, cap_ceiling=2),
    Spec("search_ctr", "Searches followed by a click (same session, 30 min)",
         "搜索后点击（同一会话，30 分钟内）", "search_ctr", _search_outcomes, per_key=1_000_000),
    Spec("category_share", "Category share (shoppers engaging)", "品类占比（互动顾客数）",
         "category_share", _categories, expand=_top_category_keys),
    Spec("brand_share", "Brand share (shoppers engaging)", "品牌占比（互动顾客数）",
         "brand_share", brand_domain(), expand=brand_keys(), labels=brand_labels()),
    Spec("platform_split", "Platform split (shoppers)", "平台分布（顾客数）", "platform_split",
         _platforms, weight=0.5, cap_ceiling=len(PLATFORMS)),
)
SPEC_BY_NAME: dict[str, Spec] = {s.name: s for s in SPECS}


def zero_result_spec(zero_result_queries: Collection[str]) -> Spec:
    """Searches whose query the search engine logged as returning nothing.

    Whether a query returns nothing depends on the catalogue and the engine, not on who typed
    it, so the logged set is used as a public predicate; the counts are still per shopper,
    capped, noised and thresholded like every open-key aggregate.
    """
    wanted = frozenset(q.strip().lower() for q in zero_result_queries)

    def matcher(store: Store) -> Callable[[str], list[str]]:
        return lambda query: [q] if (q := query.strip().lower()) in wanted else []

    return Spec("zero_result_queries", "Queries that returned no results",
                "无结果的搜索词", "searches", None, cap_ceiling=2, expand=matcher)


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


def exact_histograms(store: Store, window: Window, per_user_cap: int,
                     specs: tuple[Spec, ...] = SPECS) -> list[Histogram]:
    """All aggregates, capped but without noise (never shown; the input of a DP release)."""
    return [bounded_counts(store, spec, window, spec.cap(per_user_cap)) for spec in specs]
