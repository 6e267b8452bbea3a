"""A product word still being typed is not an absent product type (search-as-you-type asks
with every keystroke: "air condi" must not answer "we don't sell air condi")."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from shopsense.index.sells import _begins_a_product_word

WORDS = SimpleNamespace(terms_={"air conditioner": 1, "laptop": 1, "空调": 1, "Headphones": 1})


@pytest.mark.parametrize("typed", ["air condi", "air", "lapt", "LAPTO", "空", "head"])
def test_the_start_of_a_product_word_is_sold(typed: str) -> None:
    assert _begins_a_product_word(typed, WORDS)


@pytest.mark.parametrize("typed", ["la", "shaver", "剃", "air conditionerx", "conditioner"])
def test_other_words_are_not_taken_for_a_start(typed: str) -> None:
    assert not _begins_a_product_word(typed, WORDS)


TYPES = SimpleNamespace(terms_={"跑步": 1, "跑步鞋": 1, "空调": 1, "婴儿奶粉": 1, "婴儿": 1,
                                "headphones": 1, "baby formula": 1, "air conditioner": 1})


@pytest.mark.parametrize("phrase", ["跑步机", "婴儿车", "空调遥控器", "baby stroller",
                                    "headphones stand"])
def test_a_product_word_before_another_head_names_another_type(phrase: str) -> None:
    from shopsense.index.sells import _product_word_as_modifier

    assert _product_word_as_modifier(phrase, TYPES)


@pytest.mark.parametrize("phrase", ["变频空调", "跑步鞋", "儿童跑步鞋", "wireless headphones",
                                    "冰柜", "earbuds", "baby", "空调"])
def test_a_product_word_at_the_end_is_a_kind_of_it(phrase: str) -> None:
    from shopsense.index.sells import _product_word_as_modifier

    assert not _product_word_as_modifier(phrase, TYPES)
