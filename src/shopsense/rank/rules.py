"""Merchandising rules, per shop (from settings) and per request: what may be shown, and what
the shop wants higher, lower or fixed in place.

Order of application in `apply_rules`: hard filters (exclude list, excluded brands /
categories, category filter, availability) -> boost / bury -> sort by score -> pins. Hard
filters win over pins: an excluded or unavailable item is never shown, even when pinned. A
pinned item missing from the candidates is inserted from the catalogue. Every rule that
changes a candidate is recorded: `signals["rule"]` (the total score change) and
`evidence["rules"]` (one entry per rule), and pins set `evidence["pinned_position"]` (which
`rank.diversity` keeps in place).

Multiplicative factors scale positive scores and divide negative ones, so a boost always
raises and a bury always lowers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from shopsense.domain import Candidate, Product
from shopsense.features.frame import normalise_category


class Adjust(BaseModel):
    """Change the score of items matching `field == value` (category: the path or under it;
    attribute: `attributes[key]` equals `value`, compared as lower-case text)."""

    field: Literal["item", "brand", "category", "attribute"]
    value: str = Field(min_length=1)
    key: str = Field("", description="The attribute name when field is 'attribute'.")
    multiply: float = Field(1.0, ge=0.0)
    add: float = 0.0

    @model_validator(mode="after")
    def _key_for_attributes(self) -> Adjust:
        if self.field == "attribute" and not self.key:
            raise ValueError("an attribute rule needs a key")
        return self

    def matches(self, item_id: str, product: Product | None) -> bool:
        if self.field == "item":
            return item_id == self.value
        if product is None:
            return False
        if self.field == "brand":
            return product.brand.strip().lower() == self.value.strip().lower()
        if self.field == "attribute":
            have = product.attributes.get(self.key) if product.attributes else None
            return have is not None and str(have).strip().lower() == self.value.strip().lower()
        return in_category(product.category, self.value)


class Pin(BaseModel):
    item_id: str = Field(min_length=1)
    position: int = Field(ge=0, description="0-based position in the final list.")


class Rules(BaseModel):
    """Rules for one shop or one request; `merged` layers a request over the shop's."""

    exclude: list[str] = Field(default_factory=list, description="Item ids never shown.")
    exclude_brands: list[str] = Field(default_factory=list)
    exclude_categories: list[str] = Field(default_factory=list, description="Paths (and below).")
    exclude_where: list[Adjust] = Field(default_factory=list, description="Items matching any "
                                        "(e.g. an attribute value) are never shown.")
    categories: list[str] = Field(default_factory=list,
                                  description="When set, only items in (or below) these paths.")
    available_only: bool = Field(True, description="Drop unavailable and unknown items.")
    price_min: float | None = Field(None, ge=0, description="Drop items cheaper than this.")
    price_max: float | None = Field(None, ge=0, description="Drop items dearer than this "
                                    "(items without a price pass both bounds).")
    pins: list[Pin] = Field(default_factory=list)
    boost: list[Adjust] = Field(default_factory=list)
    bury: list[Adjust] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> Rules:
        for rule in self.boost:
            if rule.multiply < 1.0 or rule.add < 0.0:
                raise ValueError(f"boost must not lower a score: {rule}")
        for rule in self.bury:
            if rule.multiply > 1.0 or rule.add > 0.0:
                raise ValueError(f"bury must not raise a score: {rule}")
        items = [p.item_id for p in self.pins]
        positions = [p.position for p in self.pins]
        if len(set(items)) != len(items) or len(set(positions)) != len(positions):
            raise ValueError("each pinned item and each pin position may appear once")
        if self.price_min is not None and self.price_max is not None \
                and self.price_min > self.price_max:
            raise ValueError("price_min is above price_max")
        return self

    def merged(self, request: Rules | None) -> Rules:
        """Shop rules with a request's on top: lists are joined, a request's pins replace
        shop pins on the same item or position, `available_only` and the price bounds follow
        the request only when the request sets them."""
        if request is None:
            return self
        pins = {p.position: p for p in self.pins}
        taken = {p.item_id for p in request.pins} | {p.position for p in request.pins}
        kept = [p for pos, p in pins.items() if p.item_id not in taken and pos not in taken]
        def pick(name: str) -> Any:
            return getattr(request if name in request.model_fields_set else self, name)

        return Rules(
            exclude=_union(self.exclude, request.exclude),
            exclude_brands=_union(self.exclude_brands, request.exclude_brands),
            exclude_categories=_union(self.exclude_categories, request.exclude_categories),
            exclude_where=self.exclude_where + request.exclude_where,
            categories=request.categories or self.categories,
            available_only=pick("available_only"), price_min=pick("price_min"),
            price_max=pick("price_max"),
            pins=kept + list(request.pins), boost=self.boost + request.boost,
            bury=self.bury + request.bury)


def in_category(path: str, wanted: str) -> bool:
    """`path` equals `wanted` or lies under it."""
    have, want = normalise_category(path), normalise_category(wanted)
    return bool(want) and (have == want or have.startswith(want + " > "))


class _Filter:
    """The hard filters of one `Rules`, with its lists turned into sets once."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self.excluded = set(rules.exclude)
        self.brands = {b.strip().lower() for b in rules.exclude_brands}
        self.available_only = rules.available_only
        self.priced = rules.price_min is not None or rules.price_max is not None
        # the rest of the filters, when any is set (most requests set none: skip them)
        self.rest = bool(self.brands or rules.exclude_categories or rules.exclude_where
                         or rules.categories)

    def __call__(self, item_id: str, product: Product | None) -> bool:
        rules = self.rules
        if item_id in self.excluded:
            return False
        if product is None:
            return not self.available_only and not (rules.categories or self.brands
                                                    or rules.exclude_categories)
        if self.available_only and not product.available:
            return False
        if self.priced and product.price is not None and not (
                (rules.price_min is None or product.price >= rules.price_min)
                and (rules.price_max is None or product.price <= rules.price_max)):
            return False
        return not self.rest or self._passes_rest(item_id, product)

    def _passes_rest(self, item_id: str, product: Product) -> bool:
        rules = self.rules
        if product.brand and product.brand.strip().lower() in self.brands:
            return False
        if any(in_category(product.category, c) for c in rules.exclude_categories):
            return False
        if any(rule.matches(item_id, product) for rule in rules.exclude_where):
            return False
        return not rules.categories or any(in_category(product.category, c)
                                           for c in rules.categories)


def allowed(item_id: str, product: Product | None, rules: Rules) -> bool:
    """Does this item pass every hard filter? (Unknown items pass only when nothing is
    filtered and `available_only` is off.)"""
    return _Filter(rules)(item_id, product)


def apply_rules(candidates: list[Candidate], rules: Rules,
                products: Mapping[str, Product]) -> list[Candidate]:
    """Filter, boost / bury, sort (stable, best first), then pin. The candidates a rule
    changes are copies (the inputs are never modified); the others are passed on as they are."""
    passes = _Filter(rules)
    kept = [c for c in candidates if passes(c.item_id, products.get(c.item_id))]
    for n, cand in enumerate(kept) if rules.boost or rules.bury else ():
        product = products.get(cand.item_id)
        matched = [(kind, rule) for kind, adjusts in (("boost", rules.boost), ("bury", rules.bury))
                   for rule in adjusts if rule.matches(cand.item_id, product)]
        if matched:
            kept[n] = cand = _copy(cand)
            for kind, rule in matched:
                _adjust(cand, kind, rule)
    ranked = sorted(kept, key=lambda c: -c.score)
    return _pin(ranked, rules, products, passes)


def _adjust(cand: Candidate, kind: str, rule: Adjust) -> None:
    before = cand.score
    scaled = before * rule.multiply if before >= 0 else before / max(rule.multiply, 1e-9)
    cand.score = scaled + rule.add
    delta = cand.score - before
    if delta == 0.0:
        return
    cand.signals["rule"] = cand.signals.get("rule", 0.0) + delta
    _note(cand, {"rule": kind, "field": rule.field, "value": rule.value, "delta": delta})


def _copy(c: Candidate) -> Candidate:
    return Candidate(c.item_id, c.score, dict(c.signals), dict(c.evidence))


def _note(cand: Candidate, entry: dict[str, Any]) -> None:
    cand.evidence.setdefault("rules", []).append(entry)


def _pin(ranked: list[Candidate], rules: Rules, products: Mapping[str, Product],
         passes: _Filter) -> list[Candidate]:
    if not rules.pins:
        return ranked
    by_id = {c.item_id: c for c in ranked}
    pinned_ids = {p.item_id for p in rules.pins}
    out = [c for c in ranked if c.item_id not in pinned_ids]
    for pin in sorted(rules.pins, key=lambda p: p.position):
        cand = by_id.get(pin.item_id)
        if cand is None:
            if not passes(pin.item_id, products.get(pin.item_id)):
                continue
            cand = Candidate(pin.item_id, 0.0)
        else:
            cand = _copy(cand)
        position = min(pin.position, len(out))
        neighbour = out[position] if position < len(out) else (out[-1] if out else None)
        if cand.item_id not in by_id and neighbour is not None:
            cand.score = neighbour.score
        cand.signals.setdefault("rule", 0.0)
        cand.evidence["pinned_position"] = pin.position
        _note(cand, {"rule": "pin", "position": pin.position})
        out.insert(position, cand)
    return out


def _union(first: list[str], second: list[str]) -> list[str]:
    return list(dict.fromkeys([*first, *second]))


RULES_FILE = "rules.json"


def load_shop_rules(home: str | Path) -> Rules:
    """The shop's standing rules from `<home>/rules.json` (none when the file is missing)."""
    path = Path(home) / RULES_FILE
    if not path.exists():
        return Rules()
    return Rules.model_validate_json(path.read_text(encoding="utf-8"))


def shop_rules_version(home: str | Path) -> tuple[int, int] | None:
    """Changes whenever `save_shop_rules` (or an editor) replaces the file: (mtime ns, size);
    None while there is no file."""
    try:
        st = (Path(home) / RULES_FILE).stat()
    except FileNotFoundError:
        return None
    return st.st_mtime_ns, st.st_size


def save_shop_rules(home: str | Path, rules: Rules) -> Path:
    """Write the shop's rules atomically (validated by construction)."""
    path = Path(home) / RULES_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(rules.model_dump(), ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(path)
    return path
