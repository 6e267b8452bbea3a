"""How one turn changes the accumulated constraints (the refinement rules, in one place).

- A new product type (a category named with a product word, different from and not broader
  than the current one: `turn.stated_category`) starts a fresh set of constraints; only brand
  exclusions ("不要苹果") survive it, as a standing dislike.
- Brands named in the turn replace the wanted brands ("只要华为" / "only Huawei") and leave
  the exclusions; an excluded brand leaves the wanted ones.
- Prices named in the turn replace the bounds (inclusive).
- "cheaper" / "便宜一点": price_max := the median price of the items just shown, exclusive
  (so every new result is cheaper than the middle of what was shown); a price_min at or above
  it is dropped. With nothing shown, results are sorted by price, low first.
- "more expensive" / "贵一点": price_min := that median, exclusive; price_max dropped.
- An attribute named in the turn replaces that attribute's wanted values ("换成红色").
- "new" / "新款" sorts by newest; "cheap" preference with no results yet sorts by price.
"""

from __future__ import annotations

from dataclasses import replace
from statistics import median

from shopsense.assistant import lexicon as lx
from shopsense.assistant.state import Constraints
from shopsense.assistant.turn import Turn, stated_category
from shopsense.domain import QueryReading, Slot

HARD = 0.5


def clean_reading(reading: QueryReading) -> QueryReading:
    """Drop term exclusions that are really refinements ("有没有便宜一点的" is not 'without 便宜')."""
    refinement_words = lx.CHEAPER + lx.PRICIER + ("便宜", "贵", "实惠")
    kept = tuple(s for s in reading.exclusions
                 if not (s.value[0] == "term" and
                         any(str(s.value[1]) in w for w in refinement_words)))
    return replace(reading, exclusions=kept) if kept != reading.exclusions else reading


def _subject(c: Constraints, reading: QueryReading) -> Constraints:
    category = stated_category(reading, c.category)
    if category is not None:
        c = Constraints(category=category, excluded_brands=c.excluded_brands)
    if reading.product_terms:
        c = replace(c, topic=reading.product_terms[0].text or str(reading.product_terms[0].value))
    return c


def _brands(c: Constraints, reading: QueryReading) -> Constraints:
    wanted = tuple(tuple(s.value) for s in reading.brands if s.confidence >= HARD)
    if wanted:
        lowered = {v.lower() for a in wanted for v in a}
        c = replace(c, brands=wanted, excluded_brands=tuple(
            a for a in c.excluded_brands if not lowered & {v.lower() for v in a}))
    for slot in reading.exclusions:
        if slot.confidence < HARD:
            continue
        kind, payload = slot.value
        if kind == "brand":
            aliases = tuple(payload)
            gone = {v.lower() for v in aliases}
            c = replace(c, excluded_brands=_add(c.excluded_brands, aliases),
                        brands=tuple(a for a in c.brands if not gone & {v.lower() for v in a}))
        elif kind == "term":
            c = replace(c, excluded_terms=_add(c.excluded_terms, str(payload)))
        elif kind == "category":
            c = replace(c, excluded_categories=_add(c.excluded_categories, str(payload)))
        elif kind == "attribute":
            key, values = payload
            c = replace(c, excluded_attributes=_add(c.excluded_attributes, (key, tuple(values))))
    return c


def _add(items: tuple, item: object) -> tuple:  # type: ignore[type-arg]
    return items if item in items else (*items, item)


def _prices(c: Constraints, reading: QueryReading) -> Constraints:
    low, high = reading.price_min, reading.price_max
    if low is not None and low.confidence >= HARD:
        c = replace(c, price_min=float(low.value), price_min_exclusive=False)
    if high is not None and high.confidence >= HARD:
        c = replace(c, price_max=float(high.value), price_max_exclusive=False)
    return c


def _attributes(c: Constraints, reading: QueryReading) -> Constraints:
    for slot in reading.attributes:
        if slot.confidence < HARD:
            continue
        key, values = slot.value
        c = c.with_attribute(key, tuple(values) if isinstance(values, (tuple, list))
                             else (values,))
    return c


def _direction(c: Constraints, turn: Turn, pref: Slot | None,
               shown_prices: list[float]) -> Constraints:
    if turn.direction is None and pref is not None and pref.value == "cheap":
        return replace(c, sort="price_asc") if not shown_prices else c
    if turn.direction is None:
        return c
    if not shown_prices:
        return replace(c, sort="price_asc" if turn.direction == "cheaper" else "price_desc")
    middle = float(median(shown_prices))
    if turn.direction == "cheaper":
        keep_min = c.price_min is not None and c.price_min < middle
        return replace(c, price_max=middle, price_max_exclusive=True,
                       price_min=c.price_min if keep_min else None,
                       price_min_exclusive=c.price_min_exclusive and keep_min)
    return replace(c, price_min=middle, price_min_exclusive=True, price_max=None,
                   price_max_exclusive=False)


def merge(c: Constraints, reading: QueryReading | None, turn: Turn,
          shown_prices: list[float]) -> Constraints:
    """The constraints after this turn (see the module docstring for the rules)."""
    if reading is not None:
        before = c.category
        c = _subject(c, reading)
        if c.category != before:
            shown_prices = []  # prices of another product type say nothing about this one
        c = _prices(_attributes(_brands(c, reading), reading), reading)
    if turn.act == "search":  # "any waterproof ones?": a flag asked about becomes a wish
        for name in turn.fields:
            key = name.removeprefix("attributes.")
            if name in lx.FLAG_FIELDS and all(k != key for k, _ in c.attributes):
                c = c.with_attribute(key, (True,))
    c = _direction(c, turn, reading.value_preference if reading else None, shown_prices)
    if turn.newest:
        c = replace(c, newest=True, sort="newest")
    return c
