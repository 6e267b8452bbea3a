"""Price bounds and value preference, zh + en, including Chinese numerals and currencies."""

from __future__ import annotations

import pytest

from shopsense.text.understand.numerals import find_numbers, parse_chinese_number
from shopsense.text.understand.price import PriceParser

PARSER = PriceParser(shop_currency="CNY", rates={"CNY": 1.0, "USD": 7.2})


@pytest.mark.parametrize(("text", "value"), [
    ("一千", 1000), ("两千", 2000), ("两千五", 2500), ("一万二", 12000), ("三百", 300),
    ("十五", 15), ("五百", 500), ("一万", 10000), ("三千五百", 3500),
])
def test_chinese_numerals(text: str, value: float) -> None:
    assert parse_chinese_number(text) == value


def test_numbers_found_with_spans() -> None:
    found = find_numbers("1.5万以内 或 3k 或 1,299.5")
    assert [n.value for n in found] == [15000, 3000, 1299.5]
    assert find_numbers("一级能效") == []  # a lone 一 is a word, not a quantity


def bounds(query: str) -> tuple[float | None, float | None]:
    reading = PARSER.parse(query)
    low = reading.price_min.value if reading.price_min else None
    high = reading.price_max.value if reading.price_max else None
    return low, high


@pytest.mark.parametrize(("query", "expected"), [
    ("500元以下的耳机", (None, 500)),
    ("耳机500以内", (None, 500)),
    ("五百元以内", (None, 500)),
    ("一千到两千的手机", (1000, 2000)),
    ("1000-2000元", (1000, 2000)),
    ("价格在100到200之间", (100, 200)),
    ("两千以上", (2000, None)),
    ("2000元以上", (2000, None)),
    ("不超过300块", (None, 300)),
    ("预算3000", (None, 3000)),
    ("3k以内的笔记本", (None, 3000)),
    ("1.5万以上", (15000, None)),
    ("500左右", (400, 600)),
    ("under $80 headphones", (None, 576)),
    ("below 80 dollars", (None, 576)),
    ("less than 200", (None, 200)),
    ("phones over $500", (3600, None)),
    ("above 1000 yuan", (1000, None)),
    ("between 100 and 200", (100, 200)),
    ("from $50 to $100", (360, 720)),
    ("50 dollars or less", (None, 360)),
    ("running shoes under 100 bucks", (None, 720)),
])
def test_price_bounds(query: str, expected: tuple[float | None, float | None]) -> None:
    assert bounds(query) == expected


@pytest.mark.parametrize("query", [
    "3-4人帐篷", "256GB手机", "0-6个月奶粉", "55 inch tv", "1.5匹空调", "iphone 15", "5w充电宝",
])
def test_quantities_are_not_prices(query: str) -> None:
    assert bounds(query) == (None, None)


def test_price_span_covers_the_phrase() -> None:
    query = "格力空调 3000元以下 1.5匹"
    reading = PARSER.parse(query)
    start, end = reading.price_max.span
    assert query[start:end] == "3000元以下"
    assert reading.price_max.confidence >= 0.9


def test_usd_rate_is_configurable_and_shop_currency_respected() -> None:
    assert PriceParser(rates={"CNY": 1.0, "USD": 7.0}).parse("under $10").price_max.value == 70
    usd_shop = PriceParser(shop_currency="USD", rates={"CNY": 1.0, "USD": 7.2})
    assert usd_shop.parse("under $10").price_max.value == 10
    assert usd_shop.parse("72元以下").price_max.value == 10


@pytest.mark.parametrize(("query", "preference"), [
    ("cheap phone", "cheap"), ("便宜的耳机", "cheap"), ("affordable laptop", "cheap"),
    ("性价比高的空调", "value"), ("best value tv", "value"),
    ("高端手机", "premium"), ("luxury face cream", "premium"), ("旗舰手机", "premium"),
    ("laptop for students", "cheap"), ("适合学生的笔记本", "cheap"),
])
def test_value_preference(query: str, preference: str) -> None:
    assert PARSER.parse(query).value_preference.value == preference


@pytest.mark.parametrize(("query", "preference"), [
    ("最贵的手机", "premium"), ("贵的耳机", "premium"), ("昂贵的面霜", "premium"),
    ("most expensive phone", "premium"), ("expensive headphones", "premium"),
    ("priciest tv", "premium"), ("pricey moisturizer", "premium"),
    ("inexpensive headphones", "cheap"), ("not so expensive laptop", "cheap"),
    ("不要太贵的手机", "cheap"), ("别太贵的耳机", "cheap"), ("不贵的口红", "cheap"),
    ("lowest price fridge", "cheap"),
])
def test_dearness_words_are_value_words(query: str, preference: str) -> None:
    """"The most expensive" asks for the dear end as "high-end" does; a negated one (不要太贵,
    not so expensive, inexpensive) for the cheap end: the longer phrase wins."""
    assert PARSER.parse(query).value_preference.value == preference


def test_no_value_words_in_plain_queries() -> None:
    assert PARSER.parse("budgeting app").value_preference is None
    assert PARSER.parse("红色连衣裙").value_preference is None


@pytest.mark.parametrize(("query", "preference", "text"), [
    ("档次高一点的保护壳", "premium", "档次高一点"), ("好一点的平板，贵点没关系", "premium", "好一点"),
    ("top of the line tee", "premium", "top of the line"), ("top-end puffer jacket", "premium", "top-end"),
    ("运动手表便宜点的", "cheap", "便宜点"), ("有没有便宜一些的耳机", "cheap", "便宜一些"),
    ("washer that doesn't cost much", "cheap", "doesn't cost much"),
    ("性价比高的手机", "value", "性价比高"),
])
def test_value_words_take_their_degree_words(query: str, preference: str, text: str) -> None:
    """A value word and its degree words (便宜点, 档次高一点) are one span, so no leftover 点 /
    一点 is read as a product type."""
    slot = PARSER.parse(query).value_preference
    assert slot is not None and slot.value == preference
    assert query[slot.span[0]:slot.span[1]] == text


@pytest.mark.parametrize(("query", "expected"), [
    ("价格在1400和3800之间的平板", (1400, 3800)), ("1000与2000元之间的手机", (1000, 2000)),
    ("phone between 1000 and 2000 yuan", (1000, 2000)),
])
def test_ranges_joined_by_and(query: str, expected: tuple[float, float]) -> None:
    assert bounds(query) == expected
