"""What demo shoppers type into the search box, and which constraints their words carry.

Queries are in the shopper's language: a product word, often a brand, sometimes an attribute
or a price phrase ("500元以下", "under $80" = 80 × 7.2 CNY), now and then with a typo.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from shopsense.demo.brands import BRANDS
from shopsense.demo.taxonomy import Leaf
from shopsense.demo.vocab import FLAG_TITLE_WORDS, USD_TO_CNY

# Keys a shopper may put into a query; sizes and ages stay on the product page.
QUERYABLE = ("colour", "power", "capacity", "type", "material", "screen_size", "waterproof",
             "noise_cancelling", "gender", "flavour", "hair_type", "persons", "connection", "fill",
             "skin_type", "memory", "doors", "stage", "finish", "thickness")
ZH_TYPOS = {"耳机": "耳鸡", "手机": "手几", "笔记本": "笔记苯", "连衣裙": "连衣群", "洗发水": "洗发氺",
            "羽绒服": "羽绒副", "运动鞋": "运东鞋", "空调": "空掉", "冰箱": "冰相", "帐篷": "帐蓬",
            "瑜伽垫": "瑜珈垫", "纸尿裤": "纸尿库", "咖啡": "咖非", "口红": "口虹", "面霜": "面箱"}
PINYIN = {"空调": "kongtiao", "冰箱": "bingxiang", "洗衣机": "xiyiji", "手机": "shouji", "耳机": "erji",
          "连衣裙": "lianyiqun", "羽绒服": "yurongfu", "运动鞋": "yundongxie", "口红": "kouhong",
          "零食": "lingshi", "咖啡": "kafei", "纸尿裤": "niaobushi", "帐篷": "zhangpeng"}
ZH_FILLERS = ("", "", "", "", "想买", "推荐", "性价比高的", "好用的", "2026新款")
EN_FILLERS = ("", "", "", "", "best ", "cheap ", "good ", "new ")


@dataclass(frozen=True, slots=True)
class QueryIntent:
    """What a typed query asks for, in catalogue terms (used to pick the clicked results)."""

    text: str
    brand: str | None = None  # brand key
    attr: tuple[str, int] | None = None  # (attribute key, value index)
    price_min: float | None = None  # CNY
    price_max: float | None = None  # CNY


def nice_number(x: float) -> int:
    """Round to 1, 2, 3, 5 × 10^k — how people write price limits."""
    if x <= 1:
        return 1
    exp = 10 ** math.floor(math.log10(x))
    return int(min((1, 2, 3, 5, 10), key=lambda m: abs(m * exp - x)) * exp)


def _attr_word(leaf: Leaf, key: str, idx: int, lang: str) -> str | None:
    value = leaf.attrs[key].values[idx][0 if lang == "zh" else 1]
    if isinstance(value, bool):
        return FLAG_TITLE_WORDS[key][0 if lang == "zh" else 1].lower() if value else None
    if key == "gender":
        return {"男": "男士", "女": "女士", "men": "men's", "women": "women's"}.get(value)
    return str(value)


def _typo(rng: random.Random, text: str, lang: str) -> str:
    if lang == "zh":
        for right, wrong in ZH_TYPOS.items():
            if right in text:
                return text.replace(right, wrong, 1)
        return text
    words = text.split(" ")
    long = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not long:
        return text
    i = rng.choice(long)
    w = words[i]
    j = rng.randrange(1, len(w) - 1)
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:] if rng.random() < 0.5 else w[:j] + w[j + 1:]
    return " ".join(words)


def _price_phrase(rng: random.Random, leaf: Leaf, centre: float,
                  lang: str) -> tuple[str, float | None, float]:
    """(phrase, price_min or None, price_max) in CNY: "500元以下", "1000-2000元", "under $80"."""
    lo, hi = leaf.price
    target = math.exp(math.log(lo) + min(1.0, centre + rng.uniform(0.05, 0.3)) * (math.log(hi) - math.log(lo)))
    ranged = rng.random() < 0.25
    if lang == "zh":
        n = nice_number(target)
        if ranged and nice_number(n / 2) < n:
            m = nice_number(n / 2)
            return rng.choice((f"{m}-{n}元", f"{m}到{n}元")), float(m), float(n)
        return rng.choice((f"{n}元以下", f"{n}以内", f"{n}块以下", f"{n}元以内")), None, float(n)
    usd = nice_number(target / USD_TO_CNY)
    if ranged and nice_number(usd / 2) < usd:
        low = nice_number(usd / 2)
        return f"${low}-${usd}", round(low * USD_TO_CNY, 2), round(usd * USD_TO_CNY, 2)
    phrase = rng.choice((f"under ${usd}", f"below ${usd}", f"under {usd} dollars"))
    return phrase, None, round(usd * USD_TO_CNY, 2)


def make_query(rng: random.Random, leaf: Leaf, lang: str, favourites: frozenset[str],
               price_centre: float, example: dict[str, int]) -> QueryIntent:
    """A query a shopper who speaks `lang` might type to find something in `leaf`.

    `example` is the attribute index map of an item the shopper has in mind; a queried
    attribute is taken from it so that the query can be satisfied.
    """
    words = leaf.words_zh if lang == "zh" else leaf.words_en
    word = words[0] if rng.random() < 0.6 else rng.choice(words)
    brand_key = None
    if rng.random() < 0.35:
        fav = [k for k, _ in leaf.brands if k in favourites]
        brand_key = rng.choice(fav) if fav and rng.random() < 0.8 else rng.choice(leaf.brands)[0]
    attr, attr_word = None, None
    keys = [k for k in QUERYABLE if k in example and len(leaf.attrs[k].values) > 1]
    if keys and rng.random() < 0.3:
        key = rng.choice(keys)
        attr_word = _attr_word(leaf, key, example[key], lang)
        attr = (key, example[key]) if attr_word else None
    price_text, price_min, price_max = "", None, None
    if rng.random() < 0.12:
        price_text, price_min, price_max = _price_phrase(rng, leaf, price_centre, lang)
    if lang == "zh" and not brand_key and not attr and not price_text and word in PINYIN \
            and rng.random() < 0.06:
        return QueryIntent(text=PINYIN[word])  # typed without switching the input method
    text = _compose(rng, lang, word, brand_key, attr_word, price_text)
    if rng.random() < 0.05:
        text = _typo(rng, text, lang)
    return QueryIntent(text=text, brand=brand_key, attr=attr, price_min=price_min, price_max=price_max)


def _compose(rng: random.Random, lang: str, word: str, brand_key: str | None,
             attr_word: str | None, price_text: str) -> str:
    brand = BRANDS[brand_key] if brand_key else None
    if lang == "zh":
        name = ""
        if brand:
            name = brand.en.lower() if rng.random() < 0.15 else brand.zh
        filler = rng.choice(ZH_FILLERS) if not brand else ""
        head = f"{name}{word}" if rng.random() < 0.5 else " ".join(p for p in (name, word) if p)
        parts = [attr_word, head] if attr_word and rng.random() < 0.5 else [head, attr_word]
        return filler + " ".join(p for p in [*parts, price_text] if p)
    filler = rng.choice(EN_FILLERS) if not brand and not price_text else ""
    parts = [brand.en if brand else None, attr_word, word, price_text]
    text = filler + " ".join(p for p in parts if p)
    return text.lower() if rng.random() < 0.8 else text
