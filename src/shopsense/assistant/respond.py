"""The deterministic responder: zh / en templates over structured results, no model.

Every function returns `(text, facts)`: each number, brand and claim written into `text`
comes from a `Fact` in `facts` (a stored product field, or the shopper's own constraint),
which is what `check.check_reply` verifies.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from shopsense.assistant import lexicon as lx
from shopsense.assistant.facts import MISSING, Fact, describe, field_value, format_price
from shopsense.assistant.state import Constraints
from shopsense.domain import Product

Reply = tuple[str, list[Fact]]
SENTENCE_SPLIT_RE = re.compile(r"[。；;！!？?\n]|\.\s")


def _zh(language: str) -> bool:
    return language == "zh"


def in_language(values: Sequence[str], language: str) -> str:
    """The alias / value written in the reply's language when there is one."""
    for value in values:
        if str(value).isascii() == (language != "zh"):
            return str(value)
    return str(values[0])


def pick_value(values: Sequence[object], language: str) -> object:
    """A wanted attribute value to write: a flag as is, text in the reply's language."""
    if not values:
        return ""
    if not all(isinstance(v, str) for v in values):
        return values[0]
    return in_language([str(v) for v in values], language)


def _summary(c: Constraints, language: str) -> Reply:
    """The current constraints in words, each echoed value a constraint fact."""
    zh, parts, facts = _zh(language), [], []
    if c.price_min is not None:
        price = format_price(c.price_min, "CNY", language)
        parts.append((f"高于{price}" if c.price_min_exclusive else f"{price}以上") if zh else
                     (f"over {price}" if c.price_min_exclusive else f"from {price}"))
        facts.append(Fact(None, "constraint.price_min", c.price_min))
    if c.price_max is not None:
        price = format_price(c.price_max, "CNY", language)
        parts.append((f"低于{price}" if c.price_max_exclusive else f"{price}以内") if zh else
                     (f"under {price}" if c.price_max_exclusive else f"up to {price}"))
        facts.append(Fact(None, "constraint.price_max", c.price_max))
    for aliases in c.brands:
        name = in_language(aliases, language)
        parts.append(f"品牌：{name}" if zh else f"brand: {name}")
        facts.append(Fact(None, "constraint.brands", name))
    for aliases in c.excluded_brands:
        name = in_language(aliases, language)
        parts.append(f"不要{name}" if zh else f"not {name}")
        facts.append(Fact(None, "constraint.excluded_brands", name))
    for key, values in c.attributes:
        value = pick_value(values, language)
        parts.append(describe(f"attributes.{key}", value, language))
        facts.append(Fact(None, f"constraint.attributes.{key}", value))
    for term in c.excluded_terms:
        parts.append(f"不含“{term}”" if zh else f"without “{term}”")
        facts.append(Fact(None, "constraint.excluded_terms", term))
    return ("；" if zh else "; ").join(parts), facts


def _item_line(n: int, p: Product, language: str) -> Reply:
    facts = [Fact(p.item_id, "title", p.title)]
    line = f"{n}. {p.title}"
    if p.price is not None:
        line += f" — {format_price(p.price, p.currency, language)}"
        facts.append(Fact(p.item_id, "price", p.price))
    if not p.available:
        line += "（暂时无货）" if _zh(language) else " (out of stock)"
        facts.append(Fact(p.item_id, "available", False))
    return line, facts


def results_reply(products: Sequence[Product], c: Constraints, language: str,
                  note: str = "") -> Reply:
    zh = _zh(language)
    summary, facts = _summary(c, language)
    newest = ("最新的" if zh else "the newest ") if c.newest else ""
    if zh:
        head = f"为你找到这些{newest}{c.topic or '商品'}"
    else:
        head = f"Here are {newest}{'matches for “' + c.topic + '”' if c.topic else 'picks'}"
    head += (f"（{summary}）" if zh else f" ({summary})") if summary else ""
    lines = [head + ("：" if zh else ":")]
    if note:
        lines.insert(0, note)
    for n, p in enumerate(products, start=1):
        line, more = _item_line(n, p, language)
        lines.append(line)
        facts += more
    lines.append("可以说“第二个”看详情，或问“这两个哪个好”。" if zh else
                 "Say “the second one” for details, or “compare these two”.")
    return "\n".join(lines), facts


def empty_reply(c: Constraints, language: str) -> Reply:
    summary, facts = _summary(c, language)
    if _zh(language):
        text = "目录里没有符合这些条件的商品" + (f"（{summary}）" if summary else "") + \
            "。可以放宽价格、品牌或其他条件再试试。"
    else:
        text = "The catalogue has nothing that matches" + (f" ({summary})" if summary else "") + \
            ". Try relaxing the price, brand or other wishes."
    return text, facts


def _attribute_fields(p: Product) -> list[str]:
    return [f"attributes.{k}" for k, v in p.attributes.items()
            if k not in lx.HIDDEN_ATTRIBUTES and isinstance(v, (str, int, float, bool))]


def detail_reply(p: Product, language: str) -> Reply:
    """One product, every stored field a shopper can read."""
    zh = _zh(language)
    facts = [Fact(p.item_id, "title", p.title)]
    lines = [p.title]
    for field in ("brand", "price", "available", *_attribute_fields(p)):
        value = field_value(p, field)
        if value is MISSING:
            continue
        lines.append("· " + describe(field, value, language, p.currency or "CNY"))
        facts.append(Fact(p.item_id, field, value))
    lines.append("可以问我它的参数，或说“类似的”看相似商品。" if zh else
                 "Ask me about any of its specs, or say “similar” for alternatives.")
    return "\n".join(lines), facts


def _sentences_about(p: Product, words: Sequence[str]) -> list[str]:
    found = []
    for raw in SENTENCE_SPLIT_RE.split(p.description or ""):
        sentence = raw.strip(" ，,")
        if sentence and any(w.strip().lower() in sentence.lower() for w in words if w.strip()):
            found.append(sentence)
    return found[:2]


def field_answer(p: Product, field: str, language: str) -> Reply:
    """The stored value; else a description sentence that mentions it; else 'not listed'."""
    value = field_value(p, field)
    if value is not MISSING:
        return describe(field, value, language, p.currency or "CNY"), [Fact(p.item_id, field, value)]
    words = (*lx.FIELD_QUESTIONS.get(field, ()), lx.label(field, "zh"), lx.label(field, "en"))
    quotes = _sentences_about(p, words)
    if quotes:
        return _quote(p, quotes, language)
    text = (f"目录中没有列出{lx.label(field, 'zh')}" if _zh(language) else
            f"the catalogue does not list its {lx.label(field, 'en')}")
    return text, [Fact(p.item_id, field, None)]


def topic_answer(p: Product, topic: str, language: str) -> Reply:
    words, zh_name, en_name = lx.OPEN_TOPICS[topic]
    quotes = _sentences_about(p, words)
    if quotes:
        return _quote(p, quotes, language)
    return (f"目录中没有列出{zh_name}" if _zh(language) else
            f"the catalogue does not list {en_name}"), []


def _quote(p: Product, quotes: list[str], language: str) -> Reply:
    joined = "”“".join(quotes)
    text = f"商品描述写道：“{joined}”" if _zh(language) else f"its description says: “{joined}”"
    return text, [Fact(p.item_id, "description", q) for q in quotes]


def answer_reply(products: Sequence[Product], fields: Sequence[str], topics: Sequence[str],
                 language: str) -> Reply:
    zh, lines, facts = _zh(language), [], []
    for p in products:
        facts.append(Fact(p.item_id, "title", p.title))
        parts = []
        for field in fields:
            text, more = field_answer(p, field, language)
            parts.append(text)
            facts += more
        for topic in topics:
            text, more = topic_answer(p, topic, language)
            parts.append(text)
            facts += more
        lines.append(f"{p.title}：" + "；".join(parts) + "。" if zh else
                     f"{p.title}: " + "; ".join(parts) + ".")
    return "\n".join(lines), facts


def help_reply(language: str) -> Reply:
    if _zh(language):
        return ("我可以帮你在本店找商品、比较商品、回答商品参数问题。试试：“推荐一款手机”、"
                "“便宜一点的”、“不要某个品牌”、“第二个是什么颜色”、“这两个哪个好”。"), []
    return ("I can find products in this shop, compare them and answer questions from their "
            "listings. Try: “recommend a phone”, “cheaper”, “not <brand>”, “what colour is the "
            "second one?”, “compare these two”."), []


def reset_reply(language: str) -> Reply:
    return ("好的，已清空之前的条件。想找什么？" if _zh(language) else
            "Done, I have cleared the earlier wishes. What are you looking for?"), []


def relax_hint(name: str, value: object, language: str) -> Reply:
    """'Dropping X would give results — shall I?' (X is a constraint fact)."""
    zh = _zh(language)
    if name.startswith("attributes."):
        value = pick_value(value, language)  # type: ignore[arg-type]
        shown = describe(name, value, language)
        label = f"“{shown}”"
    elif name == "brands":
        shown = in_language([str(v) for v in value], language)  # type: ignore[union-attr]
        label = f"“{shown}”"
    else:
        shown = format_price(float(value), "CNY", language)  # type: ignore[arg-type]
        label = (("价格下限" if name == "price_min" else "价格上限") + shown if zh else
                 ("the minimum price " if name == "price_min" else "the price limit ") + shown)
    fact = Fact(None, f"constraint.{name}", shown if name == "brands" else value)
    text = (f"如果不限{label}，就有可选的商品。要我去掉这个条件吗？（回复“好的”）" if zh else
            f"Without {label} there are matches. Shall I drop it? (say “yes”)")
    return text, [fact]


def no_more_reply(language: str) -> Reply:
    return ("符合当前条件的商品都已经展示过了。可以换个条件试试。" if _zh(language) else
            "That is everything that matches these wishes. Try changing one of them."), []


def price_verdict(products: Sequence[Product], rank_by: str, language: str) -> Reply:
    priced = [p for p in products if p.price is not None]
    if not priced:
        return "", []
    pick = (min if rank_by == "cheapest" else max)(priced, key=lambda p: p.price or 0.0)
    word = ("最便宜" if rank_by == "cheapest" else "最贵") if _zh(language) else \
        ("cheapest" if rank_by == "cheapest" else "most expensive")
    price = format_price(float(pick.price or 0.0), pick.currency, language)
    text = (f"其中{word}的是：{pick.title}（{price}）。" if _zh(language) else
            f"The {word} of these is {pick.title} ({price}).")
    return text, [Fact(pick.item_id, "title", pick.title), Fact(pick.item_id, "price", pick.price)]


def recommend_note(surface: str, language: str) -> str:
    if surface == "for_you":
        return "根据你在本店的浏览和购买记录推荐：" if _zh(language) else \
            "Picked from what you browsed and bought here:"
    return "你还没有浏览记录，先看看大家都在买什么：" if _zh(language) else \
        "No history yet, so here is what is popular now:"


def dismissed_note(products: Sequence[Product], language: str) -> Reply:
    """Confirms without naming them (a reply cites only the items it shows)."""
    if _zh(language):
        return ("好的，不会再向你推荐这件商品。" if len(products) == 1 else
                "好的，不会再向你推荐这些商品。"), []
    return ("Done: I won't show you that one again." if len(products) == 1 else
            "Done: I won't show you those again."), []


def dismiss_needs_identity(language: str) -> Reply:
    return ("要记住你的偏好，需要会话或登录信息。" if _zh(language) else
            "To remember that, I need your session or login."), []
