"""Look-alike absent types and other words for sold types (index/sells.py).

An absent type that shares writing with a sold one (洗碗机 / 洗衣机, dishwasher / washer,
床垫 / 床品, bookshelf / book) answers "no exact match"; a sold type written with a word no
product word covers (washer, lip colour, earbuds, moisturiser) is read as the leaf its titles
or its closest product word point at, so it reaches the whole leaf like the catalogue's own
word does."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from shopsense.domain import QueryReading, Slot
from shopsense.evaluation.relevance import pass_rates, run_checks
from shopsense.evaluation.relevance_words import word_checks
from shopsense.index.near_words import lexical_neighbour, sibling_compound
from shopsense.index.sells import (
    NoExactMatch,
    TypeReading,
    _product_word_as_modifier,
    _purest_leaf,
    with_type_reading,
)


@pytest.mark.parametrize(("phrase", "word"), [
    ("洗碗机", "洗衣机"), ("床垫", "床品"), ("冰柜", "冰箱"), ("dishwasher", "washing machine"),
    ("necktie", "crew neck"), ("bookshelf", "book"), ("earphones", "headphones")])
def test_lexical_neighbours_share_writing(phrase: str, word: str) -> None:
    assert lexical_neighbour(phrase, word)


@pytest.mark.parametrize(("phrase", "word"), [
    ("变频空调", "空调"), ("空调", "空调"), ("wireless headphones", "headphones"),
    ("earbuds", "headphones"), ("尿不湿", "diapers"), ("lip colour", "lipstick"),
    ("television", "tv")])
def test_kinds_synonyms_and_strangers_are_not_neighbours(phrase: str, word: str) -> None:
    assert not lexical_neighbour(phrase, word)


@pytest.mark.parametrize(("phrase", "word", "sibling"), [
    ("洗碗机", "洗衣机", True), ("手机壳", "手机套", False), ("耳麦", "耳机", False),
    ("冰柜", "冰箱", False), ("洗衣机", "洗衣机", False), ("球鞋", "运动鞋", False),
    ("dishwasher", "washer", False)])
def test_sibling_compounds_differ_in_one_modifier(phrase: str, word: str, sibling: bool) -> None:
    assert sibling_compound(phrase, word) is sibling


WORDS = SimpleNamespace(terms_={"book": 1, "laptop": 1, "phone case": 1, "headphones": 1})


@pytest.mark.parametrize(("phrase", "other"), [
    ("bookshelf", True), ("bookcase", False), ("phonecase", False), ("headphones", False),
    ("book", False), ("laptops", False), ("notebook", False)])
def test_a_closed_compound_on_a_product_word_is_another_type(phrase: str, other: bool) -> None:
    # bookcase ends with 'case' (a product word's word): a kind of case, not read as another type
    assert _product_word_as_modifier(phrase, WORDS) is other


def test_purest_leaf_and_the_reading_it_gives() -> None:
    assert _purest_leaf([]) == (None, 0.0)
    assert _purest_leaf(["a", "a", "b", "a"]) == ("a", 0.75)
    reading = QueryReading(query="washer Siemens", language="en",
                           brands=(Slot(("西门子", "Siemens"), 0.9, (7, 14), "Siemens"),))
    read = with_type_reading(reading, TypeReading("washer", (0, 6), "家电 > 洗衣机", 1.0))
    assert read.category is not None and read.category.value == "家电 > 洗衣机"
    assert [s.value for s in read.product_terms] == ["washer"] and read.brands == reading.brands
    for unchanged in (None, NoExactMatch("x", "en"), TypeReading("wash", (0, 4), None, 0.0)):
        assert with_type_reading(reading, unchanged) is reading


def _reading(query: str, *words: str) -> QueryReading:
    spans = [(query.index(w), query.index(w) + len(w)) for w in words]
    return QueryReading(query=query, language="zh" if not query.isascii() else "en",
                        product_terms=tuple(Slot(w, 0.9, span, w)
                                            for w, span in zip(words, spans, strict=True)))


def test_product_words_of_two_leaves_joined_name_a_third_thing() -> None:
    """mouse pad: a pad for a mouse, neither the mouse nor the tablet this catalogue calls a
    pad; words a title holds together, words of one leaf and two separate wishes read as
    usual."""
    from shopsense.index.keyword import KeywordIndex
    from shopsense.index.sells import read_type_words

    index = KeywordIndex()
    index.add([("m1", {"title": "Logitech Mouse Wireless"}), ("t1", {"title": "Xiaomi Pad 6"}),
               ("c1", {"title": "Baseus Phone Case iPhone 15"}), ("p1", {"title": "Xiaomi Phone"}),
               ("s1", {"title": "Nike Sneakers"}), ("r1", {"title": "Asics Running Shoes"})])
    words = SimpleNamespace(terms_={
        "mouse": {"鼠标": 1.0}, "pad": {"平板": 1.0}, "phone": {"手机": 1.0},
        "case": {"手机壳": 1.0}, "sneakers": {"运动鞋": 1.0}, "running shoes": {"运动鞋": 1.0},
        "鼠标": {"鼠标": 1.0}, "平板": {"平板": 0.8, "显示器": 0.2}})
    found = read_type_words(_reading("mouse pad", "mouse", "pad"), words, index)
    assert isinstance(found, NoExactMatch) and found.requested == "mouse pad"
    found = read_type_words(_reading("a mouse pad please", "mouse", "pad"), words, index)
    assert isinstance(found, NoExactMatch) and found.requested == "mouse pad"
    for reading in (_reading("phone case", "phone", "case"),  # a title holds both
                    _reading("sneakers running shoes", "sneakers", "running shoes"),  # one leaf
                    _reading("phone and pad", "phone", "pad"),  # two wishes
                    _reading("鼠标 平板", "鼠标", "平板"),  # Chinese writes a compound joined
                    _reading("mouse", "mouse")):
        assert read_type_words(reading, words, index) is None, reading.query


@pytest.mark.parametrize(("query", "words"), [
    ("tent for 4 people", ["tent"]), ("phone with a big screen", ["phone"]),
    ("laptop for students", ["laptop"]), ("microwave for the kitchen", ["microwave"])])
def test_words_after_a_preposition_qualify_the_type_they_follow(query: str,
                                                                words: list[str]) -> None:
    """English names the type first: 'tent for 4 people' asks for a tent (sold), so it is
    never answered "we don't sell 'tent for 4 people'"; an absent type is named alone."""
    from shopsense.index.keyword import KeywordIndex
    from shopsense.index.sells import read_type_words

    index = KeywordIndex()
    index.add([("t1", {"title": "Camel Camping Tent 3-4 Person"}),
               ("p1", {"title": "Xiaomi Phone 14"}), ("l1", {"title": "HP Laptop 14 Inch"})])
    terms = SimpleNamespace(terms_={"tent": {"帐篷": 1.0}, "phone": {"手机": 1.0},
                                    "laptop": {"笔记本": 1.0}})
    spans = [(query.index(w), query.index(w) + len(w)) for w in words
             if w in terms.terms_]
    reading = QueryReading(query=query, language="en", product_terms=tuple(
        Slot(query[a:b], 0.9, (a, b), query[a:b]) for a, b in spans))
    found = read_type_words(reading, terms, index)
    if spans:
        assert found is None, found
    else:
        assert isinstance(found, NoExactMatch) and found.requested == " ".join(words)


@pytest.fixture(scope="module")
def engine(demo_shop):  # type: ignore[no-untyped-def]
    return demo_shop.models.search


# dishwasher and 冰柜 pass on the 3,200-product demo, not on this 600-product fixture: its
# title classifier, trained on fewer titles, gives them their neighbour's leaf at p >= 0.45
@pytest.mark.parametrize("query", ["洗碗机", "有洗碗机吗", "有床垫吗", "necktie", "bookshelf", "睡衣",
                                   "有睡衣吗", "lamp", "desk lamp", "couch"])
def test_look_alike_absent_types_answer_no_exact_match(engine, query: str) -> None:  # type: ignore[no-untyped-def]
    r = engine.search(query, k=10)
    assert r.no_exact_match is not None, (query, r.reading)
    assert not [c for c in r.applied_filters if c["kind"] == "category"]


def _leaf_share(engine, query: str, leaf: str, k: int = 100) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    r = engine.search(query, k=k)
    hits = [x.product.category == leaf for x in r.results]
    return (float(np.mean(hits)) if hits else 0.0), sum(hits)


@pytest.mark.parametrize(("query", "bare", "leaf"), [
    ("earbuds", "headphones", "手机数码 > 耳机"), ("earphones", "headphones", "手机数码 > 耳机"),
    ("lip colour", "lipstick", "美妆护肤 > 口红"), ("moisturiser", "moisturizer", "美妆护肤 > 面霜"),
    ("television", "tv", "家电 > 电视")])
def test_other_words_reach_the_leaf_like_its_own_word(engine, query: str, bare: str,  # type: ignore[no-untyped-def]
                                                      leaf: str) -> None:
    r = engine.search(query, k=10)
    assert r.no_exact_match is None, (query, r.reading)
    precision, _ = _leaf_share(engine, query, leaf, 10)
    assert precision >= 0.9, (query, precision)
    _, reached = _leaf_share(engine, query, leaf)
    _, own = _leaf_share(engine, bare, leaf)
    assert reached >= 0.8 * own, (query, reached, own)


@pytest.mark.slow
def test_word_suite_is_bilingual_and_mostly_passes(demo_shop, engine) -> None:  # type: ignore[no-untyped-def]
    checks = word_checks(list(demo_shop.products.values()))
    langs = [c.lang for c in checks]
    assert len(checks) >= 100 and langs.count("zh") >= 40 and langs.count("en") >= 40
    rates = pass_rates(run_checks(lambda q, **kw: engine.search(q, **kw), checks))
    # the 3,200-product demo passes 74.6 % (benchmarks/relevance.py --suite words); the
    # look-alike absent types alone 85 %
    assert rates["absent_lookalike"]["rate"] >= 0.75, rates
    assert rates["all"]["rate"] >= 0.6, rates


def test_asking_words_are_never_corrected_into_catalogue_words() -> None:
    from shopsense.domain import Product
    from shopsense.pipeline.search import SearchEngine

    products = [Product("d1", "Dell Inspiron laptop 15 inch", brand="Dell", category="laptops"),
                Product("d2", "Dell monitor 27 inch", brand="Dell", category="monitors"),
                Product("h1", "Haier washing machine 10kg", brand="Haier", category="washers")]
    engine = SearchEngine.build(products, encoder=None)
    r = engine.search("do you sell a washing machine?", k=5)
    assert "sell" not in r.corrections and "dell" not in (r.did_you_mean or "")
    assert [x.item_id for x in r.results][:1] == ["h1"]
    assert engine.search("dwll laptop", k=5).corrections  # a real slip is still corrected


def test_an_index_saved_before_the_asking_words_learns_them_on_load(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from shopsense.domain import Product
    from shopsense.pipeline.search import SearchEngine

    products = [Product("d1", "Dell Inspiron laptop", brand="Dell", category="laptops"),
                Product("h1", "Haier washing machine 10kg", brand="Haier", category="washers")]
    engine = SearchEngine.build(products, encoder=None)
    engine.spell.fit({t: int(engine.keyword.df_[i]) for t, i in engine.keyword.vocab_.items()})
    assert not engine.spell.known("sell")  # a saved index without the asking words
    assert engine.spell.correct_word("sell") == "sell"  # a common word: never a slip
    engine.save(tmp_path / "index")
    loaded = SearchEngine.load(tmp_path / "index")
    assert loaded.spell.correct_word("sell") == "sell"
    assert "sell" not in loaded.search("do you sell a washing machine?", k=5).corrections


@pytest.mark.parametrize("query", ["necktie", "labt"])
def test_an_absent_type_is_not_offered_a_spelling_that_is_no_product_word(engine, query: str  # type: ignore[no-untyped-def]
                                                                          ) -> None:
    r = engine.search(query, k=10)
    if r.no_exact_match is not None:
        assert not r.corrections and r.did_you_mean in (None, "", query), r.did_you_mean


@pytest.mark.parametrize(("question", "words"), [("do you sell a necktie?", "necktie"),
                                                 ("有洗碗机吗", "洗碗机")])
def test_alternatives_to_an_absent_type_are_those_of_its_words(engine, question: str,  # type: ignore[no-untyped-def]
                                                               words: str) -> None:
    asked, bare = engine.search(question, k=10), engine.search(words, k=10)
    assert asked.no_exact_match is not None and bare.no_exact_match is not None
    assert [x.item_id for x in asked.results] == [x.item_id for x in bare.results]


def test_category_nodes_are_named_in_both_languages() -> None:
    from shopsense.index.nodes import build_nodes

    nodes = build_nodes(["鞋靴 > 运动鞋", "鞋靴 > 靴子", "家电 > 空调", "食品 > 咖啡"],
                        {"鞋靴": "Shoes & Boots", "家电": "Home Appliances"})
    assert nodes.names("鞋") and nodes.names("鞋靴") and nodes.names("shoes")
    assert nodes.names("shoe") and nodes.names("Shoes and boots") is False
    assert not nodes.names("运动鞋")  # a leaf's own word: not a node above leaves
    assert not nodes.names("家电") and not nodes.names("appliances")  # one leaf below it
    assert not nodes.names("coffee") and not nodes.names("")


def test_a_word_naming_a_node_reaches_all_its_leaves(demo_shop) -> None:
    """shoes names 鞋靴 (Shoes & Boots): sneakers' titles writing "Running Shoes" must not
    narrow the search to sneakers; boots are shoes too. (鞋 on this demo is a product word the
    understander learned for sneakers: another path, not fixed here.)"""
    from shopsense.pipeline import surfaces

    answer = surfaces.search(demo_shop, "shoes", k=40)
    leaves = {r["category"] for r in answer["results"]}
    assert {"鞋靴 > 运动鞋", "鞋靴 > 靴子"} <= leaves, leaves
    understood = answer.get("understood") or {}
    assert (understood.get("category") or {}).get("value") not in ("鞋靴 > 运动鞋", "鞋靴 > 靴子")


@pytest.mark.parametrize("query", ["剃须刀", "shaver", "洗碗机"])
def test_an_absent_type_is_not_shown_as_read_into_another_category(demo_shop, query) -> None:  # type: ignore[no-untyped-def]
    """剃须刀 was answered "we don't sell it" while the storefront's "understood as" chip and
    breadcrumb still said 洗发水 (the nearest leaf, never applied): the answer's reading names
    no category for a type the shop does not sell."""
    from shopsense.pipeline import surfaces

    answer = surfaces.search(demo_shop, query)
    assert answer["no_exact_match"] is not None, query
    assert (answer["understood"] or {}).get("category") is None
    assert not any(f["kind"] == "category" for f in answer["applied_filters"])


def test_a_neighbour_whose_own_writing_is_another_leafs_is_another_type() -> None:
    """睡衣 shares 睡 with 睡袋 and the title classifier, which reads the shared 睡, gives it
    the sleeping bags' leaf: the 衣 it does not share is the washing machines' writing, so
    it is another type; 耳麦's 麦 is no leaf's writing: the classifier decides as before."""
    from shopsense.index.near_words import _closeness_of_writing

    def elsewhere(writing: str) -> bool:
        return writing in {"衣", "垫"}

    assert _closeness_of_writing("睡衣", "睡袋", 0.73, lambda: 0.63, elsewhere)
    assert not _closeness_of_writing("睡衣", "睡袋", 0.73, lambda: 0.63)  # without the test
    assert not _closeness_of_writing("耳麦", "耳机", 0.76, lambda: 0.9, elsewhere)
    assert _closeness_of_writing("耳麦", "耳机", 0.76, lambda: 0.2, elsewhere)
    assert not _closeness_of_writing("睡衣", "睡袋", 0.9, lambda: 0.0, elsewhere)  # meaning wins
    assert not _closeness_of_writing("earbuds", "headphones", 0.75, lambda: 0.0, elsewhere)


@pytest.mark.parametrize(("word", "fixed"), [
    ("lamp", "lamp"), ("couch", "couch"), ("table", "table"), ("tabl", "tabl"),
    ("lamps", "lamps"), ("camq", "camp"),
    ("lapotp", "laptop"), ("recieve", "receive")])
def test_common_english_words_are_never_slips_of_catalogue_words(word: str, fixed: str) -> None:
    from shopsense.text.spell import SpellCorrector

    spell = SpellCorrector().fit({"camp": 40, "laptop": 30, "receive": 2, "cable": 9,
                                  "tab": 7})
    assert spell.correct_word(word) == fixed


def test_an_absent_type_with_nothing_close_says_only_what_is_not_sold() -> None:
    shown, empty = NoExactMatch("lamp", "en").to_dict(), NoExactMatch("lamp", "en").to_dict(False)
    assert "closest alternatives" in shown["message_en"] and shown["alternatives"]
    assert empty["message_en"] == "We don't sell “lamp”" and empty["alternatives"] == ""
    assert NoExactMatch("台灯", "zh").to_dict(False)["message_zh"] == "本店没有“台灯”"


def test_an_empty_answer_to_an_absent_type_offers_no_alternatives(engine) -> None:  # type: ignore[no-untyped-def]
    for query in ("lamp", "睡衣", "wardrobe"):
        answer = engine.search(query, k=10)
        assert answer.no_exact_match is not None and not answer.corrections, query
        if answer.total == 0:
            assert answer.no_exact_match["alternatives"] == "", query
        else:
            results = answer.to_dict()["results"]
            assert results and all(r["alternative"] for r in results), query


@pytest.mark.parametrize("query", ["shaver", "do you sell a shaver?", "pajamas", "necktie"])
def test_alternatives_to_an_absent_type_are_not_found_through_a_slip(engine, query: str) -> None:  # type: ignore[no-untyped-def]
    """"shaver" is one edit from the brand Haier: its alternatives were Haier washers found
    through that "correction". An absent type's alternatives take only corrections onto
    product words, so they are the ones its meaning finds."""
    answer = engine.search(query, k=10).to_dict()
    assert answer["no_exact_match"] is not None, query
    slips = [r["evidence"].get("corrections") for r in answer["results"]
             if r["evidence"].get("corrections")]
    assert not slips, (query, slips)


@pytest.mark.parametrize(("word", "thing"), [
    ("静音", False), ("大屏", False), ("省电", False), ("拍照", False), ("续航", False),
    ("大容量", False), ("轻薄", False), ("家用", False), ("无线", False), ("防水", False),
    ("补水", False), ("带遥控器", False), ("双开门", False),
    ("遥控器", True), ("清洗剂", True), ("收纳盒", True), ("支架", True), ("贴膜", True),
    ("挡风板", True), ("防尘罩", True), ("电脑包", True), ("数据线", True), ("烘干机", True),
    ("裤", True), ("车", True)])
def test_a_chinese_word_names_a_thing_by_its_head(word: str, thing: bool) -> None:
    from shopsense.index.sells import _names_a_thing

    assert _names_a_thing(word) is thing


# A product word followed by how the product should be (type first, then the wish, as Chinese
# shoppers type): the shop sells the type; the words rank, they do not name another product.
DESCRIBED = ["空调 静音", "空调静音", "空调 节能", "空调 家用", "手机 大屏", "手机 拍照", "手机 续航",
             "手机 学生", "冰箱 省电", "冰箱 大容量", "冰箱 双开门", "洗衣机 静音", "笔记本 轻薄",
             "笔记本 办公", "耳机 降噪", "耳机 无线", "口红 持久", "面霜 保湿", "电视 大屏"]
# ... and followed by another thing bought for it: not sold here, said so.
ACCESSORIES = ["空调 遥控器", "空调遥控器", "空调 清洗剂", "空调 挡风板", "手机 支架", "手机 贴膜",
               "手机 充电器", "耳机 收纳盒", "耳机 海绵套", "冰箱 除味剂", "电视 支架", "电视 防尘罩",
               "笔记本 散热器", "笔记本 电脑包", "laptop bag", "laptop stand", "phone stand",
               "air conditioner remote", "tv mount"]


@pytest.mark.parametrize("query", DESCRIBED)
def test_a_describing_word_after_the_type_is_no_other_type(engine, query: str) -> None:  # type: ignore[no-untyped-def]
    r = engine.search(query, k=10)
    assert r.no_exact_match is None, (query, r.no_exact_match)
    cats = [c["value"] for c in r.applied_filters if c["kind"] == "category"]
    assert cats, (query, r.applied_filters)
    assert r.results and all(x.product.category == cats[0] for x in r.results), query
    assert not r.corrections, (query, r.corrections)  # 冰箱 省电 is not 冰箱 省电视


@pytest.mark.parametrize("query", ACCESSORIES)
def test_another_thing_for_a_product_is_not_sold(engine, query: str) -> None:  # type: ignore[no-untyped-def]
    r = engine.search(query, k=10)
    assert r.no_exact_match is not None, (query, r.reading)
    assert not [c for c in r.applied_filters if c["kind"] == "category"]


# "A的B" with B a product word: A says how B is or whom it is for, never another type.
ATTRIBUTED = ["最贵的手机", "贵的手机", "送女朋友的口红", "能拍照的手机", "老人的手机", "给宝宝用的奶粉",
              "红色的口红", "小孩的帐篷", "宝宝的睡袋", "女士的口红", "most expensive phone"]


@pytest.mark.parametrize("query", ATTRIBUTED)
def test_words_joined_to_a_product_word_by_de_describe_it(engine, query: str) -> None:  # type: ignore[no-untyped-def]
    r = engine.search(query, k=10)
    assert r.no_exact_match is None, (query, r.no_exact_match)
    cats = [c["value"] for c in r.applied_filters if c["kind"] == "category"]
    assert cats and r.results and all(x.product.category == cats[0] for x in r.results), query


@pytest.mark.parametrize("query", ["手机的支架", "空调的遥控器"])
def test_a_thing_joined_after_de_is_still_the_type(engine, query: str) -> None:  # type: ignore[no-untyped-def]
    """The head follows 的: 手机的支架 is a stand (not sold), whatever 手机 before it is."""
    assert engine.search(query, k=10).no_exact_match is not None, query


def test_the_dearest_first_for_the_most_expensive(engine) -> None:  # type: ignore[no-untyped-def]
    """最贵的手机 pulls the dear end up as 高端手机 does (a value word, not an unknown type)."""
    dear = engine.search("最贵的手机", k=10)
    plain = engine.search("手机", k=10)
    assert dear.reading["value_preference"]["value"] == "premium"
    mean = lambda r: sum(x.product.price for x in r.results) / len(r.results)  # noqa: E731
    assert mean(dear) > mean(plain)


@pytest.mark.parametrize("query", ["gift for mom", "gift for dad", "birthday gift", "礼物",
                                   "送妈妈的礼物", "送女朋友的礼物", "christmas present"])
def test_whom_a_product_is_for_names_no_absent_type(engine, query: str) -> None:  # type: ignore[no-untyped-def]
    """A gift and its recipient are a purpose: never 'we don't sell 礼物 / dad', and never the
    beginning of a product word ('mom' is not Momentum headphones)."""
    r = engine.search(query, k=10)
    assert r.no_exact_match is None, (query, r.no_exact_match)
    assert not r.corrections and not [x for x in r.results if "Momentum" in x.product.title]


def test_a_gift_for_someone_keeps_the_product_asked_for(engine) -> None:  # type: ignore[no-untyped-def]
    for query in ("gift for mom lipstick", "送老婆的口红", "生日礼物 耳机"):
        r = engine.search(query, k=10)
        cats = [c["value"] for c in r.applied_filters if c["kind"] == "category"]
        assert r.no_exact_match is None and cats, query
        assert all(x.product.category == cats[0] for x in r.results), query


@pytest.mark.parametrize("query", ["laptop 16gb ram", "phone 8gb ram", "phone 5000mah battery",
                                   "tv 55 inch screen", "laptop 512gb ssd"])
def test_a_word_after_an_amount_is_what_it_measures(engine, query: str) -> None:  # type: ignore[no-untyped-def]
    """16gb ram, 5000mah battery: a spec of the product named, not another product."""
    r = engine.search(query, k=10)
    assert r.no_exact_match is None, (query, r.no_exact_match)
    cats = [c["value"] for c in r.applied_filters if c["kind"] == "category"]
    assert cats and all(x.product.category == cats[0] for x in r.results), query


@pytest.mark.parametrize("query", ["laptop ram", "laptop 2 bags"])
def test_a_thing_without_an_amount_or_counted_is_still_a_thing(engine, query: str) -> None:  # type: ignore[no-untyped-def]
    assert engine.search(query, k=10).no_exact_match is not None, query


@pytest.mark.parametrize("query", ["新款手机", "最近有什么新款手机推荐", "智能手机", "蓝牙耳机", "静音空调"])
def test_a_chinese_compound_ending_in_a_product_word_is_that_product(engine, query: str) -> None:  # type: ignore[no-untyped-def]
    """Chinese compounds are head-final: 新款手机 is a phone (of a new model), not a type the
    shop lacks; 手机支架 (a stand) and 电视柜 (a cabinet) end in other heads."""
    r = engine.search(query, k=10)
    assert r.no_exact_match is None, (query, r.no_exact_match)
    cats = [c["value"] for c in r.applied_filters if c["kind"] == "category"]
    assert cats and all(x.product.category == cats[0] for x in r.results), query
    for other in ("手机支架", "电视柜"):
        assert engine.search(other, k=10).no_exact_match is not None, other


@pytest.mark.parametrize(("query", "leaf"), [("婴儿纸尿裤", "纸尿裤"), ("手机耳机", "耳机")])
def test_two_product_words_of_one_department_are_a_kind_of_the_head(engine, query: str,  # type: ignore[no-untyped-def]
                                                                     leaf: str) -> None:
    r = engine.search(query, k=10)
    assert r.no_exact_match is None, (query, r.no_exact_match)
    assert r.results and all(x.product.category.endswith(leaf) for x in r.results), query


@pytest.mark.parametrize("query", ["iphone 16 pro max", "samsung galaxy s24 ultra", "macbook air"])
def test_a_models_suffix_is_no_product_type(engine, query: str) -> None:  # type: ignore[no-untyped-def]
    assert engine.search(query, k=10).no_exact_match is None, query
