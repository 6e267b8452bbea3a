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
