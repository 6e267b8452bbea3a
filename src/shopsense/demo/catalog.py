"""How the demo catalogue is drawn: one listing per product, in Chinese or English.

About 60% of listings are Chinese (locale zh-CN) and 40% English (locale en-US). **Every
listing is priced in CNY**, English ones included, so one price filter works across the whole
shop; an English query's "$80" is converted with the fixed demo rate `USD_TO_CNY` (7.2).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shopsense.demo.brands import BRANDS, OVER_EAR, SERIES, Brand
from shopsense.demo.taxonomy import LEAVES, Leaf
from shopsense.demo.text import ZH_PREFIXES, describe, title
from shopsense.demo.vocab import SHOE_SIZES_BY_GENDER, SIZES_SHOES, Pair

END = datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC)
END_TS = int(END.timestamp())
DAY = 86_400
ZH_SHARE = 0.6
UNAVAILABLE_SHARE = 0.05
NEW_SHARE = 0.05  # listed in the last 14 days
TIER_SPAN = {"cheap": (0.0, 0.45), "mid": (0.25, 0.75), "premium": (0.55, 1.0)}
TIER_WEIGHT = {"cheap": 1.2, "mid": 1.0, "premium": 0.8}
ELECTRONICS = ("家电", "手机数码", "电脑办公")


@dataclass(frozen=True, slots=True)
class DemoItem:
    """One generated listing plus the latent facts the shopper simulation needs."""

    index: int
    item_id: str
    leaf: int  # index into LEAVES
    brand: str  # brand key
    lang: str  # zh | en
    price: float
    price_rank: float  # 0 = cheapest of its leaf, 1 = dearest
    attrs: dict[str, int]  # attribute key -> index into its AttrSpec values
    popularity: float
    created_at: int  # unix seconds
    available: bool
    record: dict[str, Any]  # the products.jsonl row


def leaf_slug(leaf: Leaf) -> str:
    """`Kids' Toys` -> `kids-toys`: the file name of a leaf's placeholder image."""
    return leaf.en.lower().replace("'", "").replace("&", "and").replace(" ", "-")


_DAY_PREFIX: dict[int, str] = {}


def iso(ts: int) -> str:
    """Unix seconds -> `2026-10-31T23:59:59Z` (the date part is cached: events share days)."""
    day, rest = divmod(ts, DAY)
    prefix = _DAY_PREFIX.get(day)
    if prefix is None:
        prefix = _DAY_PREFIX[day] = datetime.fromtimestamp(day * DAY, UTC).strftime("%Y-%m-%dT")
    hours, rest = divmod(rest, 3600)
    return f"{prefix}{hours:02d}:{rest // 60:02d}:{rest % 60:02d}Z"


def allocate(total: int, shares: list[float]) -> list[int]:
    """Split `total` by `shares` (largest remainder), at least one each when total allows."""
    floor = 1 if total >= len(shares) else 0
    rest = total - floor * len(shares)
    raw = [rest * s / sum(shares) for s in shares]
    counts = [floor + int(r) for r in raw]
    order = sorted(range(len(shares)), key=lambda i: (-(raw[i] - int(raw[i])), i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def round_price(price: float, lo: float, hi: float) -> float:
    """Shop-style prices: 9.9, 39.9, 299, 2999; always inside [lo, hi]."""
    if price < 100:
        value = math.floor(price) + 0.9
    elif price < 1000:
        value = round(price / 10) * 10 - 1
    else:
        value = round(price / 100) * 100 - 1
    return min(hi, max(lo, round(value, 2)))


def _price(rng: random.Random, leaf: Leaf, tier: str, attrs: dict[str, int]) -> float:
    span = TIER_SPAN[tier]
    pos = rng.uniform(*span)
    levels = [idx / (len(leaf.attrs[k].values) - 1) for k, idx in attrs.items()
              if leaf.attrs[k].price_driver and len(leaf.attrs[k].values) > 1]
    if levels:
        pos += 0.3 * (sum(levels) / len(levels) - 0.5)
    pos = min(1.0, max(0.0, pos))
    lo, hi = leaf.price
    return round_price(math.exp(math.log(lo) + pos * (math.log(hi) - math.log(lo))), lo, hi)


def _model_number(rng: random.Random, leaf: Leaf, brand: Brand) -> str:
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    if leaf.model_prefix == "KFR-":
        return f"KFR-{rng.choice((26, 35, 50, 72))}GW/{rng.choice(letters)}{rng.choice(letters)}{rng.randint(1, 3)}"
    if leaf.model_prefix == "BCD-":
        return f"BCD-{rng.randint(200, 640)}W{rng.choice(letters)}"
    prefix = leaf.model_prefix or "".join(c for c in brand.en.upper() if c.isalpha())[:2] + "-"
    return f"{prefix}{rng.randint(10, 999)}{rng.choice(letters)}{rng.choice(letters)}"


def _draft(rng: random.Random, leaf_idx: int) -> dict[str, Any]:
    """Latent facts of one listing; ids and text come later."""
    leaf = LEAVES[leaf_idx]
    weights = [TIER_WEIGHT[t] for _, t in leaf.brands]
    brand_key, tier = rng.choices(leaf.brands, weights=weights)[0]
    attrs = {k: rng.choices(range(len(s.values)), weights=s.weights)[0] for k, s in leaf.attrs.items()}
    if leaf.attrs.get("size") is SIZES_SHOES and "gender" in attrs:
        low, high = SHOE_SIZES_BY_GENDER[leaf.attrs["gender"].values[attrs["gender"]][0]]
        attrs["size"] = rng.randint(low, high)
    lang = "zh" if rng.random() < ZH_SHARE else "en"
    series = SERIES.get((leaf.name, brand_key))
    series_pair: Pair | None = None
    if series:
        line = rng.choice(series)
        series_pair = (line, line)
    elif leaf.series and rng.random() < 0.7:
        series_pair = rng.choice(leaf.series)
    if series and "type" in attrs and leaf.name == "耳机":
        attrs["type"] = 1 if series_pair[0] in OVER_EAR else 0
    brand = BRANDS[brand_key]
    model = _model_number(rng, leaf, brand) if leaf.path.split(" > ")[0] in ELECTRONICS else None
    age = rng.uniform(0, 14) if rng.random() < NEW_SHARE else rng.uniform(14, 730)
    return {
        "leaf": leaf_idx, "brand": brand_key, "tier": tier, "attrs": attrs, "lang": lang,
        "price": _price(rng, leaf, tier, attrs), "series": series_pair, "model": model,
        "popularity": rng.lognormvariate(0.0, 1.25) * (1.3 if tier == "mid" else 1.0),
        "created_at": END_TS - int(age * DAY), "available": rng.random() >= UNAVAILABLE_SHARE,
        "word": 0 if rng.random() < 0.55 else rng.randrange(8), "bracket": rng.random() < 0.7,
        "bracket_form": rng.randrange(2),
        "prefix": rng.randrange(len(ZH_PREFIXES)) if rng.random() < 0.12 else None,
        "show_model": rng.random() < 0.6, "point": rng.randrange(8),
    }


def _record(item_id: str, draft: dict[str, Any]) -> dict[str, Any]:
    leaf = LEAVES[draft["leaf"]]
    lang = draft["lang"]
    attributes: dict[str, Any] = {k: leaf.attrs[k].values[i][0 if lang == "zh" else 1]
                                  for k, i in draft["attrs"].items()}
    if draft["model"]:
        attributes["model"] = draft["model"]
    attributes["consumable"] = leaf.consumable
    return {
        "item_id": item_id,
        "title": title(leaf, BRANDS[draft["brand"]], draft, attributes, lang),
        "description": describe(leaf, BRANDS[draft["brand"]], draft, attributes, lang),
        "category": leaf.path,
        "brand": BRANDS[draft["brand"]].name(lang),
        "price": draft["price"],
        "currency": "CNY",
        "attributes": attributes,
        "image_url": f"/static/demo/{leaf_slug(leaf)}.svg",
        "available": draft["available"],
        "created_at": iso(draft["created_at"]),
        "locale": "zh-CN" if lang == "zh" else "en-US",
    }


def build_catalogue(seed: int = 7, n_products: int = 3200) -> list[DemoItem]:
    """Every listing of the demo shop, in item_id order. Same seed -> same catalogue."""
    if n_products < 1:
        raise ValueError(f"n_products must be >= 1, got {n_products}")
    rng = random.Random(f"shopsense-demo-catalogue-{seed}")
    counts = allocate(n_products, [leaf.share for leaf in LEAVES])
    drafts = [_draft(rng, leaf_idx) for leaf_idx, n in enumerate(counts) for _ in range(n)]
    rng.shuffle(drafts)
    ranks = _price_ranks(drafts)
    items = []
    for index, draft in enumerate(drafts):
        item_id = f"P{index + 1:05d}"
        items.append(DemoItem(
            index=index, item_id=item_id, leaf=draft["leaf"], brand=draft["brand"],
            lang=draft["lang"], price=draft["price"], price_rank=ranks[index], attrs=draft["attrs"],
            popularity=draft["popularity"], created_at=draft["created_at"],
            available=draft["available"], record=_record(item_id, draft)))
    return items


def _price_ranks(drafts: list[dict[str, Any]]) -> list[float]:
    """Each listing's price quantile inside its own leaf (0 cheapest, 1 dearest)."""
    by_leaf: dict[int, list[int]] = {}
    for i, draft in enumerate(drafts):
        by_leaf.setdefault(draft["leaf"], []).append(i)
    ranks = [0.5] * len(drafts)
    for members in by_leaf.values():
        members.sort(key=lambda i: (drafts[i]["price"], i))
        for r, i in enumerate(members):
            ranks[i] = r / (len(members) - 1) if len(members) > 1 else 0.5
    return ranks


def iter_demo_products(seed: int = 7, n_products: int = 3200) -> Iterator[dict[str, Any]]:
    """The products.jsonl rows of the demo shop, as dicts, in item_id order."""
    for item in build_catalogue(seed, n_products):
        yield item.record
