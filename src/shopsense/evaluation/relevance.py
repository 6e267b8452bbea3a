"""A bilingual relevance suite written from the catalogue's point of view.

`relevance_checks(products)` derives shopper checks from what the demo shop sells (its leaf
categories, their zh / en product words, brands and price ranges) and what it does not:
absent product types, every leaf in both languages (top-10 precision), cross-lingual parity,
value words (cheap / premium), price ceilings below a leaf's cheapest item, negated brands,
brand aliases, typos (pinyin homophones and English letter slips) and mixed-language queries.
`run_checks(search, checks)` runs them through a search function (query -> the
`SearchResponse` of the pipeline) and says which pass; `pass_rates` sums per property.
`benchmarks/relevance.py` prints the rates; tests/search/test_relevance.py asserts them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shopsense.demo.brands import BRANDS
from shopsense.demo.taxonomy import LEAVES, Leaf
from shopsense.domain import Product

# Product types the demo shop does not sell (checked against its leaves' words).
ABSENT = (("剃须刀", "shaver"), ("微波炉", "microwave oven"), ("吹风机", "hair dryer"),
          ("沙发", "sofa"), ("电动牙刷", "electric toothbrush"), ("打印机", "printer"),
          ("电水壶", "electric kettle"), ("牛仔裤", "jeans"), ("自行车", "bicycle"),
          ("雨伞", "umbrella"), ("行李箱", "suitcase"), ("钢琴", "piano"),
          ("电饭煲", "rice cooker"), ("吉他", "guitar"), ("口罩", "face mask"),
          ("台灯", "desk lamp"), ("剪刀", "scissors"), ("书架", "bookshelf"),
          ("轮胎", "car tyre"), ("狗粮", "dog food"))
HOMOPHONES = {"空调": "空掉", "耳机": "耳鸡", "洗发水": "洗发谁", "运动鞋": "运动谢",
              "连衣裙": "连衣群", "冰箱": "冰香", "羽绒服": "羽绒福", "帐篷": "帐蓬",
              "手机": "手鸡", "咖啡": "咖非", "牛奶": "牛乃", "奶粉": "奶份"}


@dataclass
class Check:
    prop: str  # the property checked
    lang: str  # zh | en | mixed
    query: str
    leaf: str = ""
    pair: str = ""  # the other-language / bare query it is compared with
    brand: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    judge: Callable[..., Any] | None = None  # (search, check, response, precision) -> (ok, why)


@dataclass
class Outcome:
    check: Check
    passed: bool
    detail: str


def leaves_held(products: Sequence[Product], minimum: int
                ) -> Iterator[tuple[int, Leaf, list[Product]]]:
    """(index, leaf, its products) for each leaf of the demo taxonomy that `products` hold at
    least `minimum` of: the loop every relevance suite builds its checks over."""
    by_leaf: dict[str, list[Product]] = {}
    for p in products:
        by_leaf.setdefault(p.category, []).append(p)
    for i, leaf in enumerate(LEAVES):
        items = by_leaf.get(leaf.path, [])
        if len(items) >= minimum:
            yield i, leaf, items


def relevance_checks(products: Sequence[Product]) -> list[Check]:
    """Checks for the leaves of the demo taxonomy that `products` hold (>= 5 products)."""
    checks: list[Check] = []
    sold = {w.lower() for leaf in LEAVES for w in (*leaf.words_zh, *leaf.words_en)}
    for zh, en in ABSENT:
        if zh not in sold and en not in sold:
            checks += [Check("absent_type", "zh", zh), Check("absent_type", "en", en)]
    for _, leaf, items in leaves_held(products, 5):
        zh, en = leaf.words_zh[0], leaf.words_en[0].lower()
        checks += [Check("in_catalogue", "zh", zh, leaf.path), Check("in_catalogue", "en", en,
                                                                     leaf.path),
                   Check("parity", "en", en, leaf.path, pair=zh),
                   Check("value_cheap", "zh", f"便宜的{zh}", leaf.path, pair=zh),
                   Check("value_cheap", "en", f"cheap {en}", leaf.path, pair=en),
                   Check("value_premium", "zh", f"高端{zh}", leaf.path, pair=zh),
                   Check("value_premium", "en", f"premium {en}", leaf.path, pair=en)]
        cheapest = min(p.price for p in items if p.price is not None)
        ceiling = max(int(cheapest * 0.5), 1)
        checks += [Check("ceiling_below_cheapest", "zh", f"{ceiling}元以下的{zh}", leaf.path),
                   Check("ceiling_below_cheapest", "en", f"{en} under {ceiling} yuan",
                         leaf.path)]
        checks += _brand_checks(leaf, items, zh, en)
        if zh in HOMOPHONES:
            checks.append(Check("typo", "zh", HOMOPHONES[zh], leaf.path))
        if len(en) >= 6 and " " not in en:
            slip = en[:3] + en[4:]  # one letter dropped: "headphnes"
            checks.append(Check("typo", "en", slip, leaf.path))
    return checks


def _brand_checks(leaf: Any, items: list[Product], zh: str, en: str) -> list[Check]:
    counts: dict[str, int] = {}
    for p in items:
        counts[p.brand] = counts.get(p.brand, 0) + 1
    brands = [BRANDS[key] for key, _ in leaf.brands if key in BRANDS]
    present = [b for b in brands if counts.get(b.zh, 0) + counts.get(b.en, 0) >= 2
               and b.zh != b.en]
    if not present:
        return []
    b = max(present, key=lambda b: counts.get(b.zh, 0) + counts.get(b.en, 0))
    names = (b.zh, b.en)
    return [Check("negation", "zh", f"不要{b.zh}的{zh}", leaf.path, brand=names),
            Check("negation", "en", f"{en} not {b.en}", leaf.path, brand=names),
            Check("brand_alias", "zh", f"{b.zh} {zh}", leaf.path, pair=f"{b.en} {en}",
                  brand=names),
            Check("brand_alias", "en", f"{b.en} {en}", leaf.path, pair=f"{b.zh} {zh}",
                  brand=names),
            Check("mixed_language", "mixed", f"{b.en} {zh}", leaf.path, brand=names),
            Check("mixed_language", "mixed", f"{b.zh} {en}", leaf.path, brand=names)]


Search = Callable[..., Any]  # (query, k=..., sort=...) -> SearchResponse


def _in_leaf(results: Sequence[Any], leaf: str) -> list[bool]:
    return [r.product is not None and (r.product.category == leaf or
                                       r.product.category.startswith(leaf + " > "))
            for r in results]


def _median_price(results: Sequence[Any]) -> float:
    prices = [r.product.price for r in results if r.product is not None and r.product.price]
    return float(np.median(prices)) if prices else float("nan")


def value_moved(search: Search, bare_query: str, r: Any, *, cheap: bool) -> tuple[bool, str]:
    """Page 1's median price moved >= 20 % from the bare query's in the asked direction, or
    as far as the matched products allow (within 10 % of the median of the 10 cheapest /
    dearest: a small category cannot move further)."""
    bare = search(bare_query, k=10)
    ideal = search(bare_query, k=10, sort="price_asc" if cheap else "price_desc")
    before, after, best = (_median_price(x.results) for x in (bare, r, ideal))
    if cheap:
        moved = after <= 0.8 * before or after <= 1.1 * best
    else:
        moved = after >= 1.2 * before or after >= best / 1.1
    return moved, f"median {before:.0f} -> {after:.0f} (the catalogue allows {best:.0f})"


def run_check(search: Search, check: Check) -> Outcome:
    r = search(check.query, k=10)
    hits = _in_leaf(r.results, check.leaf) if check.leaf else []
    precision = sum(hits) / max(len(hits), 1)
    ok, detail = _judge(search, check, r, hits, precision)
    return Outcome(check, ok, detail)


def _judge(search: Search, check: Check, r: Any, hits: list[bool], precision: float
           ) -> tuple[bool, str]:
    prop = check.prop
    if prop in ("absent_type", "absent_lookalike"):
        forced = [c for c in r.applied_filters if c["kind"] == "category"]
        return (r.no_exact_match is not None and not forced,
                f"no_exact_match={r.no_exact_match is not None} category filters={forced}")
    if prop in ("in_catalogue", "typo", "mixed_language", "other_word"):
        ok = r.total > 0 and precision >= 0.9 and r.no_exact_match is None
        if check.brand:
            ok = ok and all(x.product.brand in check.brand for x in r.results)
        return ok, f"precision@10={precision:.2f} total={r.total}"
    if prop in ("parity", "other_word_parity"):
        en = sum(_in_leaf(search(check.query, k=100).results, check.leaf))
        zh = sum(_in_leaf(search(check.pair, k=100).results, check.leaf))
        return en >= 0.8 * zh and precision >= 0.9, f"top-100 in leaf en={en} zh={zh}"
    if prop in ("value_cheap", "value_premium"):
        moved, detail = value_moved(search, check.pair, r, cheap=prop == "value_cheap")
        ok = moved and r.total > 0 and precision >= 0.9 and any(
            b.get("kind") == "value" for b in r.soft_boosts)
        return ok, detail
    if prop == "ceiling_below_cheapest":
        prices = [x.product.price for x in r.results if x.product is not None]
        relaxed = any(c["kind"] == "price" for c in r.relaxed_filters)
        ok = relaxed and precision >= 0.9 and prices == sorted(prices) and bool(
            r.relaxed_filters[0].get("message_zh"))
        return ok, f"relaxed={relaxed} prices={prices[:5]}"
    if prop == "negation":
        bad = [x.product.brand for x in r.results if x.product.brand in check.brand]
        return not bad and precision >= 0.9 and r.total > 0, f"excluded brand shown: {bad}"
    if prop == "brand_alias":
        other = search(check.pair, k=10)
        ok = r.total > 0 and r.total == other.total and precision >= 0.9 and all(
            x.product.brand in check.brand for x in r.results)
        return ok, f"total {r.total} vs {other.total}"
    if check.judge is not None:  # a property of another suite judges itself
        return check.judge(search, check, r, precision)  # type: ignore[no-any-return]
    raise ValueError(f"unknown property {prop!r}")


def run_checks(search: Search, checks: Sequence[Check]) -> list[Outcome]:
    return [run_check(search, c) for c in checks]


def pass_rates(outcomes: Sequence[Outcome]) -> dict[str, dict[str, float]]:
    """property -> {"passed", "of", "rate"}, plus "all"."""
    out: dict[str, dict[str, float]] = {}
    for o in outcomes:
        for key in (o.check.prop, "all"):
            row = out.setdefault(key, {"passed": 0, "of": 0, "rate": 0.0})
            row["passed"] += int(o.passed)
            row["of"] += 1
    for row in out.values():
        row["rate"] = round(row["passed"] / row["of"], 4) if row["of"] else 0.0
    return out
