"""Point-in-time shopper features: what has this shopper been doing up to a cutoff?

Every function here reads only events strictly before `cutoff` (a prefix of the time-sorted
`EventFrame`), so a feature row computed "as of t" never sees the future it is used to
predict. Counts and spans are log1p-transformed (`views_7d` = log1p(views in the last 7 days));
day spans are capped at `CAP_DAYS` (a shopper who never bought has `days_since_purchase` =
log1p(365)). Returned matrices are (len(codes), n_features) float64, rows in `codes` order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from shopsense.domain import Event, Product
from shopsense.features.frame import DAY, PLATFORM_CODE, TYPE_CODE, EventFrame

CAP_DAYS = 365.0
GENERAL_FEATURES: tuple[str, ...] = (
    "recency_days", "tenure_days", "days_since_purchase", "has_purchased",
    "views_1d", "views_7d", "views_30d", "carts_1d", "carts_7d", "carts_30d",
    "purchases_7d", "purchases_30d", "purchases_all", "searches_7d", "searches_30d",
    "dismisses_30d", "spend_30d", "spend_all", "avg_order_value",
    "cart_abandon_rate_30d", "open_carts_7d", "days_since_cart",
    "sessions_7d", "sessions_30d", "active_days_30d", "events_per_session_30d",
    "distinct_items_7d", "distinct_categories_30d",
    "share_app_30d", "share_mini_program_30d", "share_web_30d", "view_trend",
)
CATEGORY_FEATURES: tuple[str, ...] = (
    "cat_views_7d", "cat_views_30d", "cat_carts_30d", "cat_purchases_all",
    "cat_open_carts_30d", "cat_share_30d", "cat_days_since", "cat_days_since_purchase",
    "cat_popularity_30d",
)
VIEW, CLICK, SEARCH = TYPE_CODE["view"], TYPE_CODE["click"], TYPE_CODE["search"]
CART, PURCHASE, DISMISS = TYPE_CODE["cart"], TYPE_CODE["purchase"], TYPE_CODE["dismiss"]


class _Prefix:
    """The events before one cutoff, with per-actor counting helpers."""

    def __init__(self, frame: EventFrame, cutoff: float, codes: np.ndarray) -> None:
        n = frame.before(cutoff)
        self.frame, self.cutoff = frame, cutoff
        self.slots = frame.n_actors + 1  # last slot collects unknown shoppers (code -1)
        self.rows = np.where(codes >= 0, codes, self.slots - 1)
        self.actor, self.ts = frame.actor[:n], frame.ts[:n]
        self.etype, self.item = frame.etype[:n], frame.item[:n]
        self.age = (cutoff - self.ts) / DAY
        self.is_view = (self.etype == VIEW) | (self.etype == CLICK)

    def within(self, days: float) -> np.ndarray:
        return self.age < days

    def count(self, mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        w = None if weights is None else weights[mask]
        return np.bincount(self.actor[mask], weights=w, minlength=self.slots)[self.rows]

    def distinct(self, mask: np.ndarray, other: np.ndarray) -> np.ndarray:
        span = int(other.max()) + 2 if other.size else 1
        keys = np.unique(self.actor[mask] * span + other[mask] + 1)
        return np.bincount(keys // span, minlength=self.slots)[self.rows].astype(np.float64)

    def days_since(self, mask: np.ndarray, *, first: bool = False) -> np.ndarray:
        """Days since the last (or first) masked event; CAP_DAYS when there is none."""
        out = np.full(self.slots, -np.inf if not first else np.inf)
        (np.minimum if first else np.maximum).at(out, self.actor[mask], self.ts[mask])
        days = (self.cutoff - out[self.rows]) / DAY
        return np.clip(np.nan_to_num(days, nan=CAP_DAYS, posinf=CAP_DAYS, neginf=CAP_DAYS),
                       0.0, CAP_DAYS)

    def abandoned(self, cart_mask: np.ndarray) -> np.ndarray:
        """(n_prefix,) bool: masked carts whose (actor, item) was not bought at or after them."""
        out = np.zeros(self.ts.size, dtype=bool)
        buy = (self.etype == PURCHASE) & (self.item >= 0)
        n_items = len(self.frame.items) + 1
        last_buy = pd.Series(self.ts[buy]).groupby(self.actor[buy] * n_items + self.item[buy]).max()
        carts = np.flatnonzero(cart_mask & (self.item >= 0))
        keys = self.actor[carts] * n_items + self.item[carts]
        bought_after = last_buy.reindex(keys).to_numpy() >= self.ts[carts]
        out[carts] = ~bought_after
        return out


def general_features(frame: EventFrame, cutoff: float, codes: np.ndarray) -> np.ndarray:
    """(len(codes), len(GENERAL_FEATURES)) features as of `cutoff` (codes from `frame.codes`)."""
    p = _Prefix(frame, cutoff, codes)
    d1, d7, d30 = p.within(1), p.within(7), p.within(30)
    buy, cart = p.etype == PURCHASE, p.etype == CART
    log = np.log1p
    views7, views30 = p.count(p.is_view & d7), p.count(p.is_view & d30)
    carts30, buys_all = p.count(cart & d30), p.count(buy)
    spend_all = p.count(buy, p.frame.amount[: p.ts.size])
    abandoned = p.abandoned(cart & d30)
    sessions30 = p.distinct(d30 & (p.frame.session[: p.ts.size] >= 0), p.frame.session[: p.ts.size])
    events30 = p.count(d30)
    platform = p.frame.platform[: p.ts.size]
    top_cat = _top_category_codes(frame)[np.maximum(p.item, 0)]
    cols = [
        log(p.days_since(np.ones(p.ts.size, dtype=bool))),
        log(p.days_since(np.ones(p.ts.size, dtype=bool), first=True)),
        log(p.days_since(buy)), (buys_all > 0).astype(np.float64),
        log(p.count(p.is_view & d1)), log(views7), log(views30),
        log(p.count(cart & d1)), log(p.count(cart & d7)), log(carts30),
        log(p.count(buy & d7)), log(p.count(buy & d30)), log(buys_all),
        log(p.count((p.etype == SEARCH) & d7)), log(p.count((p.etype == SEARCH) & d30)),
        log(p.count((p.etype == DISMISS) & d30)),
        log(p.count(buy & d30, p.frame.amount[: p.ts.size])), log(spend_all),
        log(spend_all / np.maximum(buys_all, 1.0)),
        p.count(abandoned) / np.maximum(carts30, 1.0),
        log(p.distinct(abandoned & d7, p.item)), log(p.days_since(cart)),
        log(p.distinct(d7 & (p.frame.session[: p.ts.size] >= 0), p.frame.session[: p.ts.size])),
        log(sessions30), log(p.distinct(d30, np.floor(p.ts / DAY).astype(np.int64))),
        log(events30 / np.maximum(sessions30, 1.0)),
        log(p.distinct(d7 & (p.item >= 0), p.item)),
        log(p.distinct(d30 & (p.item >= 0) & (top_cat >= 0), top_cat)),
    ]
    for name in ("app", "mini_program", "web"):
        cols.append(p.count(d30 & (platform == PLATFORM_CODE[name])) / np.maximum(events30, 1.0))
    cols.append(log(views7) - log(views30 * 7.0 / 30.0))
    return np.column_stack(cols).astype(np.float64)


def category_popularity(frame: EventFrame, cutoff: float, item_mask: np.ndarray) -> float:
    """log((purchases in the category in the last 30 days + 1) / (all purchases + 2))."""
    window = frame.window(cutoff - 30 * DAY, cutoff)
    item = frame.item[window]
    buy = (frame.etype[window] == PURCHASE) & (item >= 0)
    in_cat = float(np.count_nonzero(item_mask[item[buy]]))
    return float(np.log((in_cat + 1.0) / (np.count_nonzero(buy) + 2.0)))


def category_features(frame: EventFrame, cutoff: float, codes: np.ndarray, category: str,
                      item_mask: np.ndarray | None = None,
                      popularity: float | None = None) -> np.ndarray:
    """(len(codes), len(CATEGORY_FEATURES)): the shopper's activity in `category` (and under
    it) as of `cutoff`, plus the category's recent share of all purchases (`popularity`,
    computed on `frame` unless given - pass it when `frame` is restricted to a few shoppers)."""
    p = _Prefix(frame, cutoff, codes)
    mask = frame.category_item_mask(category) if item_mask is None else item_mask
    in_cat = (p.item >= 0) & mask[np.maximum(p.item, 0)]
    d7, d30 = p.within(7), p.within(30)
    buy, cart = p.etype == PURCHASE, p.etype == CART
    log = np.log1p
    item_events30 = p.count(d30 & (p.item >= 0))
    if popularity is None:
        popularity = category_popularity(frame, cutoff, mask)
    cols = [
        log(p.count(p.is_view & d7 & in_cat)), log(p.count(p.is_view & d30 & in_cat)),
        log(p.count(cart & d30 & in_cat)), log(p.count(buy & in_cat)),
        log(p.distinct(p.abandoned(cart & d30 & in_cat), p.item)),
        p.count(d30 & in_cat) / np.maximum(item_events30, 1.0),
        log(p.days_since(in_cat)), log(p.days_since(in_cat & buy)),
        np.full(codes.size, popularity),
    ]
    return np.column_stack(cols).astype(np.float64)


def purchase_labels(frame: EventFrame, start: float, stop: float, codes: np.ndarray,
                    item_mask: np.ndarray | None = None) -> np.ndarray:
    """(len(codes),) bool: bought anything (or anything in `item_mask`) in [start, stop)."""
    window = frame.window(start, stop)
    buy = frame.etype[window] == PURCHASE
    if item_mask is not None:
        item = frame.item[window]
        buy &= (item >= 0) & item_mask[np.maximum(item, 0)]
    hits = np.bincount(frame.actor[window][buy], minlength=frame.n_actors + 1)
    return hits[np.where(codes >= 0, codes, frame.n_actors)] > 0


def active_codes(frame: EventFrame, cutoff: float, lookback_days: float) -> np.ndarray:
    """Codes of shoppers with at least one event in [cutoff - lookback, cutoff), ascending."""
    return np.unique(frame.actor[frame.window(cutoff - lookback_days * DAY, cutoff)])


def features_as_of(events: Iterable[Event], products: Mapping[str, Product], cutoff: float,
                   user_ids: Iterable[str] | None = None) -> pd.DataFrame:
    """Convenience: general behaviour features as a DataFrame indexed by shopper id."""
    frame = EventFrame.build(events, products)
    ids = list(user_ids) if user_ids is not None else frame.actors
    matrix = general_features(frame, cutoff, frame.codes(ids))
    return pd.DataFrame(matrix, index=pd.Index(ids, name="user_id"), columns=list(GENERAL_FEATURES))


def _top_category_codes(frame: EventFrame) -> np.ndarray:
    """(n_items,) int64 code of each item's top-level category, -1 when unknown."""
    tops: dict[str, int] = {}
    out = [tops.setdefault(c.split(" > ")[0], len(tops)) if c else -1 for c in frame.item_category]
    return np.asarray(out if out else [-1], dtype=np.int64)
