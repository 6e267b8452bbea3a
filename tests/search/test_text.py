"""Tokenizer, normaliser and spelling: the cases search relies on."""

from __future__ import annotations

import pytest

from shopsense.text.normalize import normalize
from shopsense.text.spell import SpellCorrector, damerau
from shopsense.text.tokenize import stem, tokenize


@pytest.mark.parametrize(("a", "b"), [
    ("1/2 in. x 10 ft. PVC pipe", "1/2 inch x 10 feet pvc pipes"),
    ('3/4" valve', "3/4 in valve"),
    ("Whirlpool 1.9 cu. ft. microwave", "whirlpool 1.9 cubic feet microwaves"),
    ("60W bulb", "60 watt bulbs"),
    ("1 1/2 in. pipe", "1-1/2 inch pipe"),
    ("ＰＶＣ　２ｘ４", "pvc 2 x 4"),
])
def test_units_and_numbers_normalise_to_the_same_terms(a: str, b: str) -> None:
    assert tokenize(a) == tokenize(b)


def test_in_is_a_unit_only_after_a_number() -> None:
    assert normalize("plug in lamp 5 in.") == "plug in lamp 5 inch"
    assert "inch" not in tokenize("plug in lamp")


def test_chinese_cut_for_search_adds_sub_words() -> None:
    terms = tokenize("格力变频空调 1.5匹")
    assert {"格力", "变频", "空调", "变频空调", "1.5", "匹"} <= set(terms)


def test_model_numbers_split_and_join() -> None:
    terms = tokenize("BEHR #SC-141 Tugboat")
    assert {"sc", "141", "sc141"} <= set(terms)


@pytest.mark.parametrize(("word", "expected"), [
    ("faucets", "faucet"), ("batteries", "battery"), ("boxes", "box"), ("glass", "glass"),
    ("mowing", "mow"), ("textured", "textur"), ("texture", "textur"), ("gas", "gas"),
])
def test_light_stemmer(word: str, expected: str) -> None:
    assert stem(word) == expected


def test_stopwords_dropped_but_kept_on_request() -> None:
    assert tokenize("the door for the shed") == ["door", "shed"]
    assert "the" in tokenize("the door", keep_stopwords=True)


def test_damerau_counts_transpositions_as_one() -> None:
    assert damerau("toliet", "toilet") == 1
    assert damerau("kitchen", "kithen") == 1
    assert damerau("abc", "xyz", limit=3) == 3


def test_spell_corrects_against_catalogue_vocabulary_only() -> None:
    spell = SpellCorrector().fit({"toilet": 40, "kitchen": 30, "faucet": 25, "toile": 1})
    fixed, changes = spell.correct_terms(["toliet", "kithen", "faucet", "zzzzzz", "123"])
    assert fixed == ["toilet", "kitchen", "faucet", "zzzzzz", "123"]
    assert changes == {"toliet": "toilet", "kithen": "kitchen"}


def test_spell_prefers_the_more_frequent_term_at_equal_distance() -> None:
    spell = SpellCorrector().fit({"lamp": 50, "damp": 2})
    assert spell.correct_word("lamq") == "lamp"


def test_spell_rejects_bad_input() -> None:
    with pytest.raises(TypeError):
        SpellCorrector().fit([("a", 1)])  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        SpellCorrector(max_distance=3)
