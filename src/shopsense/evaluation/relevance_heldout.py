"""A second, held-out-style bilingual suite: the same properties as `relevance_checks`, other
queries.

The first suite asks each leaf with its first product word and one phrasing per property
(便宜的X / cheap X, 1000元以下的X, 不要B的X, ...). Shoppers write the same wishes many ways, and a
suite that is only ever run on the phrasings it was tuned on says little. This one uses each
leaf's *other* product words (变频空调, fridge, washer, trainers, moisturizer, nappies), rotates
through other value words (实惠 / 平价 / 学生 / 旗舰 / 高档 / 顶配, affordable / budget / luxury /
flagship / high-end), other ceiling phrasings (以内, 不超过, 预算; below, at most, less than,
within), other negations (除了B以外的X, X不要B, X without B, X except B), the leaf's *second*
brand for aliases, negation and mixed language (brand after the product word), more absent
types (checked against every title), more pinyin homophones and English prefix / swapped-letter
typos. `run_checks` and `pass_rates` of `evaluation.relevance` judge them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shopsense.demo.brands import BRANDS
from shopsense.demo.taxonomy import LEAVES
from shopsense.domain import Product
from shopsense.evaluation.relevance import ABSENT, HOMOPHONES, Check, leaves_held

ABSENT_MORE = (("跑步机", "treadmill"), ("投影仪", "projector"), ("洗碗机", "dishwasher"),
               ("空气炸锅", "air fryer"), ("婴儿车", "baby stroller"), ("鱼竿", "fishing rod"),
               ("窗帘", "curtains"), ("太阳镜", "sunglasses"), ("滑板", "skateboard"),
               ("烤箱", "oven"), ("床垫", "mattress"), ("游戏机", "game console"),
               ("相机", "camera"), ("手电筒", "flashlight"), ("香水", "perfume"),
               ("领带", "necktie"), ("保温杯", "thermos"), ("足球", "football"))
HOMOPHONES_MORE = {"洗衣机": "洗衣鸡", "电视": "电是", "显示器": "显示气", "鼠标": "鼠表",
                   "面霜": "面双", "口红": "口洪", "零食": "零时", "茶叶": "茶业",
                   "纸尿裤": "纸尿酷", "睡袋": "睡带", "平板": "平版", "唇膏": "纯膏",
                   "保湿霜": "保湿双", "电冰箱": "电冰香", "跑鞋": "跑谢"}
CHEAP = (("实惠的{w}", "affordable {w}"), ("平价{w}", "budget {w}"),
         ("学生{w}", "inexpensive {w}"), ("不太贵的{w}", "low cost {w}"))
PREMIUM = (("旗舰{w}", "flagship {w}"), ("高档{w}", "luxury {w}"), ("顶配{w}", "high-end {w}"),
           ("贵一点的{w}", "upscale {w}"))
CEILING = (("{c}元以内的{w}", "{w} below {c} yuan"), ("不超过{c}元的{w}", "{w} at most {c} yuan"),
           ("{w} {c}以下", "{w} less than {c} yuan"), ("预算{c}元的{w}", "{w} within {c} yuan"))
NEGATION = (("除了{b}以外的{w}", "{w} without {b}"), ("{w} 不要{b}", "{w} except {b}"),
            ("不想要{b}的{w}", "{w} but not {b}"))


def _other(words: Sequence[str]) -> str:
    return words[1] if len(words) > 1 else words[0]


def _absent(products: Sequence[Product]) -> list[Check]:
    sold = {w.lower() for leaf in LEAVES for w in (*leaf.words_zh, *leaf.words_en)}
    titles = " ".join(p.title.lower() for p in products)
    taken = {zh for zh, _ in ABSENT}
    out = []
    for zh, en in ABSENT_MORE:
        if zh in taken or zh in sold or en in sold or zh in titles or en in titles:
            continue
        out += [Check("absent_type", "zh", f"有{zh}吗" if len(out) % 4 == 0 else zh),
                Check("absent_type", "en", f"do you sell {en}?" if len(out) % 4 == 0 else en)]
    return out


def _second_brand(leaf: Any, items: list[Product]) -> Any | None:
    counts: dict[str, int] = {}
    for p in items:
        counts[p.brand] = counts.get(p.brand, 0) + 1
    brands = [BRANDS[key] for key, _ in leaf.brands if key in BRANDS]
    present = sorted((b for b in brands if counts.get(b.zh, 0) + counts.get(b.en, 0) >= 2
                      and b.zh != b.en),
                     key=lambda b: -(counts.get(b.zh, 0) + counts.get(b.en, 0)))
    if not present:
        return None
    return present[1] if len(present) > 1 else present[0]


def _typos(zh: str, en: str, leaf: str) -> list[Check]:
    out = []
    if zh in HOMOPHONES_MORE and zh not in HOMOPHONES:
        out.append(Check("typo", "zh", HOMOPHONES_MORE[zh], leaf))
    word = en.split()[-1] if en.strip() else ""
    if len(word) >= 7 and en == word:  # shorter prefixes are often words of their own
        out.append(Check("typo", "en", word[: len(word) - 2], leaf))  # still being typed
        swapped = word[:-2] + word[-1] + word[-2]
        if swapped != word:
            out.append(Check("typo", "en", swapped, leaf))
    return out


def held_out_checks(products: Sequence[Product]) -> list[Check]:
    """The held-out-style checks for the leaves `products` hold (>= 5 products each)."""
    checks = _absent(products)
    for i, leaf, items in leaves_held(products, 5):
        zh, en = _other(leaf.words_zh), _other(leaf.words_en).lower()
        cheap, premium = CHEAP[i % len(CHEAP)], PREMIUM[i % len(PREMIUM)]
        checks += [Check("in_catalogue", "zh", zh, leaf.path),
                   Check("in_catalogue", "en", en, leaf.path),
                   Check("parity", "en", en, leaf.path, pair=zh),
                   Check("value_cheap", "zh", cheap[0].format(w=zh), leaf.path, pair=zh),
                   Check("value_cheap", "en", cheap[1].format(w=en), leaf.path, pair=en),
                   Check("value_premium", "zh", premium[0].format(w=zh), leaf.path, pair=zh),
                   Check("value_premium", "en", premium[1].format(w=en), leaf.path, pair=en)]
        cheapest = min(p.price for p in items if p.price is not None)
        ceiling = max(int(cheapest * 0.6), 1)
        zh_c, en_c = CEILING[i % len(CEILING)]
        checks += [Check("ceiling_below_cheapest", "zh", zh_c.format(c=ceiling, w=zh), leaf.path),
                   Check("ceiling_below_cheapest", "en", en_c.format(c=ceiling, w=en),
                         leaf.path)]
        brand = _second_brand(leaf, items)
        if brand is not None:
            names = (brand.zh, brand.en)
            zh_n, en_n = NEGATION[i % len(NEGATION)]
            checks += [
                Check("negation", "zh", zh_n.format(b=brand.zh, w=zh), leaf.path, brand=names),
                Check("negation", "en", en_n.format(b=brand.en, w=en), leaf.path, brand=names),
                Check("brand_alias", "zh", f"{brand.zh}的{zh}", leaf.path,
                      pair=f"{en} {brand.en}", brand=names),
                Check("brand_alias", "en", f"{en} {brand.en}", leaf.path,
                      pair=f"{brand.zh}的{zh}", brand=names),
                Check("mixed_language", "mixed", f"{zh} {brand.en}", leaf.path, brand=names),
                Check("mixed_language", "mixed", f"{en} {brand.zh}", leaf.path, brand=names)]
        checks += _typos(zh, en, leaf.path)
        checks += _typos(leaf.words_zh[0], "", leaf.path)  # the first word's homophones
    return list({(c.prop, c.query): c for c in checks}.values())
