"""How a reply writes facts: the patterns and written forms that the fact checker
(assistant/check.py) and the item binder (assistant/bind.py) both read."""

from __future__ import annotations

import re

from shopsense.assistant.facts import Fact, format_number, format_value

NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)*")
LIST_MARKER_RE = re.compile(r"(?m)^\s*(\d{1,2})[.)、]\s")
CITATION_RE = re.compile(r"\[(\d{1,2})\]")  # "[1]": the n-th cited knowledge passage
ABSENCE_BEFORE_RE = re.compile(r"(?:没有列出|未列出|not list|n't list)\W{0,2}(?:its\s+)?$", re.I)
NEGATION_BEFORE_RE = re.compile(r"(?:不|没有|没|无|非|n't|\b(?:not|no|without|lacks?))"
                                r"[\s“\"'(（]{0,3}$", re.I)
VALUE_AFTER_RE = re.compile(r"^[\s:：|]{1,4}(是|否|yes\b|no\b|true\b|false\b)", re.I)


def written_forms(fact: Fact, currency: str = "CNY") -> set[str]:
    """Every way a reply may write the fact's value."""
    value = fact.value
    if value is None:
        return set()
    forms = {str(value)}
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        forms.add(format_number(float(value)))
    field_name = "price" if fact.field.startswith("constraint.price") else fact.field
    for language in ("zh", "en"):
        forms.add(format_value(field_name, value, language, currency))
    return {f for f in forms if f.strip()}
