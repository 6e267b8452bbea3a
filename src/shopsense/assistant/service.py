"""The turns that are not about products (shop policy, orders and accounts, chit-chat, out of
scope) and "do you sell X?" for a type the catalogue does not carry. None of them returns a
product list; policy answers quote and cite the knowledge-base passage they used, and every
question the shop's documents do not answer says so and names how to reach a person."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shopsense.assistant.acts import Ctx, Turnout
from shopsense.assistant.catalogue import category_label, presence
from shopsense.assistant.facts import Fact
from shopsense.assistant.intents import cues
from shopsense.knowledge import Answer

if TYPE_CHECKING:
    from shopsense.assistant.engine import Assistant

THANKS = ("谢谢", "多谢", "thanks", "thank you")
BYE = ("再见", "拜拜", "bye", "goodbye")
WHO = ("你是谁", "你叫什么", "你是机器人", "who are you", "are you a bot")


def knowledge_facts(answer: Answer) -> list[Fact]:
    p = answer.passage
    if p is None:
        return []
    return [Fact(None, f"knowledge.{p.passage_id}", value)
            for value in (p.title, p.heading, p.text) if value]


def citation(answer: Answer) -> dict[str, object] | None:
    p = answer.passage
    if p is None:
        return None
    return {"n": 1, "passage_id": p.passage_id, "doc_id": p.doc_id, "title": p.title,
            "heading": p.heading, "text": p.text, "language": p.language,
            "score": round(answer.hits[0].score, 5)}


def handoff(a: Assistant, language: str) -> str:
    contact = a.settings.contact_zh if language == "zh" else a.settings.contact_en
    return contact


def policy(a: Assistant, ctx: Ctx) -> Turnout:
    zh = ctx.language == "zh"
    answer = a.knowledge.ask(ctx.text, ctx.language)
    if answer.passage is None:
        text = (f"本店的政策文档里没有找到这个问题的答案，我不想猜。{handoff(a, 'zh')}" if zh else
                "Our policy documents do not answer that, and I would rather not guess. "
                f"{handoff(a, 'en')}")
        return Turnout(text, [], surface="knowledge", knowledge=answer)
    p = answer.passage
    where = f"{p.title} › {p.heading}" if p.heading else p.title
    text = (f"根据本店政策（{p.heading or p.title}）：\n“{p.text}” [1]\n\n来源：[1] {where}" if zh
            else f"From our policies ({p.heading or p.title}):\n“{p.text}” [1]\n\n"
            f"Source: [1] {where}")
    return Turnout(text, knowledge_facts(answer), surface="knowledge", knowledge=answer)


def order(a: Assistant, ctx: Ctx) -> Turnout:
    zh = ctx.language == "zh"
    text = ("我是购物助手，看不到订单、物流和账户信息，也不能修改它们。" + handoff(a, "zh") if zh
            else "I am the shopping assistant: I cannot see or change orders, deliveries or "
            "accounts. " + handoff(a, "en"))
    return Turnout(text, [], surface="handoff")


def out_of_scope(a: Assistant, ctx: Ctx) -> Turnout:
    zh = ctx.language == "zh"
    text = ("这个问题超出了我能帮忙的范围：我只能回答本店商品和购物政策的问题。可以试试“推荐一款手机”或"
            "“退货政策是什么”。" if zh else
            "That is outside what I can help with: I only answer questions about this shop's "
            "products and policies. Try “recommend a phone” or “what is your return policy?”.")
    return Turnout(text, [], surface="none")


def chitchat(a: Assistant, ctx: Ctx) -> Turnout:
    zh, text = ctx.language == "zh", ctx.text
    if cues(text, THANKS):
        reply = "不客气！还需要找什么商品或了解什么政策，随时问我。" if zh else \
            "You're welcome! Ask me any time about products or shop policies."
    elif cues(text, BYE):
        reply = "再见，欢迎再来逛逛！" if zh else "Goodbye, come back any time!"
    elif cues(text, WHO):
        reply = ("我是本店的购物助手：帮你找商品、比较商品，回答商品参数和本店政策的问题。" if zh else
                 "I am this shop's shopping assistant: I find and compare products and answer "
                 "questions about them and about the shop's policies.")
    else:
        return help_reply(ctx)
    return Turnout(reply, [])


def help_reply(ctx: Ctx) -> Turnout:
    from shopsense.assistant import respond

    text, facts = respond.help_reply(ctx.language)
    return Turnout(text, facts)


def absent(a: Assistant, ctx: Ctx) -> Turnout:
    """"有剃须刀吗" when no product is one: no, plus the nearest categories that exist."""
    zh, subject = ctx.language == "zh", ctx.turn.subject
    found = presence(a.shop, subject)
    leaves = found.related
    facts = [Fact(None, "catalogue.related_category", c) for c in found.related]
    if zh:
        text = f"抱歉，本店目前没有卖“{subject}”。"
        if found.related:
            text += "以下是店里相关的类目（不是“" + subject + "”）：" + "、".join(leaves) + "。"
    else:
        text = f"Sorry, this shop does not sell “{subject}”."
        if found.related:
            text += (f" Related categories we do carry (not “{subject}”): "
                     + ", ".join(category_label(a.shop, c, "en") for c in leaves) + ".")
    return Turnout(text, facts, surface="absent", related=found.related)


SERVICE_ACTS = {"policy": policy, "order": order, "out_of_scope": out_of_scope,
                "chitchat": chitchat, "absent": absent}
