"""QueryUnderstander on the real demo catalogue: the hand-written query suite, aliases,
persistence and input validation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shopsense.domain import Product, QueryReading
from shopsense.text.understand import QueryUnderstander, build_understander, detect_language
from shopsense.text.understand.evaluate import field_results, suite_accuracy

SUITE = Path(__file__).with_name("query_suite.jsonl")


def load_suite() -> list[dict]:
    return [json.loads(line) for line in SUITE.read_text(encoding="utf-8").splitlines() if line]


def test_suite_is_large_and_bilingual() -> None:
    suite = load_suite()
    languages = [row["language"] for row in suite]
    assert len(suite) >= 150
    assert languages.count("zh") >= 75 and languages.count("en") >= 75


def test_query_suite_field_accuracy(understander) -> None:
    suite = load_suite()
    readings = [understander.understand(row["query"]) for row in suite]
    accuracy, wrong = suite_accuracy(readings, suite)
    assert accuracy >= 0.95, wrong[:20]


def test_field_scoring_can_fail(understander) -> None:
    reading = understander.understand("格力空调 1.5匹")
    results = field_results(reading, {"query": "x", "language": "zh",
                                      "category": "家电 > 冰箱", "brands": ["美的"]})
    assert not results["category"] and not results["brands"] and results["language"]


def test_brand_aliases_learned_from_catalogue(understander) -> None:
    aliases = {g.values for g in understander.brands_}
    for pair in [("格力", "Gree"), ("小米", "Xiaomi"), ("苹果", "Apple"), ("耐克", "Nike"),
                 ("新百伦", "New Balance"), ("乐事", "Lay's"), ("飞鹤", "Feihe")]:
        assert pair in aliases
    # zh and en queries land on the same alias tuple
    zh = understander.understand("格力空调").brands[0].value
    en = understander.understand("GREE air conditioner").brands[0].value
    assert zh == en == ("格力", "Gree")


def test_reading_carries_spans_and_text(understander) -> None:
    query = "美的变频空调 1.5匹 3000元以下"
    reading = understander.understand(query)
    for slot in (reading.brands[0], reading.attributes[0], reading.price_max, reading.category):
        start, end = slot.span
        assert query[start:end] == slot.text
        assert 0.0 <= slot.confidence <= 1.0
    assert reading.price_max.text == "3000元以下"
    assert "3000" not in reading.residual


def test_cross_lingual_attributes(understander) -> None:
    red_zh = understander.understand("红色连衣裙").attributes[0].value
    red_en = understander.understand("red dress").attributes[0].value
    assert red_zh == red_en == ("colour", ("红色", "正红色", "red"))  # 正红色 = red (lipsticks)
    power = understander.understand("2 hp air conditioner").attributes[0].value
    assert power == ("power", ("2匹", "2 HP"))


def test_attribute_outside_the_category_is_dropped(understander) -> None:
    # 黑 (black) is a colour, but coffee has no colour: 黑咖啡 is a coffee, not a black thing.
    reading = understander.understand("black coffee")
    assert reading.category.value == "食品 > 咖啡"
    assert all(s.value[0] != "colour" for s in reading.attributes)


def test_intents(understander) -> None:
    intent = {q: understander.understand(q).intent.value for q in (
        "格力和美的空调哪个好", "gree vs midea", "空调怎么退货", "what is the warranty?",
        "我想买一台海信电视", "buy a philips monitor", "华为", "Dyson", "red dress")}
    assert intent == {
        "格力和美的空调哪个好": "compare", "gree vs midea": "compare", "空调怎么退货": "question",
        "what is the warranty?": "question", "我想买一台海信电视": "buy",
        "buy a philips monitor": "buy", "华为": "navigational", "Dyson": "navigational",
        "red dress": "browse"}


def test_model_numbers(understander) -> None:
    reading = understander.understand("Sony WH-1000XM5 headphones")
    assert [s.value for s in reading.model_numbers] == ["WH-1000XM5"]
    assert understander.understand("256GB 5G phone").model_numbers == ()


@pytest.mark.parametrize(("query", "language"), [
    ("格力空调", "zh"), ("华为手机 256GB", "zh"), ("65英寸 4K 电视", "zh"), ("好奇纸尿裤 XL", "zh"),
    ("iPhone 16 手机壳", "mixed"), ("nike 运动鞋", "mixed"), ("华为 phone under 3000", "mixed"),
    ("red dress", "en"), ("", "en"),
])
def test_language(query: str, language: str) -> None:
    assert detect_language(query, {"xl", "nb"}) == language


def test_product_lines_name_their_brand(understander) -> None:
    reading = understander.understand("macbook 16GB")
    assert [s.value for s in reading.brands] == [("苹果", "Apple")]
    assert reading.category.value == "电脑办公 > 笔记本"
    case = understander.understand("iPhone 15 手机壳")  # a case that fits an iPhone: no brand
    assert case.brands == () and case.category.value == "手机数码 > 手机壳"


def test_attributes_and_brands_point_at_a_category(understander) -> None:
    assert understander.understand("云南普洱茶").category.value == "食品 > 茶叶"
    assert understander.understand("华为 earphones").category.value == "手机数码 > 耳机"


def test_save_load_round_trip(understander, tmp_path: Path) -> None:
    understander.save(tmp_path)
    saved = {p.name for p in tmp_path.iterdir()}
    assert {"config.json", "lexicon.json", "category_coef.npy", "centroids.npy"} <= saved
    assert not any(name.endswith((".pkl", ".pickle")) for name in saved)
    loaded = QueryUnderstander.load(tmp_path)
    for row in load_suite()[::7]:
        assert loaded.understand(row["query"]) == understander.understand(row["query"])


def test_empty_and_odd_queries(understander) -> None:
    for query in ("", "   ", "???", "12345", "的的的", "a" * 500):
        reading = understander.understand(query)
        assert isinstance(reading, QueryReading)
        assert reading.query == query


def test_fit_validation() -> None:
    with pytest.raises(ValueError):
        QueryUnderstander().fit([])
    with pytest.raises(ValueError):
        QueryUnderstander(encoder="bert").fit([Product("1", "x")])
    with pytest.raises(RuntimeError):
        QueryUnderstander().understand("x")


def test_lexicon_only_on_a_tiny_catalogue() -> None:
    products = [
        Product("1", "格力(GREE) 变频空调 1.5匹 白色", category="家电 > 空调", brand="格力",
                price=3000, currency="CNY", attributes={"power": "1.5匹", "colour": "白色"}),
        Product("2", "Gree Inverter Air Conditioner 1.5 HP, White", category="家电 > 空调",
                brand="Gree", price=3100, currency="CNY",
                attributes={"power": "1.5 HP", "colour": "white"}),
        Product("3", "美的(Midea) 冰箱 325L 白色", category="家电 > 冰箱", brand="美的",
                price=2000, currency="CNY", attributes={"capacity": "325L", "colour": "白色"}),
        Product("4", "Midea Refrigerator 325L, White", category="家电 > 冰箱", brand="Midea",
                price=2100, currency="CNY", attributes={"capacity": "325L", "colour": "white"}),
    ]
    lexical = QueryUnderstander(encoder="none").fit(products, ["格力空调", "美的冰箱"])
    reading = lexical.understand("gree 空调 1.5 hp 不要白色")
    assert reading.brands[0].value == ("格力", "Gree")  # linked by the bracketed tag
    assert reading.category.value == "家电 > 空调"
    assert reading.attributes[0].value == ("power", ("1.5匹", "1.5 HP"))  # by the number
    assert reading.exclusions[0].value == ("attribute", ("colour", ("白色",)))  # no encoder
    encoded = build_understander(products, None)
    reading = encoded.understand("gree 空调 1.5 hp 不要白色")
    assert reading.exclusions[0].value == ("attribute", ("colour", ("白色", "white")))


def test_tagger_adds_product_words_the_catalogue_lacks(understander, tmp_path: Path) -> None:
    from shopsense.text.tagger import CrfTagger, Sentence

    def sentence(brand: str, product: str) -> Sentence:
        labels = [("B-" if i == 0 else "I-") + "HPPX" for i in range(len(brand))]
        labels += [("B-" if i == 0 else "I-") + "HCCX" for i in range(len(product))]
        return Sentence(tuple(brand + product), tuple(labels))

    toy = [sentence(b, p) for b in ("格力", "美的", "艾美") for p in ("电风扇", "电饭煲", "空调")]
    tagger = CrfTagger(max_iterations=50).fit(toy * 3, tmp_path / "tagger")
    understander.save(tmp_path / "u")
    tagged = QueryUnderstander.load(tmp_path / "u").use_tagger(tagger)
    plain = understander.understand("格力电风扇")
    reading = tagged.understand("格力电风扇")
    assert "电风扇" not in [s.value for s in plain.product_terms]  # not a catalogue word
    assert "电风扇" in [s.value for s in reading.product_terms]
    assert reading.brands == plain.brands
    # the shop sells no fans: Gree's category (air conditioners) is only a soft hint now
    assert reading.category is None or reading.category.confidence < 0.5


def test_unknown_word_read_as_its_nearest_attribute_value(understander) -> None:
    reading = understander.understand("全棉四件套")  # the catalogue writes 纯棉, never 全棉
    assert reading.category.value == "家居 > 床品"
    [slot] = reading.attributes
    assert slot.value == ("material", ("纯棉", "cotton"))
    assert slot.text == "全棉" and 0.5 <= slot.confidence < 0.9  # weaker than a literal match


def _shoe_shop() -> list[Product]:
    """Both languages: the word 鞋 / shoes is written only in sneaker titles, boots write 靴 /
    boots; a phone leaf whose own name is part of its parent's (手机 of 手机数码)."""
    rows = [("鞋靴 > 运动鞋", t) for t in (
        "耐克 男子 跑步 鞋 白色", "阿迪达斯 篮球 鞋 黑色", "安踏 休闲 鞋 灰色", "李宁 训练 鞋 蓝色")]
    rows += [("鞋靴 > 靴子", t) for t in (
        "马丁 真皮 靴子 黑色", "添柏岚 防水 靴子 棕色", "UGG 雪地 靴子 灰色", "百丽 短 靴子 红色")]
    rows += [("手机数码 > 手机", t) for t in (
        "小米 手机 256GB 黑色", "华为 手机 512GB 白色", "荣耀 手机 128GB 蓝色")]
    rows += [("手机数码 > 耳机", t) for t in ("索尼 耳机 降噪", "漫步者 耳机 蓝牙", "华为 耳机 无线")]
    rows += [("Shoes & Boots > Sneakers", t) for t in (
        "Nike running shoes white", "Adidas court shoes black", "Puma road shoes grey",
        "Asics trail shoes blue")]
    rows += [("Shoes & Boots > Boots", t) for t in (
        "Timberland leather boots brown", "Ugg snow boots grey", "Hunter rain boots green",
        "Dr Martens ankle boots black")]
    rows += [("Kitchen > Kettles", t) for t in (
        "Smeg electric kettle cream", "Bosch electric kettle steel", "Philips electric kettle")]
    return [Product(str(i), title, category=category) for i, (category, title) in enumerate(rows)]


def test_a_product_word_naming_a_parent_category_is_not_narrowed_to_one_child() -> None:
    """鞋 / shoes point at sneakers by the titles that write them, but a shopper typing them
    asks for 鞋靴 / Shoes & Boots: the reading is the node above both leaves."""
    u = QueryUnderstander(encoder="none").fit(_shoe_shop())
    assert u.node_words_ == {"鞋": "鞋靴", "shoes": "Shoes & Boots"}
    for query, node in (("鞋", "鞋靴"), ("鞋子", "鞋靴"), ("shoes", "Shoes & Boots")):
        assert u.understand(query).category.value == node, query
    # the leaves' own words still read as the leaf; a leaf's own name is that leaf's
    assert u.understand("靴子").category.value == "鞋靴 > 靴子"
    assert u.understand("boots").category.value == "Shoes & Boots > Boots"
    assert u.understand("手机").category.value == "手机数码 > 手机"
    # negated, the whole node is excluded
    assert ("category", "鞋靴") in [s.value for s in u.understand("不要鞋").exclusions]
    assert ("category", "Shoes & Boots") in [
        s.value for s in u.understand("no shoes").exclusions]


def test_node_words_survive_save_and_load(tmp_path: Path) -> None:
    u = QueryUnderstander(encoder="none").fit(_shoe_shop())
    u.save(tmp_path)
    loaded = QueryUnderstander.load(tmp_path)
    assert loaded.node_words_ == u.node_words_
    assert loaded.understand("鞋").category.value == "鞋靴"


@pytest.mark.parametrize(("query", "brand"), [
    ("xioami tv", "Xiaomi"), ("sasmung phone", "Samsung"), ("haeir fridge", "Haier"),
    ("sennheisr headphones", "Sennheiser"), ("coulmbia boots", "Columbia")])
def test_a_misspelt_brand_reads_as_the_brand(understander, query: str, brand: str) -> None:
    reading = understander.understand(query)
    assert [s.value[1] for s in reading.brands] == [brand]
    assert reading.brands[0].confidence == 0.8  # below an exact name, still a hard filter
    negated = understander.understand(f"phone not {query.split()[0]}")
    assert ("brand", reading.brands[0].value) in [s.value for s in negated.exclusions]


@pytest.mark.parametrize("query", ["hair dryer", "hair shampoo", "running shoes",
                                   "waterproof boots", "sofa", "printer"])
def test_catalogue_words_are_not_misspelt_brands(understander, query: str) -> None:
    """hair is one letter from Haier, but a word of the catalogue's product words."""
    assert understander.understand(query).brands == ()


def test_a_word_the_segmenter_hides_inside_one_leaf_is_no_other_leafs_word() -> None:
    """rjieba keeps 笔记本电脑 whole but cuts 平板电脑 into 平板 / 电脑, so 电脑 was learned as a
    tablet word and 电脑, 台式电脑 (desktops: not sold) and 手提电脑 (laptops) were filtered to
    tablets. Where titles *write* it, 电脑 is both leaves' head: no one leaf's word. A word
    written only before a longer product word (手机 of 手机壳) still is its own leaf's."""
    rows = [("电脑办公 > 笔记本", f"{b} 笔记本电脑 {s}英寸 16GB") for b in ("联想", "戴尔", "惠普", "华硕")
            for s in (14, 16)]
    rows += [("手机数码 > 平板", f"{b} 平板电脑 {s}英寸 256GB") for b in ("华为", "小米", "三星", "苹果")
             for s in (11, 13)]
    rows += [("手机数码 > 手机", f"{b} 手机 256GB 黑色") for b in ("小米", "华为", "荣耀", "一加")]
    rows += [("手机数码 > 手机壳", f"{b} 手机壳 iPhone 15 硅胶") for b in ("倍思", "绿联", "图拉斯")]
    products = [Product(str(i), t, category=c) for i, (c, t) in enumerate(rows)]
    u = QueryUnderstander(encoder="none").fit(products)
    assert "电脑" not in u.terms_, u.terms_.get("电脑")
    assert u.terms_["笔记本电脑"] == {"电脑办公 > 笔记本": 1.0}
    assert u.terms_["手机"] == {"手机数码 > 手机": 1.0}
    for query in ("电脑", "台式电脑"):
        reading = u.understand(query)
        assert reading.category is None or reading.category.value != "手机数码 > 平板", query
    assert u.understand("笔记本电脑").category.value == "电脑办公 > 笔记本"
    assert u.understand("平板").category.value == "手机数码 > 平板"
