"""A columnar, time-sorted copy of the event stream: the one input every behaviour feature
and every propensity label is computed from.

Arrays are aligned per event (shape (n_events,)); actors (user, else session) and items are
dense indices into `actors` / `items`. Events are sorted by timestamp, so "everything before a
cutoff" is a prefix found with `np.searchsorted`, which is what keeps features leak-free.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from shopsense.domain import EVENT_TYPES, PLATFORMS, Event, Product, split_category

DAY = 86_400.0
TYPE_CODE: dict[str, int] = {name: i for i, name in enumerate(EVENT_TYPES)}
PLATFORM_CODE: dict[str, int] = {name: i for i, name in enumerate(PLATFORMS)}
MAX_QUANTITY = 100.0


@lru_cache(maxsize=65_536)
def normalise_category(path: str) -> str:
    """`'家电>空调 '` -> `'家电 > 空调'` (the form every category comparison uses)."""
    return " > ".join(split_category(path))


def category_prefixes(path: str, max_level: int | None = None) -> list[str]:
    """`'a > b > c'` -> `['a', 'a > b', 'a > b > c']` (cut at `max_level` levels)."""
    parts = split_category(path)
    top = len(parts) if max_level is None else min(len(parts), max_level)
    return [" > ".join(parts[: i + 1]) for i in range(top)]


@dataclass(slots=True)
class EventFrame:
    """Columnar events, sorted by time. Build with `EventFrame.build(events, products)`."""

    actors: list[str]
    actor_index: dict[str, int]
    items: list[str]
    item_index: dict[str, int]
    item_category: list[str]  # normalised category path per item ("" when unknown)
    item_brand: list[str]
    item_price: np.ndarray  # (n_items,) float64, nan when unknown
    actor: np.ndarray  # (n,) int64
    ts: np.ndarray  # (n,) float64 unix seconds, ascending
    etype: np.ndarray  # (n,) int8 index into EVENT_TYPES
    item: np.ndarray  # (n,) int64, -1 when the event has no item
    session: np.ndarray  # (n,) int64, -1 when unknown
    platform: np.ndarray  # (n,) int8 index into PLATFORMS
    amount: np.ndarray  # (n,) float64 money spent (purchases only, else 0)

    @classmethod
    def build(cls, events: Iterable[Event], products: Mapping[str, Product]) -> EventFrame:
        """Columnise `events` (any order); events with no actor are skipped."""
        actors: dict[str, int] = {}
        items: dict[str, int] = {}
        sessions: dict[str, int] = {}
        cols: dict[str, list[float]] = {k: [] for k in
                                        ("actor", "ts", "etype", "item", "session", "platform", "value")}
        for e in events:
            who = e.actor
            if not who or e.event_type not in TYPE_CODE:
                continue
            cols["actor"].append(actors.setdefault(who, len(actors)))
            cols["ts"].append(float(e.timestamp))
            cols["etype"].append(TYPE_CODE[e.event_type])
            cols["item"].append(items.setdefault(e.item_id, len(items)) if e.item_id else -1)
            cols["session"].append(sessions.setdefault(e.session_id, len(sessions))
                                   if e.session_id else -1)
            cols["platform"].append(PLATFORM_CODE.get(e.platform, PLATFORM_CODE["other"]))
            cols["value"].append(np.nan if e.value is None else float(e.value))
        item_ids = list(items)
        prods = [products.get(i) for i in item_ids]
        price = np.array([p.price if p is not None and p.price is not None else np.nan
                          for p in prods], dtype=np.float64)
        order = np.argsort(np.asarray(cols["ts"], dtype=np.float64), kind="stable")
        arr = {k: np.asarray(v)[order] if v else np.zeros(0) for k, v in cols.items()}
        item = arr["item"].astype(np.int64)
        etype = arr["etype"].astype(np.int8)
        return cls(
            actors=list(actors), actor_index=actors, items=item_ids, item_index=items,
            item_category=[normalise_category(p.category) if p is not None else "" for p in prods],
            item_brand=[p.brand if p is not None else "" for p in prods],
            item_price=price, actor=arr["actor"].astype(np.int64),
            ts=arr["ts"].astype(np.float64), etype=etype, item=item,
            session=arr["session"].astype(np.int64), platform=arr["platform"].astype(np.int8),
            amount=_purchase_amount(etype, item, arr["value"].astype(np.float64), price),
        )

    @property
    def n_actors(self) -> int:
        return len(self.actors)

    @property
    def n_events(self) -> int:
        return int(self.ts.size)

    @property
    def end(self) -> float:
        """One second after the last event (the natural "now" of this history)."""
        return float(self.ts[-1]) + 1.0 if self.ts.size else 0.0

    def before(self, cutoff: float) -> int:
        """Number of events strictly before `cutoff` (they are the prefix `[:n]`)."""
        return int(np.searchsorted(self.ts, cutoff, side="left"))

    def window(self, start: float, stop: float) -> slice:
        """Events with `start <= ts < stop`."""
        return slice(self.before(start), self.before(stop))

    def category_item_mask(self, category: str) -> np.ndarray:
        """(n_items,) bool: items whose category is `category` or lies under it."""
        want = normalise_category(category)
        prefix = want + " > "
        return np.array([c == want or c.startswith(prefix) for c in self.item_category],
                        dtype=bool)

    def restrict(self, codes: np.ndarray) -> EventFrame:
        """The same frame (same actor and item indices) holding only these actors' events;
        per-shopper features on it equal those on the whole frame."""
        keep = np.isin(self.actor, codes[codes >= 0])
        return replace(self, actor=self.actor[keep], ts=self.ts[keep], etype=self.etype[keep],
                       item=self.item[keep], session=self.session[keep],
                       platform=self.platform[keep], amount=self.amount[keep])

    def codes(self, actor_ids: Iterable[str]) -> np.ndarray:
        """Dense codes of `actor_ids`; -1 for shoppers with no history."""
        return np.array([self.actor_index.get(a, -1) for a in actor_ids], dtype=np.int64)


def _purchase_amount(etype: np.ndarray, item: np.ndarray, value: np.ndarray,
                     price: np.ndarray) -> np.ndarray:
    """Money per purchase. `value` is read as the amount paid when it is within 1 % of the
    list price (or no price is known), as a quantity when it is a whole number in 1..100,
    else as the amount paid; no value means one unit at the list price."""
    amount = np.zeros(etype.size, dtype=np.float64)
    buy = etype == TYPE_CODE["purchase"]
    if not buy.any():
        return amount
    unit = np.full(etype.size, np.nan)
    has_item = buy & (item >= 0)
    unit[has_item] = price[item[has_item]]
    no_value, no_unit = np.isnan(value), np.isnan(unit)
    paid = np.abs(value - unit) <= 0.01 * np.abs(unit)
    is_qty = (value >= 1) & (value <= MAX_QUANTITY) & (np.mod(value, 1) == 0) & ~paid
    out = np.where(no_value, unit, np.where(is_qty, unit * value, value))
    out = np.where(no_unit & ~no_value, value, out)
    amount[buy] = np.nan_to_num(np.maximum(out[buy], 0.0), nan=0.0)
    return amount
