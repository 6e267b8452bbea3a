"""What does this turn ask for? Act, referenced items, refinement direction, asked fields.

Reads the conversational side of one message (query understanding has read the product
side): "the second one" / "第二个" and "these two" / "这两个" resolve against the last result
list, "it" / "这款" against the focused item; "cheaper" / "便宜一点" is a refinement; words of
`FIELD_QUESTIONS` name the catalogue fields a question asks for, `OPEN_TOPICS` the topics a
catalogue may not cover (camera, battery, ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from shopsense.assistant import lexicon as lx
from shopsense.assistant.state import Conversation
from shopsense.domain import QueryReading
from shopsense.rank.filters import category_matches

ACTS = ("search", "question", "compare", "similar", "select", "more", "accept", "dismiss",
        "reset", "recommend", "help", "policy", "order", "chitchat", "out_of_scope", "absent")
CJK_RE = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True, slots=True)
class Turn:
    act: str
    language: str
    targets: tuple[str, ...] = ()  # item ids the turn refers to
    direction: str | None = None  # cheaper | pricier
    fields: tuple[str, ...] = ()  # catalogue fields asked for
    topics: tuple[str, ...] = ()  # open topics asked for (camera, battery, ...)
    newest: bool = False
    rank_by: str | None = None  # cheapest | priciest ("which is the cheapest?")
    subject: str = ""  # X of "do you sell X?", when the catalogue does not carry it


def language_of(text: str, reading: QueryReading | None, fallback: str = "zh") -> str:
    if CJK_RE.search(text):
        return "zh"
    if re.search(r"[A-Za-z]", text):
        return "en"
    return reading.language if reading is not None and reading.language in ("zh", "en") \
        else fallback


def ordinals(text: str) -> list[int]:
    found: list[tuple[int, int]] = []
    for m in lx.ZH_ORDINAL_RE.finditer(text):
        raw = m.group(1)
        found.append((m.start(), int(raw) if raw.isdigit() else lx.ZH_ORDINALS[raw]))
    for m in lx.EN_ORDINAL_RE.finditer(text):
        word, digits = m.group(1), m.group(2)
        found.append((m.start(), int(digits) if digits else lx.EN_ORDINALS[word.lower()]))
    return [n for _, n in sorted(found)]


def resolve_targets(text: str, conv: Conversation) -> tuple[tuple[str, ...], str]:
    """(item ids referred to, how: "ordinal" | "pair" | "this" | "")."""
    shown = conv.last_items
    if lx.FIRST_TWO_RE.search(text):
        return tuple(shown[:2]), "pair"
    picks = [shown[n - 1] for n in ordinals(text) if 0 < n <= len(shown)]
    if lx.LAST_RE.search(text) and shown:
        picks.append(shown[-1])
    if picks:
        return tuple(dict.fromkeys(picks)), "ordinal"
    if lx.PAIR_RE.search(text):
        pair = conv.focus if len(conv.focus) >= 2 else shown[:2]
        return tuple(pair[:2]), "pair"
    if lx.THIS_RE.search(text):
        return tuple(conv.focus[:1] if conv.focus else shown[:5]), "this"
    return (), ""


def asked(text: str, reading: QueryReading | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(catalogue fields, open topics) a message asks about."""
    fields = [f for f, words in lx.FIELD_QUESTIONS.items() if lx.has_any(text, words)]
    low = text.lower()
    for slot in (reading.attributes if reading is not None else ()):
        key = slot.value[0]
        if f"attributes.{key}" not in fields and lx.has_any(low, (key.replace("_", " "),)):
            fields.append(f"attributes.{key}")
    topics = [t for t, (words, _, _) in lx.OPEN_TOPICS.items() if lx.has_any(text, words)]
    return tuple(dict.fromkeys(fields)), tuple(topics)


def stated_category(reading: QueryReading | None, current: str | None) -> str | None:
    """The product type this turn names, if it changes the conversation's one. A category
    read without a product word ("只要耐克") is the encoder's guess and does not move an
    existing subject; a broader category than the current one ("服饰" while on 羽绒服) neither."""
    slot = reading.category if reading is not None else None
    if slot is None or slot.confidence < 0.5:
        return None
    if current and (not reading.product_terms or category_matches(current, slot.value)):
        return None
    return None if slot.value == current else str(slot.value)


def _new_subject(reading: QueryReading | None, conv: Conversation) -> bool:
    return stated_category(reading, conv.constraints.category) is not None


@dataclass
class _Signals:
    """Everything the act decision looks at, read once from the message."""

    text: str
    reading: QueryReading | None
    conv: Conversation
    targets: tuple[str, ...]
    how: str
    base: dict[str, Any]
    question: bool
    compare: bool
    new_subject: bool

    @property
    def direction(self) -> str | None:
        return self.base["direction"]

    @property
    def fields(self) -> tuple[str, ...]:
        return self.base["fields"]

    @property
    def topics(self) -> tuple[str, ...]:
        return self.base["topics"]


def read_turn(text: str, reading: QueryReading | None, conv: Conversation) -> Turn:
    targets, how = resolve_targets(text, conv)
    fields, topics = asked(text, reading)
    question = (lx.has_any(text, lx.QUESTION_MARKERS) or
                (reading is not None and reading.intent is not None and
                 reading.intent.value == "question"))
    base = {"language": language_of(text, reading, conv.language),
            "direction": ("cheaper" if lx.has_any(text, lx.CHEAPER) else
                          "pricier" if lx.has_any(text, lx.PRICIER) else None),
            "fields": fields, "topics": topics, "newest": lx.has_any(text, lx.NEWEST)}
    s = _Signals(text, reading, conv, targets, how, base, question,
                 lx.has_any(text, lx.COMPARE), _new_subject(reading, conv))
    return _conversational_act(s) or _product_act(s)


def _conversational_act(s: _Signals) -> Turn | None:
    """Acts about the conversation itself: reset, dismiss, yes, cheapest, more."""
    text, conv, targets, base = s.text, s.conv, s.targets, s.base
    if lx.has_any(text, lx.RESET):
        return Turn("reset", **base)
    if targets and s.how in ("ordinal", "this", "pair") and lx.has_any(text, lx.DISMISS):
        return Turn("dismiss", targets=targets if s.how != "this" else targets[:1], **base)
    short = len(text.strip().rstrip("!.。！?？")) <= 12
    if conv.pending is not None and short and lx.has_any(text, lx.ACCEPT):
        return Turn("accept", **base)
    rank_by = ("cheapest" if lx.has_any(text, lx.CHEAPEST) else
               "priciest" if lx.has_any(text, lx.PRICIEST) else None)
    if rank_by and (targets or conv.last_items) and not s.new_subject:
        ranked = targets if len(targets) >= 2 else tuple(conv.last_items)
        fields = ("price", *(f for f in s.fields if f != "price"))
        return Turn("question", targets=ranked, rank_by=rank_by,
                    **{**base, "direction": None, "fields": fields})
    if lx.has_any(text, lx.MORE) and conv.last_items and not s.new_subject and \
            s.direction is None and not _has_wishes(s.reading):
        return Turn("more", **base)
    return None


def _product_act(s: _Signals) -> Turn:
    """Acts about products: compare, question, similar, select, search, recommend, help."""
    conv, targets, base, direction = s.conv, s.targets, s.base, s.direction
    if len(targets) >= 2 and s.how in ("ordinal", "pair") and (
            s.compare or s.fields or s.topics or direction):
        return Turn("compare", targets=targets, **base)
    if s.compare and not targets and not s.fields and len(conv.last_items) >= 2 \
            and not s.new_subject and direction is None:
        return Turn("compare", targets=tuple(conv.last_items[:2]), **base)
    if lx.EXISTS_RE.search(s.text) and not s.how and direction is None and (
            any(f in lx.FLAG_FIELDS for f in s.fields) or bool(s.reading and
                                                                s.reading.attributes)):
        return Turn("search", **base)  # "有没有防水的": a filter, not a question
    if (s.fields or s.topics) and (s.question or s.compare) and direction is None:
        return Turn("question", targets=targets if (not s.new_subject or targets) else (),
                    **base)
    if conv.related and not (targets or conv.focus or conv.last_items or s.new_subject) \
            and lx.has_any(s.text, lx.INSTEAD):
        return Turn("similar", **base)  # in place of the type just found absent (acts.similar)
    if lx.has_any(s.text, lx.SIMILAR) and (targets or conv.focus or conv.last_items):
        anchor = targets or tuple(conv.focus[:1] or conv.last_items[:1])
        return Turn("similar", targets=anchor[:1], **base)
    if s.how == "ordinal" and direction is None and (not _has_wishes(s.reading) or
                                                     _asks_about(s.text)):
        return Turn("select", targets=targets[:1], **base)
    if direction or _has_wishes(s.reading) or s.new_subject:
        return Turn("search", targets=targets, **base)
    if lx.has_any(s.text, lx.RECOMMEND) or base["newest"]:
        return Turn("recommend", **base)
    if lx.has_any(s.text, lx.GREETING) or ordinals(s.text) or s.how:
        return Turn("help", **base)  # a greeting, or a reference to nothing shown
    return Turn("search", **base)  # free text: the engine's search decides


_ABOUT = re.compile(r"^[\s,，。.!！?？]*(?:那|那么|and|so)?\s*(?:怎么样|咋样|怎样|如何|好不好|好吗|行吗|呢|"
                    r"详情|详细|介绍一下|说说|看看|how about|what about|tell me (?:more )?about|"
                    r"details?(?: of)?|more about)?[\s,，。.!！?？呢吗]*$", re.IGNORECASE)


def _asks_about(text: str) -> bool:
    """"第二个怎么样", "how about the second one": the words beside the ordinal only ask
    about it (a tagger may take 怎么样 for a product word; it names no wish)."""
    bare = lx.EN_ORDINAL_RE.sub(" ", lx.ZH_ORDINAL_RE.sub(" ", text))
    bare = re.sub(r"\b(?:the|one|item)\b", " ", bare, flags=re.IGNORECASE)
    return bool(_ABOUT.match(bare))


def _has_wishes(reading: QueryReading | None) -> bool:
    if reading is None:
        return False
    return bool(reading.category or reading.brands or reading.price_min or reading.price_max or
                reading.attributes or reading.exclusions or reading.value_preference or
                reading.product_terms)
