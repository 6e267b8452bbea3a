"""Intents beyond products, zh + en, each with a confidence; non-product turns list nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest

from shopsense.assistant.intents import INTENTS, cues, service_intent
from shopsense.assistant.lexicon import sold_subject

CASES = [
    ("你们店退货政策是什么", "shop_policy"), ("多久能发货？", "shop_policy"),
    ("what is your return policy?", "shop_policy"), ("do you offer gift wrapping?", "shop_policy"),
    ("我的订单到哪了", "order_account"), ("where is my order?", "order_account"),
    ("I can't log in to my account", "order_account"), ("今天天气怎么样", "out_of_scope"),
    ("tell me a joke", "out_of_scope"), ("谢谢", "chit_chat"), ("who are you?", "chit_chat"),
    ("hi", "chit_chat")]


@pytest.mark.parametrize(("text", "intent"), CASES)
def test_service_intents(text: str, intent: str) -> None:
    found = service_intent(text, product_signals=False)
    assert found is not None and found.name == intent and 0.5 <= found.confidence <= 1


@pytest.mark.parametrize("text", ["high-end headphones", "推荐一款手机", "便宜一点的",
                                  "which is better, these two?"])
def test_product_turns_are_not_service_turns(text: str) -> None:
    assert service_intent(text, product_signals=False) is None


def test_words_match_whole() -> None:
    assert cues("high-end phone", ("hi",)) == () and cues("returns?", ("return",)) == ("return",)


@pytest.mark.parametrize(("text", "subject"), [
    ("有剃须刀吗", "剃须刀"), ("你们有卖微波炉吗", "微波炉"), ("do you sell microwave ovens?",
                                                    "microwave ovens"),
    ("Do you have any drones?", "drones"), ("can I buy a bicycle here?", "bicycle"),
    ("有货吗", ""), ("还有吗", ""), ("推荐一款手机", "")])
def test_do_you_sell(text: str, subject: str) -> None:
    assert sold_subject(text) == subject


@pytest.mark.parametrize(("text", "intent", "act"), [
    ("推荐一款手机", "product_search", "search"), ("退货政策", "shop_policy", "policy"),
    ("where is my order?", "order_account", "order"), ("今天天气怎么样", "out_of_scope",
                                                       "out_of_scope"),
    ("有剃须刀吗", "product_search", "absent"), ("do you sell microwave ovens?",
                                                 "product_search", "absent")])
def test_chat_reports_the_intent(assistant: Any, text: str, intent: str, act: str) -> None:
    reply = assistant.chat(text, session="intents")
    assert reply["intent"]["name"] == intent and reply["act"] == act
    assert reply["intent"]["name"] in INTENTS and 0.5 <= reply["intent"]["confidence"] <= 1
    if intent != "product_search" or act == "absent":
        assert reply["items"] == [] and not reply["listing"]


def test_absent_products_offer_labelled_related_categories(assistant: Any) -> None:
    reply = assistant.chat("do you sell microwave ovens?", session="absent")
    assert reply["related_categories"] and reply["related_categories"][0] == "家电 > 冰箱"
    assert "does not sell" in reply["reply"] and "not “microwave ovens”" in reply["reply"]
    # an English reply names the categories in English (the glossary), a Chinese one in Chinese
    named = reply["reply"].split("Related categories", 1)[1]
    assert not re.search(r"[\u4e00-\u9fff]", named), reply["reply"]
    assert "Refrigerator" in named or "Fridge" in named, reply["reply"]
    zh = assistant.chat("有微波炉吗", session="absent-zh")
    assert zh["related_categories"] and zh["related_categories"][0] in zh["reply"], zh["reply"]
    carried = assistant.chat("有手机吗", session="absent")
    assert carried["act"] == "search" and carried["items"]


def test_purposes_respect_budget_and_stock(assistant: Any, demo_shop: Any) -> None:
    import numpy as np

    reply = assistant.chat("推荐一款适合学生的笔记本", session="student")
    laptops = sorted(p.price for p in demo_shop.products.values()
                     if p.category == "电脑办公 > 笔记本")
    band = float(np.quantile(laptops, 0.4))
    assert reply["constraints"]["purpose"] == "student" and len(reply["items"]) >= 3
    assert all(i["available"] for i in reply["items"])
    assert all(i["price"] <= band for i in reply["items"][:3])
    plain = assistant.chat("推荐一款笔记本", session="student-2")
    assert max(i["price"] for i in plain["items"]) >= max(i["price"] for i in reply["items"])
    gift = assistant.chat("送爸爸的礼物", session="dad")
    assert gift["items"] and not any("母婴" in i["category"] for i in gift["items"])


@pytest.mark.parametrize(("absent", "instead", "language"), [
    ("你们卖洗碗机吗", "那有什么类似的", "zh"), ("有微波炉吗", "有别的可以推荐吗", "zh"),
    ("do you sell microwave ovens?", "what do you have instead?", "en"),
    ("do you sell microwave ovens?", "any alternatives?", "en")])
def test_after_an_absent_type_the_related_categories_are_shown(assistant: Any, absent: str,
                                                               instead: str,
                                                               language: str) -> None:
    """"We don't sell X", then "what is similar?": the related categories' products, said to
    be in place of X, not "nothing matches" (nor X's own name on them)."""
    first = assistant.chat(absent, session=f"instead-{language}-{absent}")
    assert first["act"] == "absent" and first["related_categories"], first["reply"]
    reply = assistant.chat(instead, session=f"instead-{language}-{absent}",
                           conversation_id=first["conversation_id"])
    assert reply["listing"] and reply["items"], reply["reply"]
    shown = {i["category"] for i in reply["items"]}
    assert shown <= set(first["related_categories"]), (shown, first["related_categories"])
    assert ("不是" if language == "zh" else "not") in reply["reply"], reply["reply"]
    again = assistant.chat("有手机吗" if language == "zh" else "do you have phones?",
                           session=f"instead-{language}-{absent}",
                           conversation_id=first["conversation_id"])
    assert again["items"] and all("手机" in i["category"] for i in again["items"])


@pytest.mark.parametrize("message", ["买个剃须刀", "我想给我爸买个剃须刀", "帮我找剃须刀", "我想买个洗碗机",
                                     "I want to buy a shaver for my dad", "find me a necktie"])
def test_an_absent_type_asked_as_an_order_is_told_absent(assistant: Any, message: str) -> None:
    """Asked as a wish ("买个剃须刀"), not as a question ("有剃须刀吗"), a type the shop does not
    sell is still said to be absent: its alternatives were listed as if they were it."""
    reply = assistant.chat(message, session=f"order-{message}")
    assert reply["act"] == "absent" and not reply["items"], reply["reply"]
    assert reply["related_categories"], reply["reply"]


@pytest.mark.parametrize("message", ["买个手机", "送爸爸的礼物", "帮我找一款便宜的耳机", "I want a laptop"])
def test_a_sold_type_asked_as_an_order_is_listed(assistant: Any, message: str) -> None:
    reply = assistant.chat(message, session=f"sold-{message}")
    assert reply["act"] != "absent" and reply["items"], reply["reply"]
