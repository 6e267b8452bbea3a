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

from shopsense.assistant import lexicon as lx
from shopsense.assistant.state import Conversation
from shopsense.domain import QueryReading

ACTS = ("search", "question", "compare", "similar", "select", "reset", "recommend", "help")
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
    brand_only: bool = False


def language_of(text: str, reading: QueryReading | None, fallback: str = "zh") -> str:
    if CJK_RE.search(text):
        return "zh"
    if re.search(r"[A-Za-z]", text):
        return "en"
    return reading.language if reading is not None and reading.language in ("zh", "en") \
        else fallback


def _ordinals(text: str) -> list[int]:
    found: list[tuple[int, int]] = []
    for m in lx.ZH_ORDINAL_RE.finditer(text):
        raw = m.group(1)
        found.append((m.start(), int(raw) if raw.isdigit() else lx.ZH_ORDINALS[raw]))
    for m in lx.EN_ORDINAL_RE.finditer(text):
        word, digits = m.group(1), m.group(2)
        found.append((m.start(), int(digits) if digits else lx.EN_ORDINALS[word.lower()]))
    return [n for _, n in sorted(found)]


def resolve_targets(text: str, conv: Conversation) -> tuple[tuple[str, ...], bool]:
    """(item ids referred to, whether by explicit ordinal)."""
    shown = conv.last_items
    picks = [shown[n - 1] for n in _ordinals(text) if 0 < n <= len(shown)]
    if lx.LAST_RE.search(text) and shown:
        picks.append(shown[-1])
    if picks:
        return tuple(dict.fromkeys(picks)), True
    if lx.PAIR_RE.search(text):
        pair = conv.focus if len(conv.focus) >= 2 else shown[:2]
        return tuple(pair[:2]), False
    if lx.THIS_RE.search(text):
        return tuple(conv.focus[:1] if conv.focus else shown[:5]), False
    return (), False


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


def _new_subject(reading: QueryReading | None, conv: Conversation) -> bool:
    if reading is None or reading.category is None:
        return False
    return reading.category.value != conv.constraints.category


def read_turn(text: str, reading: QueryReading | None, conv: Conversation) -> Turn:
    language = language_of(text, reading, conv.language)
    targets, by_ordinal = resolve_targets(text, conv)
    direction = ("cheaper" if lx.has_any(text, lx.CHEAPER) else
                 "pricier" if lx.has_any(text, lx.PRICIER) else None)
    fields, topics = asked(text, reading)
    question = (lx.has_any(text, lx.QUESTION_MARKERS) or
                (reading is not None and reading.intent is not None and
                 reading.intent.value == "question"))
    base = {"language": language, "direction": direction, "fields": fields, "topics": topics,
            "newest": lx.has_any(text, lx.NEWEST),
            "brand_only": bool(lx.BRAND_ONLY_RE.search(text))}
    compare = lx.has_any(text, lx.COMPARE)
    if lx.has_any(text, lx.RESET):
        return Turn("reset", **base)
    if len(targets) >= 2 and (compare or fields or topics):
        return Turn("compare", targets=targets, **base)
    if compare and not targets and len(conv.last_items) >= 2 and not _new_subject(reading, conv) \
            and direction is None:
        return Turn("compare", targets=tuple(conv.last_items[:2]), **base)
    if (fields or topics) and question and direction is None:
        same_subject = not _new_subject(reading, conv) or bool(targets)
        return Turn("question", targets=targets if same_subject else (), **base)
    if lx.has_any(text, lx.SIMILAR) and targets:
        return Turn("similar", targets=targets[:1], **base)
    if by_ordinal and direction is None and not _has_wishes(reading):
        return Turn("select", targets=targets[:1], **base)
    if direction or _has_wishes(reading) or _new_subject(reading, conv):
        return Turn("search", targets=targets, **base)
    if lx.has_any(text, lx.RECOMMEND) or base["newest"]:
        return Turn("recommend", **base)
    return Turn("help", **base)


def _has_wishes(reading: QueryReading | None) -> bool:
    if reading is None:
        return False
    return bool(reading.category or reading.brands or reading.price_min or reading.price_max or
                reading.attributes or reading.exclusions or reading.value_preference or
                reading.product_terms)
