"""How demo shoppers behave: sessions of searches, clicks, views, carts, purchases and more.

Behaviour follows latent tastes (preferred leaves, favourite / disliked brands, price band,
language), a popularity skew, and sequence (the next item is often the same brand as the
last; the next session often continues the last category). Consumables are bought again when
they run out; durables once, after which their complements ("bought together") get attention.
Some sessions are guests' (no user_id) and some shoppers log in mid-session. Attention also
moves in time: seasonal leaves rise or fade across the window, new listings get a burst,
weekends and the pre-sale week before Double 11 are busier.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import accumulate

from shopsense.demo.brands import BRANDS
from shopsense.demo.catalog import DAY, END_TS, DemoItem
from shopsense.demo.querytext import QueryIntent, make_query
from shopsense.demo.shoppers import BAND_CENTRE, PLATFORMS, Shopper
from shopsense.demo.taxonomy import LEAF_BY_PATH, LEAVES

# (ts, order, event_type, user_id, session_id, item index, query, value, platform)
RawEvent = tuple[int, int, str, str | None, str, int | None, str | None, float | None, str]
HOUR_WEIGHTS = (6, 5, 5, 4, 3, 3, 3, 2, 1, 1, 2, 3, 5, 6, 6, 5, 3, 2, 1, 1, 1, 2, 3, 5)  # UTC
CART_RATE = 0.21  # times taste in [0, 1]; gives view->cart of about 10%
BUY_RATE = 0.42  # cart -> purchase
LAUNCH_DAYS, LAUNCH_BOOST = 10, 2.5
COMPLEMENT_NEED = 1.8  # carts are likelier when shopping for what complements a purchase
BASKET_RATE = 0.3  # share of such purchases followed by a complement in the same session
PRESALE_DAYS = 7  # the Double 11 pre-sale: the last week before 11-11 is busier
SEASONS = {"羽绒服": (0.6, 2.2), "靴子": (0.8, 1.6), "空调": (1.4, 0.6), "T恤": (1.3, 0.7),
           "连衣裙": (1.2, 0.8)}  # leaf name -> interest multiplier at the window's start, end


def day_weight(day_start: int) -> float:
    """Relative traffic of a day: weekends and the pre-sale week are busier."""
    weekend = datetime.fromtimestamp(day_start, UTC).weekday() >= 5
    presale = END_TS - day_start < PRESALE_DAYS * DAY
    return (1.2 if weekend else 1.0) * (1.4 if presale else 1.0)


@dataclass(slots=True)
class ShopperState:
    """What a shopper has done so far, which shapes the next session."""

    due: dict[int, int] = field(default_factory=dict)  # consumable item -> when it runs out
    owned_leaves: set[int] = field(default_factory=set)  # durables bought
    pending: list[tuple[int, str]] = field(default_factory=list)  # (complement leaf, brand)
    last_leaf: int | None = None
    weights: dict[int, list[float]] = field(default_factory=dict)  # leaf -> attention weights


@dataclass(slots=True)
class Session:
    """The rows of one session before ids and identities are attached."""

    ts: int
    rows: list[tuple[int, str, int | None, str | None, float | None]] = field(default_factory=list)
    basket: bool = False  # already went on to a complement in this session

    def add(self, rng: random.Random, kind: str, item: int | None = None, query: str | None = None,
            value: float | None = None, gap: tuple[int, int] = (6, 90)) -> None:
        self.ts += rng.randint(*gap)
        self.rows.append((self.ts, kind, item, query, value))


class Simulator:
    """Draws every event of the demo shop from a catalogue and its shoppers."""

    def __init__(self, items: list[DemoItem], seed: int, days: int) -> None:
        if days < 1:
            raise ValueError(f"days must be >= 1, got {days}")
        self.items = items
        self.rng = random.Random(f"shopsense-demo-events-{seed}")
        self.start_ts = END_TS - days * DAY + 1
        self.days = days
        self.by_leaf: list[list[int]] = [[] for _ in LEAVES]
        for item in sorted(items, key=lambda it: (it.created_at, it.index)):
            self.by_leaf[item.leaf].append(item.index)
        self.created = [[items[i].created_at for i in members] for members in self.by_leaf]
        self.price_fit = {band: [math.exp(-(((it.price_rank - centre) / 0.28) ** 2)) for it in items]
                          for band, centre in BAND_CENTRE.items()}
        self.base = [it.popularity * (1.0 if it.available else 0.3) for it in items]
        self.day_cum = list(accumulate(day_weight(self.start_ts + d * DAY) for d in range(days)))
        self.events: list[RawEvent] = []
        self.session_ids: set[str] = set()
        self.order = 0

    # --- tastes -------------------------------------------------------------------------
    def taste(self, shopper: Shopper, item: DemoItem) -> float:
        """How well an item fits a shopper, in [0, 1]: price band and brand."""
        price_fit = self.price_fit[shopper.band][item.index]
        brand = 1.0 if item.brand in shopper.favourites else 0.0 if item.brand in shopper.disliked else 0.4
        return 0.45 * price_fit + 0.55 * brand

    def leaf_weights(self, shopper: Shopper, leaf: int) -> list[float]:
        """Attention weights over `by_leaf[leaf]`: popularity x taste x language."""
        fit, items, out = self.price_fit[shopper.band], self.items, []
        favourites, disliked, lang = shopper.favourites, shopper.disliked, shopper.lang
        for i in self.by_leaf[leaf]:
            item = items[i]
            brand = 1.0 if item.brand in favourites else 0.0 if item.brand in disliked else 0.4
            taste = 0.45 * fit[i] + 0.55 * brand
            out.append(self.base[i] * (0.1 + taste) ** 2 * (1.8 if item.lang == lang else 1.0))
        return out

    # --- identities and time ------------------------------------------------------------
    def new_session_id(self) -> str:
        while True:
            sid = f"s{self.rng.getrandbits(40):010x}"
            if sid not in self.session_ids:
                self.session_ids.add(sid)
                return sid

    def session_starts(self, activity: float) -> list[int]:
        n = max(1, int(activity) + (1 if self.rng.random() < activity % 1 else 0))
        starts = []
        for _ in range(n):
            day = self.rng.choices(range(self.days), cum_weights=self.day_cum)[0]
            hour = self.rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
            ts = self.start_ts + day * DAY + hour * 3600 + self.rng.randrange(3600)
            starts.append(min(ts, END_TS - 3 * 3600 - self.rng.randrange(3600)))
        return sorted(starts)

    def emit(self, shopper: Shopper, session: Session, sid: str, platform: str, anon_rows: int) -> None:
        for n, (ts, kind, item, query, value) in enumerate(session.rows):
            if ts > END_TS:
                break
            user = shopper.user_id if n >= anon_rows else None
            self.events.append((ts, self.order, kind, user, sid, item, query, value, platform))
            self.order += 1

    # --- shoppers -----------------------------------------------------------------------
    def run_shopper(self, shopper: Shopper) -> None:
        state = ShopperState()
        for start in self.session_starts(shopper.activity):
            session = Session(start)
            self.one_session(shopper, state, session)
            if not session.rows:
                continue
            sid = self.new_session_id()
            platform = self.rng.choices(PLATFORMS, weights=shopper.platforms)[0]
            anon = 0
            if shopper.user_id is None:
                anon = len(session.rows)
            elif len(session.rows) >= 3 and self.rng.random() < 0.08:
                anon = self.rng.randint(1, len(session.rows) - 2)  # logs in mid-way
            self.emit(shopper, session, sid, platform, anon)

    def one_session(self, shopper: Shopper, state: ShopperState, session: Session) -> None:
        due = sorted((ts, i) for i, ts in state.due.items() if ts <= session.ts)
        if due and self.rng.random() < 0.75:
            self.repurchase(shopper, state, session, due[0][1])
            return
        boost = None
        if state.pending and self.rng.random() < 0.6:
            leaf, boost = state.pending.pop(0)
        else:
            leaf = self.pick_leaf(shopper, state, session.ts)
        self.shop_leaf(shopper, state, session, leaf, boost)
        state.last_leaf = leaf

    def weights_of(self, shopper: Shopper, state: ShopperState, leaf: int) -> list[float]:
        if leaf not in state.weights:
            state.weights[leaf] = self.leaf_weights(shopper, leaf)
        return state.weights[leaf]

    def season(self, leaf: int, ts: int) -> float:
        """Seasonal interest: autumn into winter, so down jackets rise and air conditioners fade."""
        start, end = SEASONS.get(LEAVES[leaf].name, (1.0, 1.0))
        progress = (ts - self.start_ts) / max(1, END_TS - self.start_ts)
        return start + (end - start) * progress

    def pick_leaf(self, shopper: Shopper, state: ShopperState, ts: int) -> int:
        """Usually a preferred leaf; sometimes the last one again or one in season."""
        roll = self.rng.random()
        if state.last_leaf is not None and state.last_leaf not in state.owned_leaves and roll < 0.3:
            leaf = state.last_leaf
        elif roll > 0.88:
            return self.seasonal_leaf(ts)
        else:
            weights = [w * (0.25 if leaf in state.owned_leaves else 1.0) * self.season(leaf, ts)
                       for leaf, w in zip(shopper.leaves, shopper.leaf_weights, strict=True)]
            leaf = self.rng.choices(shopper.leaves, weights=weights)[0]
        if self.rng.random() < 1.0 - self.season(leaf, ts):  # out of season: look at something else
            return self.seasonal_leaf(ts)
        return leaf

    def seasonal_leaf(self, ts: int) -> int:
        weights = [lf.interest * self.season(i, ts) ** 2 for i, lf in enumerate(LEAVES)]
        return self.rng.choices(range(len(LEAVES)), weights=weights)[0]

    # --- one session ----------------------------------------------------------------------
    def pool(self, leaf: int, ts: int, weights: list[float], query: QueryIntent | None,
             boost: str | None) -> tuple[list[int], list[float]]:
        """Items of `leaf` listed by `ts` (matching the query if any), with their weights."""
        n = bisect_right(self.created[leaf], ts)
        members, w = self.by_leaf[leaf][:n], weights[:n]
        for k in range(bisect_left(self.created[leaf], ts - LAUNCH_DAYS * DAY), n):
            w[k] *= LAUNCH_BOOST  # just-listed items get a burst of attention
        if boost is not None:
            w = [x * (3.0 if self.items[i].brand == boost else 1.0) for i, x in zip(members, w, strict=True)]
        if query is None:
            return members, w
        for relax in range(4):
            keep = [k for k, i in enumerate(members) if self.matches(self.items[i], query, relax)]
            if keep:
                return [members[k] for k in keep], [w[k] for k in keep]
        return members, w

    @staticmethod
    def matches(item: DemoItem, query: QueryIntent, relax: int) -> bool:
        """Does the item satisfy the query? `relax` drops attribute, then price, then brand."""
        if relax < 1 and query.attr is not None and item.attrs.get(query.attr[0]) != query.attr[1]:
            return False
        if relax < 2 and query.price_max is not None and item.price > query.price_max:
            return False
        if relax < 2 and query.price_min is not None and item.price < query.price_min:
            return False
        return not (relax < 3 and query.brand is not None and item.brand != query.brand)

    def shop_leaf(self, shopper: Shopper, state: ShopperState, session: Session, leaf: int,
                  boost: str | None) -> None:
        """Search or browse one leaf; `boost` is the brand of the item this one complements."""
        rng = self.rng
        weights = self.weights_of(shopper, state, leaf)
        members, w = self.pool(leaf, session.ts, weights, None, boost)
        if not members:
            return
        query = None
        if rng.random() < (0.62 if shopper.user_id else 0.7):
            example = self.items[rng.choices(members, weights=w)[0]].attrs
            query = make_query(rng, LEAVES[leaf], shopper.lang, shopper.favourites,
                               BAND_CENTRE[shopper.band], example)
            session.add(rng, "search", query=query.text)
            members, w = self.pool(leaf, session.ts, weights, query, boost)
            if rng.random() < 0.08:
                return  # nothing caught their eye
        need = COMPLEMENT_NEED if boost is not None else 1.0
        seen, carted = self.browse(shopper, state, session, members, w, query, need)
        self.maybe_dismiss(shopper, session, members, seen)
        self.checkout(shopper, state, session, carted)

    def browse(self, shopper: Shopper, state: ShopperState, session: Session, members: list[int],
               w: list[float], query: QueryIntent | None, need: float) -> tuple[set[int], list[int]]:
        """Views (or result clicks) in sequence; returns (items seen, items carted)."""
        rng = self.rng
        cum = list(accumulate(w))
        n = min(14, 1 + int(rng.expovariate(1 / (2.6 if query else 3.6))))
        carted: list[int] = []
        seen: set[int] = set()
        prev: int | None = None
        for _ in range(n):
            item = None
            if prev is not None and rng.random() < 0.4:
                same = [i for i in members if self.items[i].brand == self.items[prev].brand and i != prev]
                item = rng.choice(same) if same else None
            if item is None:
                item = rng.choices(members, cum_weights=cum)[0]
                if item == prev:  # a second look is allowed, but rarer
                    item = rng.choices(members, cum_weights=cum)[0]
            kind = "click" if query is not None else "view"
            session.add(rng, kind, item, query.text if query else None, gap=(4, 75))
            it = self.items[item]
            factor = 0.1 if it.leaf in state.owned_leaves and not LEAVES[it.leaf].consumable else need
            if it.available and item not in carted and rng.random() < CART_RATE * factor * self.taste(shopper, it):
                session.add(rng, "cart", item, value=it.price, gap=(10, 60))
                carted.append(item)
            prev = item
            seen.add(item)
        return seen, carted

    def maybe_dismiss(self, shopper: Shopper, session: Session, members: list[int],
                      seen: set[int]) -> None:
        if self.rng.random() >= 0.14 or len(members) < 3:
            return
        sample = self.rng.sample(members, min(8, len(members)))
        worst = min(sample, key=lambda i: (self.taste(shopper, self.items[i]), i))
        if worst not in seen and self.taste(shopper, self.items[worst]) < 0.3:
            session.add(self.rng, "dismiss", worst, gap=(2, 20))

    def checkout(self, shopper: Shopper, state: ShopperState, session: Session, carted: list[int]) -> None:
        rng = self.rng
        for item in carted:
            it = self.items[item]
            leaf = LEAVES[it.leaf]
            if not leaf.consumable and it.leaf in state.owned_leaves:
                continue
            if rng.random() < BUY_RATE:
                session.add(rng, "purchase", item, value=it.price, gap=(30, 240))
                self.after_purchase(shopper, state, session, it)

    def after_purchase(self, shopper: Shopper, state: ShopperState, session: Session, it: DemoItem) -> None:
        rng = self.rng
        leaf = LEAVES[it.leaf]
        if leaf.consumable and leaf.repurchase_days:
            state.due[it.index] = session.ts + int(leaf.repurchase_days * rng.uniform(0.7, 1.3) * DAY)
        else:
            state.owned_leaves.add(it.leaf)
            comps = [LEAVES.index(LEAF_BY_PATH[path]) for path in leaf.complements]
            state.pending.extend((c, it.brand) for c in comps if c not in state.owned_leaves)
            if comps and not session.basket and rng.random() < BASKET_RATE:
                session.basket = True  # "customers also bought": straight on to a complement
                self.shop_leaf(shopper, state, session, rng.choice(comps), it.brand)
        if shopper.user_id is not None and rng.random() < 0.3:
            self.rate_later(shopper, session.ts, it)

    def rate_later(self, shopper: Shopper, ts: int, it: DemoItem) -> None:
        """A rating a few days after the purchase, in a visit of its own."""
        when = ts + int(self.rng.uniform(1, 12) * DAY)
        if when > END_TS:
            return
        fit = self.taste(shopper, it)
        stars = min(5, max(1, round(1.5 + 3.6 * fit + self.rng.gauss(0, 0.7))))
        visit = Session(when)
        visit.add(self.rng, "rate", it.index, value=float(stars), gap=(1, 30))
        platform = self.rng.choices(PLATFORMS, weights=shopper.platforms)[0]
        self.emit(shopper, visit, self.new_session_id(), platform, 0)

    def repurchase(self, shopper: Shopper, state: ShopperState, session: Session, item: int) -> None:
        """The consumable ran out: find it again (search or history) and buy it."""
        rng = self.rng
        it = self.items[item]
        del state.due[item]
        if rng.random() < 0.5:
            brand = BRANDS[it.brand].name(shopper.lang)
            words = LEAVES[it.leaf].words_zh if shopper.lang == "zh" else LEAVES[it.leaf].words_en
            text = f"{brand}{words[0]}" if shopper.lang == "zh" else f"{brand} {words[0]}".lower()
            session.add(rng, "search", query=text)
            session.add(rng, "click", item, text, gap=(3, 40))
        else:
            session.add(rng, "view", item)
        if not it.available or rng.random() > 0.88:
            return
        session.add(rng, "cart", item, value=it.price, gap=(5, 60))
        if rng.random() < 0.85:
            session.add(rng, "purchase", item, value=it.price, gap=(20, 180))
            self.after_purchase(shopper, state, session, it)
