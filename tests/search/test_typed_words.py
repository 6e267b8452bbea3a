"""A product word still being typed reads as that word in search, as it does in suggest
('lapt' found lipsticks and shampoo: the spelling corrector turned it into 'last')."""

from __future__ import annotations

import pytest

from shopsense.index.typed import TypedWords

TERMS = {"laptop": {}, "laptop bag": {}, "headphones": {}, "air conditioner": {},
         "washing machine": {},
         "空调": {}, "笔记本": {}, "笔记本电脑": {}, "耳机": {}, "手机": {}, "手机壳": {},
         "电视": {}}
KNOWN = {"air", "head", "last", "lap", "shampoo"}
WEIGHT = {"laptop": 50, "headphones": 30, "conditioner": 20, "空调": 40, "笔记本": 30,
          "笔记本电脑": 5, "耳机": 25, "手机": 60, "手机壳": 3}


def _typed() -> TypedWords:
    return TypedWords(TERMS, KNOWN.__contains__, lambda w: WEIGHT.get(w, 0))


@pytest.mark.parametrize(("query", "expected"), [
    ("lapt", "laptop"), ("LAPTO", "laptop"), ("headph", "headphones"),
    ("air condi", "air conditioner"), ("cheap lapt", "cheap laptop"), ("空", "空调"),
    ("笔记", "笔记本"), ("格力空", "格力空调"), ("耳", "耳机"), ("便宜的耳", "便宜的耳机"),
    ("华为手", "华为手机"), ("给我空", "给我空调"), ("要个耳", "要个耳机"),
])
def test_the_beginning_of_a_product_word_completes(query: str, expected: str) -> None:
    completed, changes = _typed().complete(query)
    assert completed.lower() == expected.lower()
    assert len(changes) == 1


@pytest.mark.parametrize("query", [
    "la",  # too short to mean anything yet
    "head",  # a word of its own (Head & Shoulders): finished words are never replaced
    "air",  # likewise
    "laptop",  # already the whole word
    "手机",  # a product word itself, though 手机壳 begins with it
    "笔记本",
    "苹果",  # the segmenter's last token is 苹果, which begins no product word
    "shaver",  # begins no product word
    "lapt bag",  # only the last word is being typed
    "冰箱 省电",  # 省|电: the segmenter's lone characters are one word (saves power), not 电视
    "省电",
    "",
])
def test_other_words_stay_as_typed(query: str) -> None:
    assert _typed().complete(query) == (query, {})


@pytest.mark.parametrize(("query", "expected"), [
    ("labt", "laptop"), ("cheap labt", "cheap laptop"), ("hesdph", "headphones"),
    ("LABTO", "laptop")])
def test_a_beginning_one_slip_off_completes_as_autocomplete_reads_it(query: str,
                                                                      expected: str) -> None:
    completed, changes = _typed().complete(query)
    assert completed.lower() == expected.lower() and len(changes) == 1


@pytest.mark.parametrize("query", ["lab", "lamb", "kaptop", "heater", "lapxyz",
                                   "washer that doesn't cost much"])
def test_no_slip_completion_for_short_far_or_other_first_letter_words(query: str) -> None:
    assert _typed().complete(query) == (query, {})


def test_the_most_common_completion_wins() -> None:
    typed = TypedWords({"laptop": {}, "lapel pin": {}}, lambda w: False,
                       {"laptop": 9, "lapel": 2}.get)
    assert typed.complete("lap")[0] == "laptop"
    typed = TypedWords({"laptop": {}, "lapel pin": {}}, lambda w: False,
                       {"laptop": 1, "lapel": 2}.get)
    assert typed.complete("lap")[0] == "lapel"


@pytest.fixture(scope="module")
def engine(demo_shop):  # type: ignore[no-untyped-def]
    return demo_shop.models.search


@pytest.mark.parametrize(("typed", "leaf", "word"), [
    ("lapt", "电脑办公 > 笔记本", "laptop"), ("lapto", "电脑办公 > 笔记本", "laptop"),
    ("headph", "手机数码 > 耳机", "headphones"), ("air condi", "家电 > 空调", "conditioner"),
    ("空", "家电 > 空调", "空调"), ("笔记", "电脑办公 > 笔记本", "笔记本"),
    ("耳", "手机数码 > 耳机", "耳机"), ("格力空", "家电 > 空调", "空调"),
])
def test_search_reads_the_word_being_typed(engine, typed: str, leaf: str, word: str) -> None:  # type: ignore[no-untyped-def]
    r = engine.search(typed, k=10)
    assert r.total >= (1 if typed == "格力空" else 10), (typed, r.total)
    assert len(r.results) == min(10, r.total)
    assert all(x.product.category == leaf for x in r.results), \
        [(x.product.category, x.product.title) for x in r.results]
    assert word in r.corrections.values()
    assert r.no_exact_match is None
    if typed == "格力空":  # the brand of the finished words still filters
        assert all(x.product.brand in ("格力", "Gree") for x in r.results)


def test_suggest_and_search_agree_on_the_word_being_typed(engine) -> None:  # type: ignore[no-untyped-def]
    for typed, leaf in (("lapt", "电脑办公 > 笔记本"), ("空", "家电 > 空调"),
                        ("headph", "手机数码 > 耳机")):
        found = engine.autocomplete(typed, k=30)
        products = [s for s in found if s["kind"] == "product"]
        searched = [r.item_id for r in engine.search(typed, k=3).results]
        assert products and [s["item_id"] for s in products] == searched, (typed, found)
        word = engine.search(typed, k=1).corrections[typed]
        assert any(str(s["text"]).lower().startswith(word) for s in found if
                   s["kind"] != "product"), (typed, word, found)
        assert all(engine.table.get(s["item_id"]).category == leaf for s in products)


def test_finished_words_are_not_completed(engine) -> None:  # type: ignore[no-untyped-def]
    r = engine.search("head", k=10)
    assert "head" not in r.corrections
    assert r.results and all("Head" in x.product.title or "head" in x.product.title.lower()
                             for x in r.results)
