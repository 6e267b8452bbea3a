"""Hand-checkable demo search queries with the answer a correct search should give.

Each record of queries.jsonl names the category a correct search returns, and the constraints
the query carries, written in the catalogue's own vocabulary like a `QueryReading`:
`brand` / `exclude_brands` are alias lists (["格力", "Gree"]), `attributes` maps a key to the
attribute values that satisfy it in either language, and `price_min` / `price_max` are CNY (inclusive).
Dollar amounts in English queries are converted at the fixed demo rate 7.2 CNY per USD
(recorded in `usd_to_cny` on those records); yuan amounts are taken as they are.
`cross_lingual` is true when the query is not written in the tree's language (Chinese), so
reaching `expected_category` needs cross-lingual matching.

judgments.jsonl grades items for every query: 2 when the item is in the expected category and
meets every constraint, 1 when it is in the category but misses one; other items are 0
(not listed).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from shopsense.demo.brands import BRANDS
from shopsense.demo.catalog import DemoItem
from shopsense.demo.taxonomy import LEAF_BY_PATH
from shopsense.demo.vocab import USD_TO_CNY

AC, FRIDGE, WASHER, TV, ROBOT = "家电 > 空调", "家电 > 冰箱", "家电 > 洗衣机", "家电 > 电视", "家电 > 扫地机器人"
PHONE, EAR, TABLET, WATCH, CASE = ("手机数码 > 手机", "手机数码 > 耳机", "手机数码 > 平板",
                                   "手机数码 > 智能手表", "手机数码 > 手机壳")
LAPTOP, MONITOR, MOUSE = "电脑办公 > 笔记本", "电脑办公 > 显示器", "电脑办公 > 鼠标"
TEE, DRESS, DOWN = "服饰 > 男装 > T恤", "服饰 > 女装 > 连衣裙", "服饰 > 羽绒服"
SNEAKER, BOOT = "鞋靴 > 运动鞋", "鞋靴 > 靴子"
CREAM, LIPSTICK, SHAMPOO = "美妆护肤 > 面霜", "美妆护肤 > 口红", "美妆护肤 > 洗发水"
SNACK, COFFEE, TEA, MILK = "食品 > 零食", "食品 > 咖啡", "食品 > 茶叶", "食品 > 牛奶"
DIAPER, FORMULA, TOY = "母婴 > 纸尿裤", "母婴 > 奶粉", "母婴 > 儿童玩具"
TENT, BAG, MAT, BED = "运动户外 > 帐篷", "运动户外 > 睡袋", "运动户外 > 瑜伽垫", "家居 > 床品"


def _attr(path: str, key: str, value: Any) -> list[Any]:
    """Both language forms of one attribute value of a leaf; raises if the leaf lacks it."""
    for pair in LEAF_BY_PATH[path].attrs[key].values:
        if value in pair:
            return list(dict.fromkeys(pair))
    raise KeyError(f"{path}: {key}={value!r} is not a catalogue value")


def _q(query: str, lang: str, path: str, *, brand: str | None = None, attrs: dict[str, Any] | None = None,
       price_max: float | None = None, usd_max: float | None = None, exclude: str | None = None,
       price_min: float | None = None, usd_min: float | None = None,
       value: str | None = None, tags: tuple[str, ...] = ()) -> dict[str, Any]:
    if path not in LEAF_BY_PATH:
        raise KeyError(f"unknown leaf {path}")
    if usd_max is not None:
        price_max = round(usd_max * USD_TO_CNY, 2)
    if usd_min is not None:
        price_min = round(usd_min * USD_TO_CNY, 2)
    return {
        "query": query, "lang": lang, "expected_category": path, "cross_lingual": lang != "zh",
        "brand": list(BRANDS[brand].aliases()) if brand else None,
        "exclude_brands": [list(BRANDS[exclude].aliases())] if exclude else [],
        "attributes": {k: _attr(path, k, v) for k, v in (attrs or {}).items()},
        "price_min": price_min, "price_max": price_max,
        "usd_to_cny": USD_TO_CNY if usd_max is not None or usd_min is not None else None,
        "value_preference": value, "tags": list(tags),
    }


_QUERIES = (
    _q("想要买一台性价比高的空调", "zh", AC, value="value", tags=("natural",)),
    _q("格力空调 1.5匹", "zh", AC, brand="gree", attrs={"power": "1.5匹"}),
    _q("美的变频空调 新一级能效", "zh", AC, brand="midea", attrs={"energy_class": "新一级能效"}),
    _q("海尔冰箱 对开门", "zh", FRIDGE, brand="haier", attrs={"doors": "十字对开门"}),
    _q("滚筒洗衣机 10kg", "zh", WASHER, attrs={"type": "滚筒", "capacity": "10kg"}),
    _q("小天鹅洗衣机", "zh", WASHER, brand="littleswan"),
    _q("65寸电视", "zh", TV, attrs={"screen_size": "65英寸"}),
    _q("扫地机器人 自动集尘", "zh", ROBOT, attrs={"type": "自动集尘"}),
    _q("华为手机 256GB", "zh", PHONE, brand="huawei", attrs={"capacity": "256GB"}),
    _q("苹果手机", "zh", PHONE, brand="apple", tags=("ambiguous",)),
    _q("2000元以下的手机", "zh", PHONE, price_max=2000, tags=("price",)),
    _q("手机 不要苹果", "zh", PHONE, exclude="apple", tags=("negation",)),
    _q("降噪蓝牙耳机", "zh", EAR, attrs={"noise_cancelling": True}),
    _q("防水耳机 运动用", "zh", EAR, attrs={"waterproof": True}),
    _q("学习用的平板电脑", "zh", TABLET, tags=("natural",)),
    _q("华为手表", "zh", WATCH, brand="huawei"),
    _q("iphone 15 手机壳", "mixed", CASE, attrs={"fits": "iPhone 15"}, tags=("mixed",)),
    _q("联想笔记本 32GB", "zh", LAPTOP, brand="lenovo", attrs={"memory": "32GB"}),
    _q("轻薄笔记本电脑", "zh", LAPTOP),
    _q("27寸 4K 显示器", "zh", MONITOR, attrs={"screen_size": "27英寸", "resolution": "4K"}),
    _q("罗技无线鼠标", "zh", MOUSE, brand="logitech", attrs={"connection": "无线"}),
    _q("纯棉男士T恤 白色", "zh", TEE, attrs={"material": "纯棉", "colour": "白色"}),
    _q("夏季碎花连衣裙", "zh", DRESS),
    _q("红色连衣裙 200元以内", "zh", DRESS, attrs={"colour": "红色"}, price_max=200, tags=("price",)),
    _q("波司登羽绒服 女", "zh", DOWN, brand="bosideng", attrs={"gender": "女"}),
    _q("李宁跑步鞋 男", "zh", SNEAKER, brand="lining", attrs={"gender": "男"}),
    _q("防水靴子", "zh", BOOT, attrs={"waterproof": True}),
    _q("兰蔻面霜", "zh", CREAM, brand="lancome"),
    _q("干皮保湿面霜", "zh", CREAM, attrs={"skin_type": "干性"}),
    _q("豆沙色口红", "zh", LIPSTICK, attrs={"colour": "豆沙色"}),
    _q("去屑洗发水", "zh", SHAMPOO, attrs={"hair_type": "去屑"}),
    _q("三只松鼠零食大礼包", "zh", SNACK, brand="threesquirrels"),
    _q("速溶咖啡", "zh", COFFEE, attrs={"type": "速溶"}),
    _q("云南普洱茶", "zh", TEA, attrs={"type": "普洱", "origin": "云南"}),
    _q("伊利纯牛奶", "zh", MILK, brand="yili"),
    _q("帮宝适纸尿裤 L码", "zh", DIAPER, brand="pampers", attrs={"size": "L"}),
    _q("婴儿奶粉 1段", "zh", FORMULA, attrs={"stage": "1段"}),
    _q("乐高积木", "zh", TOY, brand="lego"),
    _q("露营帐篷 防水 3-4人", "zh", TENT, attrs={"waterproof": True, "persons": "3-4人"}),
    _q("零下睡袋", "zh", BAG, attrs={"temperature": "-5℃"}),
    _q("加厚瑜伽垫 10mm", "zh", MAT, attrs={"thickness": "10mm"}),
    _q("全棉四件套 1.8米床", "zh", BED, attrs={"material": "纯棉", "bed_size": "1.8m床"}),
    _q("给老婆买支口红", "zh", LIPSTICK, tags=("natural", "gift")),
    _q("有没有不到100块的零食", "zh", SNACK, price_max=100, tags=("natural", "price")),
    _q("空掉 1.5匹", "zh", AC, attrs={"power": "1.5匹"}, tags=("typo",)),
    _q("air conditioner", "en", AC),
    _q("gree inverter ac 1.5 hp", "en", AC, brand="gree", attrs={"power": "1.5 HP"}),
    _q("french door fridge", "en", FRIDGE, attrs={"doors": "French-door"}),
    _q("front load washing machine", "en", WASHER, attrs={"type": "front-load"}),
    _q("75 inch 4k tv", "en", TV, attrs={"screen_size": "75 inch"}),
    _q("robot vacuum cleaner", "en", ROBOT),
    _q("huawei phone", "en", PHONE, brand="huawei"),
    _q("iphone 256gb", "en", PHONE, brand="apple", attrs={"capacity": "256GB"}),
    _q("cheap smartphone under $300", "en", PHONE, usd_max=300, value="cheap", tags=("price",)),
    _q("noise cancelling headphones", "en", EAR, attrs={"noise_cancelling": True}),
    _q("sony headphones", "en", EAR, brand="sony"),
    _q("tablet for drawing", "en", TABLET, tags=("natural",)),
    _q("waterproof smartwatch", "en", WATCH, attrs={"waterproof": True}),
    _q("leather phone case", "en", CASE, attrs={"material": "leather"}),
    _q("laptop with 32gb ram", "en", LAPTOP, attrs={"memory": "32GB"}),
    _q("macbook", "en", LAPTOP, brand="apple", tags=("model_line",)),
    _q("wireless mouse", "en", MOUSE, attrs={"connection": "wireless"}),
    _q("white cotton t-shirt for men", "en", TEE, attrs={"colour": "white", "material": "cotton"}),
    _q("floral summer dress", "en", DRESS),
    _q("women's down jacket", "en", DOWN, attrs={"gender": "women"}),
    _q("nike running shoes", "en", SNEAKER, brand="nike"),
    _q("waterproof boots under $80", "en", BOOT, attrs={"waterproof": True}, usd_max=80, tags=("price",)),
    _q("moisturizer for dry skin", "en", CREAM, attrs={"skin_type": "dry"}),
    _q("red lipstick", "en", LIPSTICK, attrs={"colour": "red"}),
    _q("anti dandruff shampoo", "en", SHAMPOO, attrs={"hair_type": "anti-dandruff"}),
    _q("spicy snacks", "en", SNACK, attrs={"flavour": "spicy"}),
    _q("coffee beans", "en", COFFEE, attrs={"type": "whole bean"}),
    _q("green tea", "en", TEA, attrs={"type": "green"}),
    _q("organic milk", "en", MILK, attrs={"type": "organic"}),
    _q("diapers size m", "en", DIAPER, attrs={"size": "M"}),
    _q("baby formula stage 2", "en", FORMULA, attrs={"stage": "Stage 2"}),
    _q("lego building blocks", "en", TOY, brand="lego"),
    _q("4 person camping tent", "en", TENT, attrs={"persons": "3-4 person"}),
    _q("sleeping bag for camping", "en", BAG),
    _q("non slip yoga mat", "en", MAT),
    _q("silk bedding set", "en", BED, attrs={"material": "silk"}),
    _q("runing shoes", "en", SNEAKER, tags=("typo",)),
    _q("labtop 16 inch", "en", LAPTOP, attrs={"screen_size": "16 inch"}, tags=("typo",)),
    _q("华为 earphones", "mixed", EAR, brand="huawei", tags=("mixed",)),
    _q("nike 运动鞋 男", "mixed", SNEAKER, brand="nike", attrs={"gender": "男"}, tags=("mixed",)),
    _q("1000-2000元的洗衣机", "zh", WASHER, price_min=1000, price_max=2000, tags=("price",)),
    _q("headphones $50-$100", "en", EAR, usd_min=50, usd_max=100, tags=("price",)),
    _q("女士跑步鞋 37码", "zh", SNEAKER, attrs={"gender": "女", "size": "37"}),
    _q("iPad 平板", "mixed", TABLET, brand="apple", tags=("mixed", "model_line")),
)


def demo_queries() -> list[dict[str, Any]]:
    """The queries.jsonl records, with ids dq001…"""
    return [{"query_id": f"dq{n + 1:03d}", **record} for n, record in enumerate(_QUERIES)]


def satisfies(record: dict[str, Any], query: dict[str, Any]) -> bool:
    """Does a products.jsonl record meet every constraint of a demo query (category aside)?"""
    if query["brand"] and record["brand"] not in query["brand"]:
        return False
    if any(record["brand"] in aliases for aliases in query["exclude_brands"]):
        return False
    attributes = record["attributes"]
    if any(attributes.get(k) not in values for k, values in query["attributes"].items()):
        return False
    if query["price_max"] is not None and record["price"] > query["price_max"]:
        return False
    return not (query["price_min"] is not None and record["price"] < query["price_min"])


def in_category(record: dict[str, Any], path: str) -> bool:
    return record["category"] == path or record["category"].startswith(path + " > ")


def demo_judgments(queries: list[dict[str, Any]], items: list[DemoItem]) -> Iterator[dict[str, Any]]:
    """judgments.jsonl rows (query_id, query, item_id, relevance) for every demo query."""
    for query in queries:
        for item in items:
            if in_category(item.record, query["expected_category"]):
                gain = 2 if satisfies(item.record, query) else 1
                yield {"query_id": query["query_id"], "query": query["query"],
                       "item_id": item.item_id, "relevance": gain}
