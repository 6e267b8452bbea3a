"""The bilingual relevance suite on the demo shop, and the honest-reading parts one by one:
the in-catalogue test, value words, relaxed ceilings, homophone typos, the API fields."""

from __future__ import annotations

import re

import numpy as np
import pytest

from shopsense.domain import QueryReading, Slot
from shopsense.evaluation.relevance import pass_rates, relevance_checks, run_checks, value_moved
from shopsense.evaluation.relevance_heldout import held_out_checks
from shopsense.index.sells import catalogue_sells
from shopsense.pipeline import surfaces
from shopsense.rank.honest import relaxed_notes, value_scores
from shopsense.text.pinyin import PinyinCorrector


@pytest.fixture(scope="module")
def engine(demo_shop):  # type: ignore[no-untyped-def]
    return demo_shop.models.search


def test_suite_is_bilingual_and_large_enough(demo_shop) -> None:  # type: ignore[no-untyped-def]
    checks = relevance_checks(list(demo_shop.products.values()))
    langs = [c.lang for c in checks]
    assert len(checks) >= 200
    assert langs.count("zh") >= 100 and langs.count("en") >= 100
    assert {c.prop for c in checks} >= {"absent_type", "in_catalogue", "parity", "value_cheap",
                                        "value_premium", "ceiling_below_cheapest", "negation",
                                        "brand_alias", "mixed_language", "typo"}


def _assert_suite(checks, engine, each: float | None, overall: float = 0.9) -> None:  # type: ignore[no-untyped-def]
    outcomes = run_checks(lambda q, **kw: engine.search(q, **kw), checks)
    rates = pass_rates(outcomes)
    failed = [(o.check.prop, o.check.query, o.detail) for o in outcomes if not o.passed]
    assert rates["all"]["rate"] >= overall, (rates, failed)
    for prop, row in rates.items():
        assert each is None or row["rate"] >= each, (prop, row, failed)


def test_suite_passes_on_the_demo_shop(demo_shop, engine) -> None:  # type: ignore[no-untyped-def]
    _assert_suite(relevance_checks(list(demo_shop.products.values())), engine, 0.85)


@pytest.mark.slow
def test_held_out_style_suite_passes_on_the_demo_shop(demo_shop, engine) -> None:  # type: ignore[no-untyped-def]
    """The same properties asked with other words and phrasings (evaluation/relevance_heldout)."""
    checks = held_out_checks(list(demo_shop.products.values()))
    langs = [c.lang for c in checks]
    assert len(checks) >= 200 and langs.count("zh") >= 100 and langs.count("en") >= 100
    shared = {c.query for c in checks} & {c.query for c in relevance_checks(
        list(demo_shop.products.values()))}  # leaves with one product word ask it in both
    assert len(shared) <= 0.05 * len(checks), shared  # otherwise other queries
    # this 600-product fixture (~19 products a leaf) passes 85.3 % of them; the 3,200-product
    # demo 97.0 % (benchmarks/relevance.py --suite held-out, benchmarks/README.md)
    _assert_suite(checks, engine, None, overall=0.85)


@pytest.mark.parametrize("query", ["剃须刀", "shaver", "do you sell microwave ovens?", "微波炉",
                                   "有吹风机吗", "hair dryer", "sofa"])
def test_absent_types_answer_no_exact_match(engine, query: str) -> None:  # type: ignore[no-untyped-def]
    r = engine.search(query, k=10)
    assert r.no_exact_match is not None
    assert r.no_exact_match["requested"] in query
    assert not [c for c in r.applied_filters if c["kind"] == "category"]
    assert r.to_dict()["results"] == [] or all(x["alternative"] for x in r.to_dict()["results"])


@pytest.mark.parametrize("query", ["空调", "air conditioner", "laptop", "笔记本", "earbuds",
                                   "不要苹果的手机", "phone not apple", "便宜的耳机", "华为"])
def test_sold_types_are_in_the_catalogue(engine, query: str) -> None:  # type: ignore[no-untyped-def]
    reading = engine.understander.understand(query)
    assert catalogue_sells(reading, engine.understander, engine.keyword) is None
    assert engine.search(query, k=5).no_exact_match is None


def test_value_words_move_the_page_both_languages(engine) -> None:  # type: ignore[no-untyped-def]
    def search(q: str, k: int = 10, sort: str = "relevance"):  # type: ignore[no-untyped-def]
        return engine.search(q, k=k, sort=sort)

    for bare, cheap, premium in (("耳机", "便宜的耳机", "高端耳机"),
                                 ("headphones", "cheap headphones", "premium headphones")):
        moved, detail = value_moved(search, bare, search(cheap), cheap=True)
        assert moved, (cheap, detail)
        moved, detail = value_moved(search, bare, search(premium), cheap=False)
        assert moved, (premium, detail)
        assert search(cheap).total == search(bare).total
        boost = [b for b in engine.search(cheap, k=10).soft_boosts if b["kind"] == "value"]
        assert boost and boost[0]["effect"]["prefers"] == "lower"
        assert boost[0]["effect"]["page_median"] < boost[0]["effect"]["page_median_without"]


def test_relaxed_ceiling_orders_cheapest_first_and_says_so(engine) -> None:  # type: ignore[no-untyped-def]
    r = engine.search("100元以下的笔记本", k=10)
    assert r.sort == "price_asc"
    prices = [x.product.price for x in r.results]
    assert prices == sorted(prices) and all(x.product.category.endswith("笔记本") for x in r.results)
    note = r.relaxed_filters[0]
    assert note["kind"] == "price" and "从低到高" in note["message_zh"]
    assert "cheapest first" in note["message_en"]
    assert not re.search(r"[\u3400-\u9fff]", note["message_en"]), note["message_en"]
    assert "笔记本" in note["message_zh"]
    chosen = engine.search("100元以下的笔记本", k=10, sort="price_desc")
    assert chosen.sort == "price_desc"


def test_homophone_typo_is_corrected(engine) -> None:  # type: ignore[no-untyped-def]
    r = engine.search("空掉", k=5)
    assert r.total > 0 and r.corrections.get("空掉") == "空调"
    assert r.did_you_mean == "空调"
    assert all(x.product.category == "家电 > 空调" for x in r.results)


def test_pinyin_corrector_learns_from_counts() -> None:
    c = PinyinCorrector().fit({"空调": 9, "耳机": 5, "冰箱": 3, "笔记本": 4})
    assert c.correct("格力 冷暖空掉") == ("格力 冷暖空调", {"冷暖空掉": "冷暖空调"}) or \
        c.correct("空掉") == ("空调", {"空掉": "空调"})
    assert c.correct("耳鸡") == ("耳机", {"耳鸡": "耳机"})
    assert c.correct("剃须刀") == ("剃须刀", {})


def test_value_scores_follow_percentiles() -> None:
    ref = np.array([10.0, 20.0, 30.0, 40.0, 50.0])
    cheap = value_scores("cheap", np.array([10.0, 50.0, np.nan]), ref)
    premium = value_scores("premium", np.array([10.0, 50.0]), ref)
    assert cheap[0] > 0 > cheap[1] and cheap[2] == 0
    assert premium[0] < 0 < premium[1]


def test_relaxed_notes_keep_a_chosen_sort() -> None:
    relaxed = [{"kind": "price", "value": [None, 100.0], "source": "reading"}]
    notes, order = relaxed_notes(relaxed, None, "newest")
    assert order == "newest" and notes[0]["ordered_by"] == "newest"
    notes, order = relaxed_notes(relaxed, None, "relevance")
    assert order == "price_asc" and notes[0]["message_en"].startswith("No products")


@pytest.mark.parametrize(("word", "en_word"), [("笔记本", "products"), ("空调", "products"),
                                               ("laptop", "laptop"), ("running shoes", "running shoes")])
def test_relaxed_notes_never_put_chinese_into_english(word: str, en_word: str) -> None:
    reading = QueryReading(query=word, product_terms=(Slot(word, 0.9, (0, len(word)), word),))
    relaxed = [{"kind": "price", "value": [None, 100.0], "source": "reading"},
               {"kind": "brand", "value": ["Gree"], "source": "reading"}]
    notes, _ = relaxed_notes(relaxed, reading, "relevance")
    for note in notes:
        assert f"No {en_word} " in note["message_en"] and word in note["message_zh"]


def test_api_answer_carries_no_exact_match(demo_shop) -> None:  # type: ignore[no-untyped-def]
    data = surfaces.search(demo_shop, "剃须刀")
    assert data["no_exact_match"]["requested"] == "剃须刀"
    assert data["no_exact_match"]["alternatives"] == "相近的其他商品"
    assert all(item["alternative"] for item in data["results"])
    data = surfaces.search(demo_shop, "空调")
    assert data["no_exact_match"] is None
    assert not any(item.get("alternative") for item in data["results"])


def test_shapes_suite_asks_other_shapes_in_both_languages(demo_shop) -> None:  # type: ignore[no-untyped-def]
    """The fourth suite (evaluation/relevance_shapes): >= 120 queries, zh and en alike, none
    asked by the other three, every new property present."""
    from shopsense.evaluation.relevance_shapes import SHAPE_PROPS, shape_checks
    from shopsense.evaluation.relevance_words import word_checks

    products = list(demo_shop.products.values())
    checks = shape_checks(products)
    langs = [c.lang for c in checks]
    assert len(checks) >= 120 and langs.count("zh") >= 50 and langs.count("en") >= 50
    assert set(SHAPE_PROPS) <= {c.prop for c in checks}
    others = {c.query for make in (relevance_checks, held_out_checks, word_checks)
              for c in make(products)}
    assert not {c.query for c in checks} & others
    for c in checks:  # the bounds asked are ones the leaf's own products meet
        if c.prop in ("price_ceiling", "price_range", "price_floor"):
            prices = [p.price for p in products if p.category == c.leaf and p.price]
            low, high = c.extra.get("min", 0), c.extra.get("max", float("inf"))
            assert any(low <= p <= high for p in prices), c


def test_shapes_judge_fails_what_it_should(engine) -> None:  # type: ignore[no-untyped-def]
    """A price outside the asked bounds, another brand, or a missing colour fails a check."""
    from shopsense.evaluation.relevance import Check, run_check
    from shopsense.evaluation.relevance_shapes import judge_shape

    def search(q: str, k: int = 10, sort: str = "relevance"):  # type: ignore[no-untyped-def]
        return engine.search(q, k=k, sort=sort)

    leaf = "家电 > 空调"
    wrong = [Check("price_ceiling", "zh", "空调", leaf, extra={"max": 1.0}, judge=judge_shape),
             Check("price_floor", "en", "air conditioner", leaf, extra={"min": 1e9},
                   judge=judge_shape),
             Check("brand_typo", "en", "air conditioner", leaf, brand=("不存在", "Nobody"),
                   judge=judge_shape),
             Check("attribute_negation", "zh", "空调", leaf, brand=("不存在", "Nobody"),
                   extra={"colour": ("不存在色", "nocolour")}, judge=judge_shape)]
    for check in wrong:
        assert not run_check(search, check).passed, check
    right = Check("price_ceiling", "zh", "空调", leaf, extra={"max": 1e9}, judge=judge_shape)
    assert run_check(search, right).passed


@pytest.mark.slow
def test_shapes_suite_passes_on_the_demo_shop(demo_shop, engine) -> None:  # type: ignore[no-untyped-def]
    from shopsense.evaluation.relevance_shapes import shape_checks

    _assert_suite(shape_checks(list(demo_shop.products.values())), engine, None, overall=0.9)


@pytest.mark.parametrize("query", ["top of the line laptop", "headphones that doesn't cost much"])
def test_value_words_are_not_spelling_mistakes(engine, query: str) -> None:  # type: ignore[no-untyped-def]
    """A value phrase the reading understood is never 'corrected' (top of the fine laptop)."""
    r = engine.search(query, k=5)
    assert [b for b in r.soft_boosts if b["kind"] == "value"], r.soft_boosts
    phrase = {w for w in re.findall(r"[a-z']+", query) if w not in ("laptop", "headphones")}
    assert not phrase & set(r.corrections), r.corrections
    assert r.did_you_mean is None or "fine" not in r.did_you_mean


def test_a_misspelt_brand_filters_like_the_brand(engine) -> None:  # type: ignore[no-untyped-def]
    exact, slipped = engine.search("xiaomi phone", k=10), engine.search("xioami phone", k=10)
    assert slipped.no_exact_match is None and slipped.total == exact.total > 0
    assert {x.product.brand for x in slipped.results} <= {"小米", "Xiaomi"}
