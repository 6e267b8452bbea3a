"""Shared bilingual vocabulary of the demo shop: colours, attribute specs and their labels.

Every attribute value is a (zh, en) pair; language-neutral values (``256GB``) are the same in
both slots. A listing stores the slot of its own language.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

USD_TO_CNY = 7.2  # fixed demo exchange rate: "$80" in an English query means 80 * 7.2 CNY

COLOURS: dict[str, tuple[str, str]] = {
    "white": ("白色", "white"), "black": ("黑色", "black"), "red": ("红色", "red"),
    "blue": ("蓝色", "blue"), "grey": ("灰色", "grey"), "pink": ("粉色", "pink"),
    "green": ("绿色", "green"), "silver": ("银色", "silver"), "gold": ("金色", "gold"),
    "purple": ("紫色", "purple"), "beige": ("米色", "beige"), "brown": ("棕色", "brown"),
    "navy": ("藏青色", "navy"), "khaki": ("卡其色", "khaki"), "yellow": ("黄色", "yellow"),
}

Pair = tuple[Any, Any]


@dataclass(frozen=True, slots=True)
class AttrSpec:
    """The values one attribute of one category can take, as (zh, en) pairs.

    `price_driver`: later values cost more (1匹 < 1.5匹 < 2匹), so they shift the price up.
    `in_title`: the value is written into titles (colours, capacities), not only into attributes.
    """

    values: tuple[Pair, ...]
    weights: tuple[float, ...] | None = None
    price_driver: bool = False
    in_title: bool = True


def pairs(*items: str | Pair) -> tuple[Pair, ...]:
    """`pairs("128GB", ("白色", "white"))` -> (("128GB", "128GB"), ("白色", "white"))."""
    return tuple(item if isinstance(item, tuple) else (item, item) for item in items)


def colours(*keys: str) -> AttrSpec:
    return AttrSpec(tuple(COLOURS[k] for k in keys))


def flag(p_true: float, *, in_title: bool = True) -> AttrSpec:
    return AttrSpec(((True, True), (False, False)), (p_true, 1.0 - p_true), in_title=in_title)


def const(value: Any) -> AttrSpec:
    return AttrSpec(((value, value),), in_title=False)


GENDER_BOTH = AttrSpec((("男", "men"), ("女", "women")))
GENDER_MEN = AttrSpec((("男", "men"),))
GENDER_WOMEN = AttrSpec((("女", "women"),))
SIZES_CLOTHES = AttrSpec(pairs("S", "M", "L", "XL", "XXL"), (0.15, 0.3, 0.3, 0.17, 0.08),
                         in_title=False)
SIZES_SHOES = AttrSpec((("35", "US 4"), ("36", "US 4.5"), ("37", "US 5"), ("38", "US 6"),
                        ("39", "US 7"), ("40", "US 7.5"), ("41", "US 8"), ("42", "US 9"),
                        ("43", "US 10"), ("44", "US 10.5"), ("45", "US 11")), in_title=False)
# Shoe size index range by gender value (zh): women 35-40, men 39-45.
SHOE_SIZES_BY_GENDER = {"女": (0, 5), "男": (4, 10)}
ENERGY = AttrSpec((("新三级能效", "Energy Class 3"), ("新二级能效", "Energy Class 2"),
                   ("新一级能效", "Energy Class 1")), (0.3, 0.2, 0.5), price_driver=True)
PHONE_STORAGE = AttrSpec(pairs("128GB", "256GB", "512GB", "1TB"), (0.3, 0.4, 0.25, 0.05),
                         price_driver=True)

# How attribute keys read in descriptions, (zh, en).
LABELS: dict[str, tuple[str, str]] = {
    "colour": ("颜色", "colour"), "size": ("尺码", "size"), "capacity": ("容量", "capacity"),
    "power": ("匹数", "power"), "energy_class": ("能效等级", "energy class"),
    "material": ("材质", "material"), "gender": ("适用人群", "for"),
    "age_group": ("适用年龄", "age group"), "flavour": ("口味", "flavour"),
    "weight": ("净含量", "net weight"), "volume": ("容量", "volume"),
    "screen_size": ("屏幕尺寸", "screen size"), "type": ("类型", "type"),
    "memory": ("内存", "memory"), "storage": ("硬盘", "storage"),
    "noise_cancelling": ("主动降噪", "noise cancelling"), "connection": ("连接方式", "connection"),
    "resolution": ("分辨率", "resolution"), "skin_type": ("适合肤质", "skin type"),
    "hair_type": ("适用发质", "hair type"), "doors": ("门型", "door style"),
    "fill": ("填充物", "filling"), "thickness": ("厚度", "thickness"),
    "persons": ("适用人数", "sleeps"), "bed_size": ("适用床尺寸", "bed size"),
    "temperature": ("适用温度", "comfort temperature"), "refresh_rate": ("刷新率", "refresh rate"),
    "stage": ("段数", "stage"), "pieces": ("颗粒数", "pieces"), "origin": ("产地", "origin"),
    "waterproof": ("防水", "waterproof"), "model": ("型号", "model"), "network": ("网络", "network"),
    "fits": ("适用机型", "fits"), "finish": ("质地", "finish"),
}

# Description phrases for boolean attributes: key -> ((zh true, zh false), (en true, en false)).
FLAG_SENTENCES: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "waterproof": (("防水设计，雨天也能放心使用", "不防水，请避免长时间淋雨或浸水"),
                   ("Waterproof, fine in the rain", "Not waterproof; keep it out of heavy rain")),
    "noise_cancelling": (("支持主动降噪", "不支持主动降噪"),
                         ("Active noise cancelling", "No active noise cancelling")),
}

# Title words for boolean attributes that are true: key -> (zh, en).
FLAG_TITLE_WORDS: dict[str, tuple[str, str]] = {
    "waterproof": ("防水", "Waterproof"),
    "noise_cancelling": ("主动降噪", "Noise Cancelling"),
}

# Gender as written in titles: stored value -> title word.
GENDER_TITLE: dict[str, str] = {"男": "男款", "女": "女款", "men": "Men's", "women": "Women's"}
