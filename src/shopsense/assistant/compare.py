"""Side-by-side comparison of two or three cited products, from their stored fields only.

Rows: price, brand, availability, the fields the shopper asked about, then every attribute the
products share. A field one product lacks reads "not listed". A topic the catalogue has no
field for (camera, battery, ...) is answered with what the descriptions say about it, or
plainly that the catalogue does not say — never with a guess.
"""

from __future__ import annotations

from collections.abc import Sequence

from shopsense.assistant import lexicon as lx
from shopsense.assistant.facts import MISSING, Fact, field_value, format_value
from shopsense.assistant.respond import Reply, _attribute_fields, _sentences_about
from shopsense.domain import Product

LETTERS = "ABC"


def _rows(products: Sequence[Product], fields: Sequence[str]) -> list[str]:
    shared = [f for f in _attribute_fields(products[0])
              if all(field_value(p, f) is not MISSING for p in products[1:])]
    rows = ["price", "brand", "available", *fields, *shared]
    return list(dict.fromkeys(r for r in rows if not r.startswith("topic.")))


def _cell(p: Product, field: str, language: str) -> tuple[str, Fact]:
    value = field_value(p, field)
    if value is MISSING:
        return ("未列出" if language == "zh" else "not listed"), Fact(p.item_id, field, None)
    return format_value(field, value, language, p.currency or "CNY"), Fact(p.item_id, field, value)


def _cheaper(products: Sequence[Product], language: str) -> str:
    priced = [(p.price, i) for i, p in enumerate(products) if p.price is not None]
    if len(priced) < 2 or len({price for price, _ in priced}) < 2:
        return ""
    letter = LETTERS[min(priced)[1]]
    return f"{letter} 更便宜。" if language == "zh" else f"{letter} is cheaper."


def _topics(products: Sequence[Product], topics: Sequence[str], language: str) -> Reply:
    lines, facts = [], []
    zh = language == "zh"
    for topic in topics:
        words, zh_name, en_name = lx.OPEN_TOPICS[topic]
        these = "这两款" if len(products) == 2 else "这几款"
        lines.append(f"目录里没有{these}的{zh_name}，无法据此判断哪个更好。" if zh else
                     f"The catalogue doesn't list {en_name} for these, so I can't say which "
                     "is better on that.")
        for letter, p in zip(LETTERS, products, strict=False):
            quotes = _sentences_about(p, words)
            if quotes:
                joined = "”“".join(quotes)
                lines.append(f"不过 {letter} 的描述写道：“{joined}”。" if zh else
                             f"{letter}'s description does say: “{joined}”.")
                facts += [Fact(p.item_id, "description", q) for q in quotes]
    return "\n".join(lines), facts


def compare_reply(products: Sequence[Product], fields: Sequence[str], topics: Sequence[str],
                  language: str) -> Reply:
    products = list(products)[:3]
    zh = language == "zh"
    lines = [f"{letter}：{p.title}" if zh else f"{letter}: {p.title}"
             for letter, p in zip(LETTERS, products, strict=False)]
    facts = [Fact(p.item_id, "title", p.title) for p in products]
    letters = LETTERS[:len(products)]
    lines.append("| " + " | ".join(["", *letters]) + " |")
    lines.append("|" + "---|" * (len(products) + 1))
    for field in _rows(products, fields):
        cells = [_cell(p, field, language) for p in products]
        if all(f.value is None for _, f in cells):
            continue
        lines.append("| " + " | ".join([lx.label(field, language), *(c for c, _ in cells)]) + " |")
        facts += [f for _, f in cells]
    verdict = _cheaper(products, language)
    if verdict:
        lines.append(verdict)
    text, more = _topics(products, topics, language)
    if text:
        lines.append(text)
    return "\n".join(lines), facts + more
