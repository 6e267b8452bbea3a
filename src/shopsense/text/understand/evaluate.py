"""How a `QueryReading` compares with a hand-written expected reading (the query suite).

Answers: which fields of a reading are right — language, category, brands, price bounds, value
preference, attributes, exclusions (and intent where the suite states one) — and the share of
fields right over a suite. Only slots with confidence >= 0.5 count, as consumers apply them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shopsense.domain import QueryReading, Slot

MIN_CONFIDENCE = 0.5
FIELDS = ("language", "category", "brands", "price_min", "price_max", "value_preference",
          "attributes", "exclusions")


def _live(slots: Iterable[Slot]) -> list[Slot]:
    return [s for s in slots if s.confidence >= MIN_CONFIDENCE]


def _value(slot: Slot | None) -> Any:
    return slot.value if slot is not None and slot.confidence >= MIN_CONFIDENCE else None


def _same_set(found: list[Any], expected: list[Any], matches: Any) -> bool:
    if len(found) != len(expected):
        return False
    left = list(found)
    for want in expected:
        hit = next((f for f in left if matches(f, want)), None)
        if hit is None:
            return False
        left.remove(hit)
    return True


def _price(found: Any, expected: Any) -> bool:
    if found is None or expected is None:
        return found is None and expected is None
    return abs(float(found) - float(expected)) <= 0.01 * max(1.0, abs(float(expected)))


def _exclusion(found: Any, want: list[Any]) -> bool:
    kind, payload = found
    if kind != want[0]:
        return False
    if kind == "brand":
        return want[1] in payload
    if kind == "attribute":
        return payload[0] == want[1] and want[2] in payload[1]
    return str(payload).lower() == str(want[1]).lower()


def field_results(reading: QueryReading, expected: dict[str, Any]) -> dict[str, bool]:
    """Field -> right or wrong for one query."""
    out = {
        "language": reading.language == expected.get("language", reading.language),
        "category": _value(reading.category) == expected.get("category"),
        "brands": _same_set([s.value for s in _live(reading.brands)], expected.get("brands", []),
                            lambda aliases, name: name in aliases),
        "price_min": _price(_value(reading.price_min), expected.get("price_min")),
        "price_max": _price(_value(reading.price_max), expected.get("price_max")),
        "value_preference": _value(reading.value_preference) == expected.get("value_preference"),
        "attributes": _same_set([s.value for s in _live(reading.attributes)],
                                expected.get("attributes", []),
                                lambda found, want: found[0] == want[0] and want[1] in found[1]),
        "exclusions": _same_set([s.value for s in _live(reading.exclusions)],
                                expected.get("exclusions", []), _exclusion),
    }
    if "intent" in expected:
        out["intent"] = _value(reading.intent) == expected["intent"]
    return out


def suite_accuracy(readings: list[QueryReading], suite: list[dict[str, Any]],
                   ) -> tuple[float, list[tuple[str, str]]]:
    """(share of fields right, [(query, field) wrong]) over a suite."""
    right, total, wrong = 0, 0, []
    for reading, expected in zip(readings, suite, strict=True):
        for name, ok in field_results(reading, expected).items():
            total += 1
            right += ok
            if not ok:
                wrong.append((expected["query"], name))
    return (right / total if total else 0.0), wrong
