"""Turn reading, the refinement rules and conversation memory, without a model."""

from __future__ import annotations

import pytest

from shopsense.assistant.merge import clean_reading, merge
from shopsense.assistant.state import Constraints, Conversation, ConversationStore
from shopsense.assistant.turn import read_turn
from shopsense.domain import Product, QueryReading, Slot

SHOWN = ["a", "b", "c", "d", "e"]


def conv(**kwargs: object) -> Conversation:
    made = Conversation("c1", "s1", last_items=list(SHOWN))
    for key, value in kwargs.items():
        setattr(made, key, value)
    return made


@pytest.mark.parametrize(("text", "act", "targets"), [
    ("第二个", "select", ("b",)), ("the second one", "select", ("b",)),
    ("最后一个", "select", ("e",)), ("#3", "select", ("c",)),
    ("这两个哪个拍照好", "compare", ("a", "b")), ("compare these two", "compare", ("a", "b")),
    ("第一个和第三个比较一下", "compare", ("a", "c")),
    ("is the second one in stock?", "question", ("b",)),
    ("第二个是几匹的", "question", ("b",)),
    ("start over", "reset", ()), ("你好", "help", ()),
    ("第九个", "help", ()),  # beyond the list: nothing to pick
    ("有没有防水的", "search", ()), ("any noise cancelling ones?", "search", ()),
    ("第一个防水吗", "question", ("a",)),
])
def test_acts_and_references(text: str, act: str, targets: tuple[str, ...]) -> None:
    turn = read_turn(text, QueryReading(query=text), conv())
    assert (turn.act, turn.targets) == (act, targets)


def test_it_means_the_focused_item_and_questions_name_fields_and_topics() -> None:
    turn = read_turn("is it waterproof?", QueryReading(query="x"), conv(focus=["c"]))
    assert (turn.act, turn.targets, turn.fields) == ("question", ("c",),
                                                     ("attributes.waterproof",))
    turn = read_turn("这两个哪个拍照好", QueryReading(query="x"), conv())
    assert turn.topics == ("camera",) and turn.language == "zh"
    assert read_turn("which stage is it", None, conv()).fields == ("attributes.stage",)


def test_cheaper_lowers_the_price_bound_below_the_median_shown() -> None:
    turn = read_turn("有没有便宜一点的", QueryReading(query="x"), conv())
    assert (turn.act, turn.direction) == ("search", "cheaper")
    before = Constraints(category="手机数码 > 手机", price_min=2500.0)
    after = merge(before, None, turn, [1000.0, 3000.0, 2000.0])
    assert (after.price_max, after.price_max_exclusive, after.price_min) == (2000.0, True, None)
    item = Product("x", "t", price=2000.0, category="手机数码 > 手机")
    assert not after.admits(item)  # exclusive: the median itself is not cheaper
    pricier = merge(before, None, read_turn("more expensive", None, conv()), [1000.0, 3000.0])
    assert (pricier.price_min, pricier.price_min_exclusive, pricier.price_max) == (2000.0, True,
                                                                                    None)


def _reading(**kwargs: object) -> QueryReading:
    return QueryReading(query="x", **kwargs)  # type: ignore[arg-type]


def test_exclusions_brands_and_a_new_product_type() -> None:
    apple = Slot(("brand", ("苹果", "Apple")), 0.95)
    c = Constraints(category="手机数码 > 手机", brands=(("苹果", "Apple"),), price_max=3000.0)
    turn = read_turn("不要苹果", None, conv())
    c = merge(c, _reading(exclusions=(apple,)), turn, [])
    assert c.brands == () and c.excluded_brands == (("苹果", "Apple"),)
    new = _reading(category=Slot("家电 > 空调", 0.9), product_terms=(Slot("空调", 1.0, None, "空调"),))
    c = merge(c, new, read_turn("空调", None, conv()), [])
    assert (c.category, c.price_max, c.excluded_brands, c.topic) == (
        "家电 > 空调", None, (("苹果", "Apple"),), "空调")
    guess = _reading(category=Slot("服饰", 0.6), brands=(Slot(("格力",), 0.95),))
    c = merge(c, guess, read_turn("只要格力", None, conv()), [])
    assert c.category == "家电 > 空调" and c.brands == (("格力",),)  # no product word: no move


def test_refinement_words_are_not_read_as_exclusions() -> None:
    reading = _reading(exclusions=(Slot(("term", "便宜"), 0.7),))
    assert clean_reading(reading).exclusions == ()


def test_store_ttl_cap_owner_isolation_and_erasure() -> None:
    store = ConversationStore(ttl_s=60, max_conversations=2)
    first = store.get("c1", "alice", "alice", now=0.0)
    first.last_items = ["a"]
    store.put(first, now=0.0)
    assert store.get("c1", "alice", now=30.0).last_items == ["a"]
    assert store.get("c1", "mallory", now=30.0).last_items == []  # same id, other shopper
    assert store.get("c1", "alice", now=100.0).last_items == []  # expired
    for n in range(3):
        store.put(Conversation(f"k{n}", "bob", "bob"), now=0.0)
    assert len(store) == 2
    assert store.forget_user("bob") == 2 and len(store) == 0
    with pytest.raises(ValueError):
        ConversationStore(ttl_s=0)


def test_turns_of_one_conversation_are_serialised() -> None:
    store = ConversationStore()
    assert store.lock_for("c1", "s1") is store.lock_for("c1", "s1")
    with store.lock_for("c1", "s1"):
        assert not store.lock_for("c1", "s1").acquire(blocking=False)


@pytest.mark.parametrize(("text", "target"), [("第二个怎么样", "b"), ("第一个呢", "a"),
                                              ("how about the second one", "b"),
                                              ("what about the 3rd one?", "c")])
def test_asking_about_an_ordinal_selects_it_whatever_the_tagger_made_of_the_asking(
        text: str, target: str) -> None:
    """The full demo's tagger took 怎么样 for a product word: "第二个怎么样" became a search for
    "怎么样". Words that only ask about the item picked name no wish."""
    tagged = QueryReading(query=text, product_terms=[Slot("怎么样", 0.6, (3, 6))])
    turn = read_turn(text, tagged, conv())
    assert (turn.act, turn.targets) == ("select", (target,))
