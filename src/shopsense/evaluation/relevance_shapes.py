"""A fourth bilingual suite: query *shapes* the first three never ask.

The earlier suites ask each leaf with one product word and a fixed wish (便宜的X, 1000元以下的X
below the leaf's cheapest item, 不要B的X). Shoppers also write a ceiling the shop can meet
(300块以下的耳机, headphones under 300 yuan), a range (1000到2000元的手机, phone between 1000
and 2000 yuan), a floor (5000元以上的笔记本, laptop over 5000 yuan), colloquial wishes
(便宜点的X, 有没有X, not too expensive X, looking for a X), a brand in the *other* language with a
value word (便宜的Xiaomi手机, cheap 小米 phone), a misspelt brand (Samsnug tv, 格丽空调),
category + attribute + negated brand (白色冰箱 不要海尔, white fridge not Haier), and absent
types wrapped in chat (有没有卖空气净化器的, do you have an air purifier?). Properties:
- `price_ceiling` / `price_range` / `price_floor`: results, every price inside the bounds
  (none relaxed: the leaf holds such items), top-10 precision >= 0.9;
- `brand_value`: every result of the brand, precision >= 0.9, a value preference reported in
  `soft_boosts`, and page 1's median price not moved against the wish (the brand alone is
  the bare query);
- `brand_typo`: every result of the brand, precision >= 0.9;
- `attribute_negation`: the negated brand absent, precision >= 0.9, >= 80 % of the results
  of the asked colour;
- `in_catalogue`, `value_cheap`, `value_premium`, `parity`, `absent_type`: judged as in
  `evaluation.relevance`.
The queries were written before this suite was first run, from the catalogue's point of view
(prices from each leaf's own products), and are not tuned on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from shopsense.demo.brands import BRANDS
from shopsense.demo.taxonomy import LEAVES
from shopsense.domain import Product
from shopsense.evaluation.relevance import Check, _median_price, leaves_held

SHAPE_PROPS = ("price_ceiling", "price_range", "price_floor", "brand_value", "brand_typo",
               "attribute_negation")
ABSENT_CHAT = (("空气净化器", "air purifier"), ("电钻", "power drill"), ("麦克风", "microphone"),
               ("路由器", "wifi router"), ("充电宝", "power bank"), ("蓝牙音箱", "bluetooth speaker"),
               ("枕头", "pillow"), ("沐浴露", "body wash"), ("护手霜", "hand cream"),
               ("袜子", "socks"), ("红酒", "red wine"), ("猫粮", "cat food"),
               ("婴儿湿巾", "baby wipes"), ("登山杖", "trekking poles"), ("键盘", "keyboard"))
ABSENT_WRAP = (("有没有卖{a}的", "do you have {a}?"), ("想买个{a}", "looking for {a}"),
               ("{a}有吗", "any {a} in stock?"))
ASK = (("有没有{w}", "any {w}?"), ("想买个{w}", "looking for {w}"), ("帮我找一下{w}", "i need {w}"),
       ("推荐一款{w}", "show me some {w}"))
CHEAP_CHAT = (("便宜点的{w}", "not too expensive {w}"), ("有没有便宜一点的{w}", "{w} on a budget"),
              ("{w}便宜点的", "{w} that doesn't cost much"))
PREMIUM_CHAT = (("档次高一点的{w}", "top of the line {w}"), ("好一点的{w}，贵点没关系", "top-end {w}"))
CEILING = (("{c}块以下的{w}", "{w} under {c} yuan"), ("不到{c}元的{w}", "{w} for less than {c} rmb"),
           ("{w} {c}元以内", "{w} under ¥{c}"))
RANGE = (("{lo}到{hi}元的{w}", "{w} between {lo} and {hi} yuan"),
         ("{lo}-{hi}元{w}", "{w} from {lo} to {hi} rmb"),
         ("价格在{lo}和{hi}之间的{w}", "{w} {lo}-{hi} yuan"))
FLOOR = (("{f}元以上的{w}", "{w} over {f} yuan"), ("{w} {f}块以上", "{w} above ¥{f}"))
BRAND_VALUE = (("便宜的{b}{w}", "cheap {b} {w}", True), ("高端{b}{w}", "premium {b} {w}", False))
# pinyin-input slips of brand names: the same sound, another character
BRAND_HOMOPHONES = {"格力": "格丽", "美的": "美得", "海尔": "海儿", "华为": "华维", "小米": "小迷",
                    "苹果": "平果", "耐克": "耐可", "索尼": "锁尼", "联想": "连想", "海信": "海新"}


def _nice(value: float) -> int:
    """A price a shopper would type: 2 significant digits (2349 -> 2300, 87 -> 87)."""
    if value < 100:
        return max(round(value), 1)
    scale = 10 ** (len(str(int(value))) - 2)
    return int(round(value / scale) * scale)


def _brand_counts(items: Sequence[Product]) -> Counter[str]:
    return Counter(p.brand for p in items)


def _present_brands(leaf: Any, items: Sequence[Product]) -> list[Any]:
    counts = _brand_counts(items)
    brands = [BRANDS[key] for key, _ in leaf.brands if key in BRANDS]
    present = [b for b in brands if counts.get(b.zh, 0) + counts.get(b.en, 0) >= 3]
    return sorted(present, key=lambda b: -(counts.get(b.zh, 0) + counts.get(b.en, 0)))


def _price_checks(i: int, leaf: Any, items: Sequence[Product], zh: str, en: str) -> list[Check]:
    prices = np.array([p.price for p in items if p.price is not None], dtype=float)
    if len(prices) < 10:
        return []
    c = _nice(float(np.percentile(prices, 40)))
    lo, hi = _nice(float(np.percentile(prices, 25))), _nice(float(np.percentile(prices, 75)))
    f = _nice(float(np.percentile(prices, 70)))
    out = []
    kind = i % 3
    if kind == 0 and c > prices.min():
        zh_t, en_t = CEILING[(i // 3) % len(CEILING)]
        bounds = {"max": c}
        out += [Check("price_ceiling", "zh", zh_t.format(c=c, w=zh), leaf.path, extra=bounds),
                Check("price_ceiling", "en", en_t.format(c=c, w=en), leaf.path, extra=bounds)]
    elif kind == 1 and lo < hi:
        zh_t, en_t = RANGE[(i // 3) % len(RANGE)]
        bounds = {"min": lo, "max": hi}
        out += [Check("price_range", "zh", zh_t.format(lo=lo, hi=hi, w=zh), leaf.path,
                      extra=bounds),
                Check("price_range", "en", en_t.format(lo=lo, hi=hi, w=en), leaf.path,
                      extra=bounds)]
    elif kind == 2 and f < prices.max():
        zh_t, en_t = FLOOR[(i // 3) % len(FLOOR)]
        bounds = {"min": f}
        out += [Check("price_floor", "zh", zh_t.format(f=f, w=zh), leaf.path, extra=bounds),
                Check("price_floor", "en", en_t.format(f=f, w=en), leaf.path, extra=bounds)]
    return out


def _chat_checks(i: int, leaf: Any, zh: str, en: str) -> list[Check]:
    ask, cheap = ASK[i % len(ASK)], CHEAP_CHAT[i % len(CHEAP_CHAT)]
    out = [Check("in_catalogue", "zh", ask[0].format(w=zh), leaf.path),
           Check("in_catalogue", "en", ask[1].format(w=en), leaf.path),
           Check("parity", "en", ask[1].format(w=en), leaf.path, pair=ask[0].format(w=zh))]
    if i % 2 == 0:
        out += [Check("value_cheap", "zh", cheap[0].format(w=zh), leaf.path, pair=zh),
                Check("value_cheap", "en", cheap[1].format(w=en), leaf.path, pair=en)]
    else:
        premium = PREMIUM_CHAT[(i // 2) % len(PREMIUM_CHAT)]
        out += [Check("value_premium", "zh", premium[0].format(w=zh), leaf.path, pair=zh),
                Check("value_premium", "en", premium[1].format(w=en), leaf.path, pair=en)]
    return out


def _brand_checks(i: int, leaf: Any, items: Sequence[Product], zh: str, en: str
                  ) -> list[Check]:
    present = _present_brands(leaf, items)
    if not present:
        return []
    b = present[i % len(present)]
    names = (b.zh, b.en)
    zh_t, en_t, cheap = BRAND_VALUE[i % len(BRAND_VALUE)]
    out = []
    if b.zh != b.en:  # the brand in the other language than the rest of the query
        extra = {"cheap": cheap}
        out += [Check("brand_value", "mixed", zh_t.format(b=b.en, w=zh), leaf.path,
                      pair=f"{b.en}{zh}", brand=names, extra=extra),
                Check("brand_value", "mixed", en_t.format(b=b.zh, w=en), leaf.path,
                      pair=f"{b.zh} {en}", brand=names, extra=extra)]
    word = b.en
    if word.isascii() and word.isalpha() and len(word) >= 5:
        typo = word[:2] + word[3] + word[2] + word[4:] if i % 2 else word[:-2] + word[-1]
        if typo.lower() != word.lower():
            out.append(Check("brand_typo", "en", f"{typo.lower()} {en}", leaf.path, brand=names))
    if b.zh in BRAND_HOMOPHONES:
        out.append(Check("brand_typo", "zh", f"{BRAND_HOMOPHONES[b.zh]}{zh}", leaf.path,
                         brand=names))
    return out


def _attribute_negation(leaf: Any, items: Sequence[Product], zh: str, en: str) -> list[Check]:
    spec = leaf.attrs.get("colour")
    if spec is None:
        return []
    pairs = {str(a): (str(a), str(b)) for a, b in spec.values}
    pairs.update({str(b): (str(a), str(b)) for a, b in spec.values})
    counts = Counter(pairs[str(p.attributes["colour"])] for p in items
                     if str(p.attributes.get("colour")) in pairs)
    if not counts:
        return []
    colour, n = counts.most_common(1)[0]
    with_colour = [p for p in items if pairs.get(str(p.attributes.get("colour"))) == colour]
    brands = Counter(p.brand for p in with_colour).most_common()
    if n < 6 or len(brands) < 2:
        return []
    brand = next((b for key in (x for x, _ in brands) for b in BRANDS.values()
                  if key in (b.zh, b.en) and b.zh != b.en), None)
    if brand is None:
        return []
    names, extra = (brand.zh, brand.en), {"colour": colour}
    return [Check("attribute_negation", "zh", f"{colour[0]}{zh} 不要{brand.zh}", leaf.path,
                  brand=names, extra=extra),
            Check("attribute_negation", "en", f"{colour[1]} {en} not {brand.en}", leaf.path,
                  brand=names, extra=extra)]


def _absent(products: Sequence[Product]) -> list[Check]:
    sold = {w.lower() for leaf in LEAVES for w in (*leaf.words_zh, *leaf.words_en)}
    titles = " ".join(p.title.lower() for p in products)
    out = []
    for i, (zh, en) in enumerate(ABSENT_CHAT):
        if zh in sold or en in sold or zh in titles or en in titles:
            continue
        zh_t, en_t = ABSENT_WRAP[i % len(ABSENT_WRAP)]
        out += [Check("absent_type", "zh", zh_t.format(a=zh)),
                Check("absent_type", "en", en_t.format(a=en))]
    return out


def shape_checks(products: Sequence[Product]) -> list[Check]:
    """The fourth suite's checks for the leaves `products` hold (>= 10 products each)."""
    checks = _absent(products)
    for i, leaf, items in leaves_held(products, 10):
        zh, en = leaf.words_zh[-1], leaf.words_en[-1].lower()
        checks += _price_checks(i, leaf, items, zh, en)
        checks += _chat_checks(i, leaf, zh, en)
        checks += _brand_checks(i, leaf, items, zh, en)
        checks += _attribute_negation(leaf, items, zh, en)
    checks = [replace(c, judge=judge_shape) if c.prop in SHAPE_PROPS else c for c in checks]
    return list({(c.prop, c.query): c for c in checks}.values())


def judge_shape(search: Any, check: Check, r: Any, precision: float) -> tuple[bool, str]:
    """The verdict on a check of one of `SHAPE_PROPS`."""
    prop, found = check.prop, [x.product for x in r.results if x.product is not None]
    base = r.total > 0 and precision >= 0.9
    if prop in ("price_ceiling", "price_range", "price_floor"):
        low, high = check.extra.get("min", -np.inf), check.extra.get("max", np.inf)
        outside = [p.price for p in found if p.price is None or not low <= p.price <= high]
        relaxed = any(c["kind"] == "price" for c in r.relaxed_filters)
        return (base and not outside and not relaxed,
                f"precision@10={precision:.2f} outside={outside[:5]} relaxed={relaxed}")
    if prop == "brand_typo":
        other = [p.brand for p in found if p.brand not in check.brand]
        return base and not other, f"precision@10={precision:.2f} other brands={other[:5]}"
    if prop == "brand_value":
        other = [p.brand for p in found if p.brand not in check.brand]
        valued = any(b.get("kind") == "value" for b in r.soft_boosts)
        before, after = _median_price(search(check.pair, k=10).results), _median_price(r.results)
        direction = after <= before if check.extra["cheap"] else after >= before
        return (base and not other and valued and bool(direction),
                f"other brands={other[:5]} value={valued} median {before:.0f} -> {after:.0f}")
    if prop == "attribute_negation":
        shown = [p.brand for p in found if p.brand in check.brand]
        colour = set(check.extra["colour"])
        coloured = sum(str(p.attributes.get("colour")) in colour for p in found)
        ok = base and not shown and coloured >= 0.8 * max(len(found), 1)
        return ok, (f"precision@10={precision:.2f} excluded shown={shown[:3]} "
                    f"coloured={coloured}/{len(found)}")
    raise ValueError(f"unknown property {prop!r}")


__all__ = ["SHAPE_PROPS", "judge_shape", "shape_checks"]
