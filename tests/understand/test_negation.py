"""Negation and exclusion scope: what is excluded, and what stays a positive constraint."""

from __future__ import annotations

import pytest

from shopsense.text.understand.rules import negation_cues


def exclusions(reading) -> list:
    return [s.value for s in reading.exclusions]


def test_cues_found_in_both_languages() -> None:
    assert [c.text for c in negation_cues("不要苹果")] == ["不要"]
    assert [c.text.lower() for c in negation_cues("shoes not Nike, without laces")] == ["not", "without"]


def test_brand_exclusion_leaves_product_positive(understander) -> None:
    reading = understander.understand("不要苹果的手机")
    assert exclusions(reading) == [("brand", ("苹果", "Apple"))]
    assert reading.brands == ()
    assert reading.category.value == "手机数码 > 手机"
    assert "苹果" not in reading.residual


def test_scope_spans_a_list_of_brands(understander) -> None:
    for query in ("跑步鞋 不要耐克和阿迪达斯", "running shoes not nike or adidas"):
        reading = understander.understand(query)
        kinds = sorted(v[0] for v in exclusions(reading))
        assert kinds == ["brand", "brand"], query
        assert reading.category.value == "鞋靴 > 运动鞋"


@pytest.mark.parametrize("query", ["不要耐克，要阿迪达斯的跑步鞋", "not nike but adidas running shoes"])
def test_scope_stops_at_a_clause_boundary(understander, query: str) -> None:
    reading = understander.understand(query)
    assert exclusions(reading) == [("brand", ("耐克", "Nike"))]
    assert [s.value for s in reading.brands] == [("阿迪达斯", "Adidas")]
    assert reading.category.value == "鞋靴 > 运动鞋"


def test_scope_does_not_run_on_into_the_product(understander) -> None:
    reading = understander.understand("not nike running shoes")
    assert exclusions(reading) == [("brand", ("耐克", "Nike"))]
    assert reading.category.value == "鞋靴 > 运动鞋"


@pytest.mark.parametrize(("query", "expected"), [
    ("除了红色的连衣裙", ("attribute", ("colour", ("红色", "正红色", "red")))),
    ("dress except red", ("attribute", ("colour", ("红色", "正红色", "red")))),
    ("coffee without sugar", ("term", "sugar")),
    ("不含糖的零食", ("term", "糖")),
])
def test_attribute_and_term_exclusions(understander, query: str, expected: tuple) -> None:
    assert exclusions(understander.understand(query)) == [expected]


def test_negation_inside_a_word_is_not_negation(understander) -> None:
    reading = understander.understand("无线鼠标")  # 无 of 无线 (wireless) is no cue
    assert exclusions(reading) == []
    assert [s.value[0] for s in reading.attributes] == ["connection"]


def test_excluded_category(understander) -> None:
    reading = understander.understand("华为 不要手机壳")
    assert ("category", "手机数码 > 手机壳") in exclusions(reading)
    assert [s.value for s in reading.brands] == [("华为", "Huawei")]


@pytest.mark.parametrize(("query", "expected"), [
    ("纯棉以外的T恤", [("attribute", ("material", ("纯棉", "cotton")))]),
    ("苹果和三星以外的手机", [("brand", ("苹果", "Apple")), ("brand", ("三星", "Samsung"))]),
    ("除了华为和小米以外的平板", [("brand", ("华为", "Huawei")), ("brand", ("小米", "Xiaomi"))]),
])
def test_postfix_exclusion(understander, query: str, expected: list) -> None:
    reading = understander.understand(query)
    assert exclusions(reading) == expected
    assert reading.brands == () and reading.attributes == ()
    assert reading.category is not None
