"""Facts: the only things a reply may state, each traced to a stored product field.

A `Fact` names an item, a field ("price", "brand", "title", "available", "attributes.<key>",
"description" for a quoted sentence of it) and the value as stored. Facts with `item_id=None`
echo the shopper's own constraints ("constraint.price_max"), never catalogue claims.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from shopsense.assistant.lexicon import label
from shopsense.domain import Product

MISSING = object()


@dataclass(frozen=True, slots=True)
class Fact:
    item_id: str | None
    field: str
    value: Any

    def to_dict(self) -> dict[str, Any]:
        return {"item_id": self.item_id, "field": self.field, "value": self.value}


def field_value(product: Product, field: str) -> Any:
    """The stored value of `field` on `product`, or MISSING."""
    if field.startswith("attributes."):
        return product.attributes.get(field.removeprefix("attributes."), MISSING)
    if field in ("title", "brand", "price", "currency", "category", "available", "description"):
        value = getattr(product, field)
        if value is None or value == "":
            return MISSING
        if isinstance(value, float) and math.isnan(value):
            return MISSING
        return value
    return MISSING


def same_value(stored: Any, claimed: Any) -> bool:
    if isinstance(stored, bool) or isinstance(claimed, bool):
        return stored is claimed or stored == claimed
    if isinstance(stored, (int, float)) and isinstance(claimed, (int, float)):
        return abs(float(stored) - float(claimed)) < 1e-6
    return str(stored).strip() == str(claimed).strip()


def fact_holds(fact: Fact, product: Product | None) -> bool:
    """True when the product's stored field says what the fact says. A `description` fact
    is a quoted sentence: it must occur in the stored description."""
    if product is None or fact.item_id != product.item_id:
        return False
    stored = field_value(product, fact.field)
    if stored is MISSING:
        return False
    if fact.field == "description":
        return bool(str(fact.value).strip()) and str(fact.value) in str(stored)
    return same_value(stored, fact.value)


def format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}".rstrip("0")


def format_price(value: float, currency: str, language: str) -> str:
    number = format_number(value)
    if language == "zh":
        return f"{number}元" if currency in ("", "CNY", "RMB") else f"{number} {currency}"
    return f"{currency or 'CNY'} {number}"


def format_value(field: str, value: Any, language: str, currency: str = "CNY") -> str:
    """A stored value as a reply writes it: booleans as 是/否 or yes/no, prices with currency."""
    if field == "price" and isinstance(value, (int, float)):
        return format_price(float(value), currency, language)
    if field == "available":
        if language == "zh":
            return "有货" if value else "暂时无货"
        return "in stock" if value else "out of stock"
    if isinstance(value, bool):
        return ("是" if value else "否") if language == "zh" else ("yes" if value else "no")
    if isinstance(value, float):
        return format_number(value)
    return str(value)


def describe(field: str, value: Any, language: str, currency: str = "CNY") -> str:
    """`attributes.power`, "1.5匹" -> "匹数：1.5匹" / "power: 1.5匹"."""
    sep = "：" if language == "zh" else ": "
    return f"{label(field, language)}{sep}{format_value(field, value, language, currency)}"
