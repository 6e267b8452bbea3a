"""The fact checker: numbers, brands, claims and facts must trace to cited products."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shopsense.assistant.check import check_reply
from shopsense.assistant.facts import Fact
from shopsense.domain import Product

AC = Product("p1", "格力 云佳 空调 挂机 1.5匹", "冷暖两用，快速制冷制热。低噪运行，适合卧室。",
             "家电 > 空调", "格力", 2999.0, "CNY", {"power": "1.5匹", "colour": "白色"})
PHONES = Product("p2", "Sony WH-1000 Headphones, Black", "Waterproof, fine in the rain.",
                 "手机数码 > 耳机", "Sony", 899.0, "CNY", {"waterproof": True}, available=False)
PRODUCTS = {p.item_id: p for p in (AC, PHONES)}
BRANDS = {"格力", "美的", "Sony", "Apple", "HP"}
GOOD = "1. 格力 云佳 空调 挂机 1.5匹 — 2999元\n2. Sony WH-1000 Headphones, Black — 899元（暂时无货）"
GOOD_FACTS = [Fact("p1", "title", AC.title), Fact("p1", "price", 2999.0),
              Fact("p2", "title", PHONES.title), Fact("p2", "price", 899.0),
              Fact("p2", "available", False)]


def check(text: str, facts: list[Fact], constraints: dict | None = None):
    return check_reply(text, facts, PRODUCTS, BRANDS, constraints or {}, n_items=2)


def test_a_grounded_reply_passes() -> None:
    assert check(GOOD, GOOD_FACTS).ok


def test_an_invented_price_is_caught() -> None:
    report = check(GOOD + "\n现在只要 1999元！", GOOD_FACTS)
    assert not report.ok and report.invented_numbers == ["1999"]


def test_an_invented_brand_is_caught_and_ascii_brands_need_word_boundaries() -> None:
    report = check(GOOD + "\n美的也不错。", GOOD_FACTS)
    assert report.invented_brands == ["美的"]
    assert check(GOOD + "\nA cheaper pick.", GOOD_FACTS).ok  # "HP" is not inside "cheaper"
    assert check(GOOD + "\nOr try Apple.", GOOD_FACTS).invented_brands == ["Apple"]


def test_a_fact_that_does_not_match_the_product_is_caught() -> None:
    wrong = [*GOOD_FACTS[:1], Fact("p1", "price", 1999.0), *GOOD_FACTS[2:]]
    report = check(GOOD.replace("2999", "1999"), wrong)
    assert report.false_facts == [{"item_id": "p1", "field": "price", "value": 1999.0}]


def test_absence_claims_and_description_quotes_are_verified() -> None:
    assert check("没有列出防水", [Fact("p1", "attributes.waterproof", None)]).ok
    assert not check("没有列出防水", [Fact("p2", "attributes.waterproof", None)]).ok
    assert check("“低噪运行”", [Fact("p1", "description", "低噪运行")]).ok
    assert not check("“静音运行”", [Fact("p1", "description", "静音运行")]).ok


def test_claim_words_need_a_fact_about_that_field() -> None:
    report = check("It is waterproof.", [])
    assert report.unsupported_claims == ["attributes.waterproof"]
    assert check("waterproof: yes", [Fact("p2", "attributes.waterproof", True)]).ok


def test_constraint_echoes_are_checked_against_the_constraints() -> None:
    facts = [Fact(None, "constraint.price_max", 3000.0), Fact(None, "constraint.excluded_brands",
                                                              "Apple")]
    constraints = {"price_max": 3000.0, "excluded_brands": [["苹果", "Apple"]]}
    assert check("under CNY 3000; not Apple", facts, constraints).ok
    assert not check("under CNY 3000; not Apple", facts, {"price_max": 2000.0}).ok


def test_list_markers_beyond_the_cited_items_count_as_numbers() -> None:
    assert check("7. 格力 云佳 空调 挂机 1.5匹", GOOD_FACTS[:1]).invented_numbers == ["7"]


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=10**7))
def test_any_number_not_in_the_facts_is_flagged(number: int) -> None:
    report = check(f"{GOOD}\n另有优惠 {number}", GOOD_FACTS)
    assert report.ok == (str(number) in {"2999", "899"})  # only a fact's own written form


def test_a_number_inside_a_longer_number_is_not_a_match() -> None:
    cheap = Product("p3", "Tablet", price=999.0, currency="CNY")
    products = {**PRODUCTS, "p3": cheap}
    facts = [Fact(None, "constraint.price_max", 1999.0), Fact("p3", "price", 999.0)]
    for text in ("低于1999元：999元", "under CNY 1999: CNY 999"):
        assert check_reply(text, facts, products, BRANDS, {"price_max": 1999.0}, 1).ok
    report = check_reply("低于1999元：1999元", facts[1:], products, BRANDS, {}, 1)
    assert report.invented_numbers == ["1999", "1999"]


def test_yes_no_features_may_not_contradict_their_facts() -> None:
    dry = Product("p4", "Earbuds", category="手机数码 > 耳机", attributes={"waterproof": False})
    products = {**PRODUCTS, "p4": dry}
    no = [Fact("p4", "attributes.waterproof", False)]
    yes = [Fact("p2", "attributes.waterproof", True)]

    def ok(text: str, facts: list[Fact]) -> bool:
        return check_reply(text, facts, products, BRANDS, {}, 1).ok

    assert ok("防水：否", no) and ok("waterproof: no", no) and ok("它不防水。", no)
    assert ok("It is not waterproof.", no)
    assert not ok("目录中没有列出防水", [])  # rule 3: an absence claim needs its (None) fact
    assert ok("目录中没有列出防水", [Fact("p1", "attributes.waterproof", None)])
    assert not ok("这款耳机防水，放心用。", no)
    assert not ok("Great news: it is waterproof!", no)
    assert ok("防水：是", yes) and ok("Yes, it is waterproof.", yes)
    assert not ok("可惜它不防水。", yes) and not ok("It isn't waterproof.", yes)


def test_polarity_reads_the_stated_value_and_adjacent_negation_only() -> None:
    facts = [Fact(None, "constraint.attributes.waterproof", True)]
    wish = {"attributes": {"waterproof": [True]}}
    for text in ("Nothing matches (not Huawei; waterproof: yes).",
                 "Without “waterproof: yes” there are matches.", "如果不限“防水：是”，就有可选的商品。"):
        assert check_reply(text, facts, PRODUCTS, BRANDS - {"Huawei"}, wish, 0).ok, text
    dry = [Fact("p1", "attributes.waterproof", None), Fact("p2", "attributes.waterproof", True)]
    for text in ("A: the catalogue does not list its waterproof.\nB: waterproof: yes.",
                 "A：目录中没有列出防水。\nB：防水：是。"):
        assert check_reply(text, dry, PRODUCTS, BRANDS, {}, 2).ok, text
