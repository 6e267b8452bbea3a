"""Is every number, brand and claim in a reply traceable to a cited item? The fact checker.

The rule, applied to template replies and to any generator's output alike:
1. every fact must hold: an item fact matches the cited product's stored field (a `None`
   value claims the field is absent and must be); a `constraint.*` fact matches the
   conversation's current constraints;
2. after removing every fact's written forms (and list markers "1. "), no digit and no
   catalogue brand name may remain in the text;
3. a claim word (waterproof / 防水, noise cancelling / 降噪, in stock / 有货) left in that
   text needs a fact about that field;
4. polarity of yes/no features: when every fact about waterproof (or noise cancelling) says
   false, the text may not mention it affirmatively ("防水" without 不/没有/无/否, "waterproof"
   without not/no); when every fact says true, it may not mention it negatively.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shopsense.assistant.bind import bind_check
from shopsense.assistant.facts import (
    MISSING,
    Fact,
    fact_holds,
    field_value,
)
from shopsense.assistant.lexicon import pattern
from shopsense.assistant.writing import (
    ABSENCE_BEFORE_RE,
    CITATION_RE,
    LIST_MARKER_RE,
    NEGATION_BEFORE_RE,
    NUMBER_RE,
    VALUE_AFTER_RE,
    written_forms,
)
from shopsense.domain import Product

CLAIM_WORDS: dict[str, tuple[str, ...]] = {
    "attributes.waterproof": ("防水", "waterproof", "water-resistant", "water resistant"),
    "attributes.noise_cancelling": ("降噪", "noise cancel", "noise-cancel"),
    "available": ("有货", "无货", "缺货", "in stock", "out of stock", "sold out"),
}


FLAG_WORDS: dict[str, tuple[str, ...]] = {
    "attributes.waterproof": ("防水", "waterproof", "water-resistant", "water resistant"),
    "attributes.noise_cancelling": ("降噪", "noise cancelling", "noise-cancelling",
                                    "noise canceling"),
}


def _mentions(text: str, words: tuple[str, ...]) -> list[bool]:
    """For each mention of one of `words`: True when it is negated."""
    found = []
    for word in words:
        for m in pattern(re.escape(word), re.I).finditer(text):
            before, after = text[max(0, m.start() - 20):m.start()], text[m.end():m.end() + 6]
            if ABSENCE_BEFORE_RE.search(before):  # "the catalogue does not list its waterproof"
                continue
            value = VALUE_AFTER_RE.search(after)  # "防水：否" / "waterproof: yes" decides
            negated = (value.group(1).lower() in ("否", "no", "false") if value else
                       bool(NEGATION_BEFORE_RE.search(before)))
            found.append(negated)
    return found


def _polarity(text: str, facts: list[Fact]) -> list[str]:
    """Rule 4, on the text without titles and quoted descriptions (written by the catalogue)."""
    for quoted in sorted({str(f.value) for f in facts if f.field in ("title", "description")},
                         key=len, reverse=True):
        text = text.replace(quoted, " ")
    bad = []
    for name, words in FLAG_WORDS.items():
        values = {bool(f.value) for f in facts if f.value is not None and
                  f.field.removeprefix("constraint.") == name}
        mentions = _mentions(text, words)
        if (values == {False} and not all(mentions)) or (values == {True} and any(mentions)):
            bad.append(f"{name} contradicts the facts")
    return bad


@dataclass
class CheckReport:
    ok: bool = True
    false_facts: list[dict[str, Any]] = field(default_factory=list)
    invented_numbers: list[str] = field(default_factory=list)
    invented_brands: list[str] = field(default_factory=list)
    unsupported_claims: list[str] = field(default_factory=list)
    misbound: list[str] = field(default_factory=list)  # facts written about the wrong item

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "false_facts": self.false_facts,
                "invented_numbers": self.invented_numbers,
                "invented_brands": self.invented_brands,
                "unsupported_claims": self.unsupported_claims, "misbound": self.misbound}


def _constraint_holds(fact: Fact, constraints: Mapping[str, Any]) -> bool:
    name = fact.field.removeprefix("constraint.")
    if name.startswith("attributes."):
        current = (constraints.get("attributes") or {}).get(name.removeprefix("attributes."))
    else:
        current = constraints.get(name)
    if isinstance(current, dict):
        current = list(current.values())
    if isinstance(current, (list, tuple)):
        flat = [v for c in current for v in (c if isinstance(c, (list, tuple)) else (c,))]
        return any(str(v) == str(fact.value) for v in flat)
    if isinstance(current, (int, float)) and isinstance(fact.value, (int, float)):
        return abs(float(current) - float(fact.value)) < 1e-6
    return current is not None and str(current) == str(fact.value)


def _holds(fact: Fact, products: Mapping[str, Product], constraints: Mapping[str, Any],
           knowledge: Callable[[str], str | None] | None = None) -> bool:
    if fact.item_id is None and fact.field.startswith("knowledge."):
        stored = knowledge(fact.field.removeprefix("knowledge.")) if knowledge else None
        return stored is not None and bool(str(fact.value).strip()) and \
            str(fact.value) in stored
    if fact.item_id is None and fact.field.startswith("catalogue.related_category"):
        return any(p.category == fact.value for p in products.values())
    if fact.item_id is None:
        return fact.field.startswith("constraint.") and _constraint_holds(fact, constraints)
    product = products.get(fact.item_id)
    if fact.value is None:  # "the catalogue does not list this"
        return product is not None and field_value(product, fact.field) is MISSING
    return fact_holds(fact, product)


def _residual(text: str, facts: list[Fact], n_items: int) -> str:
    text = LIST_MARKER_RE.sub(lambda m: " " if int(m.group(1)) <= max(n_items, 1) else m.group(0),
                              text)
    cited = len({f.field for f in facts if f.field.startswith("knowledge.")})
    text = CITATION_RE.sub(lambda m: " " if 0 < int(m.group(1)) <= cited else m.group(0), text)
    forms = sorted({f for fact in facts for f in written_forms(fact)}, key=len, reverse=True)
    for form in forms:  # a number never matches inside a longer number ("999" in "1999")
        head = r"(?<![\d.])" if form[0].isdigit() else ""
        tail = r"(?![\d])" if form[-1].isdigit() else ""
        text = pattern(head + re.escape(form) + tail).sub(" ", text)
    return text


def _brand_hits(text: str, brands: Iterable[str]) -> list[str]:
    hits = []
    for brand in brands:
        if not brand:
            continue
        if brand.isascii():
            if pattern(rf"(?<![A-Za-z0-9]){re.escape(brand)}(?![A-Za-z0-9])").search(text):
                hits.append(brand)
        elif brand in text:
            hits.append(brand)
    return sorted(hits)


def check_reply(text: str, facts: list[Fact], products: Mapping[str, Product],
                brands: Iterable[str], constraints: Mapping[str, Any] | None = None,
                n_items: int = 0, *, knowledge: Callable[[str], str | None] | None = None
                ) -> CheckReport:
    """Verify `text` against `facts`, the stored `products` and the catalogue's `brands`."""
    report = CheckReport()
    brands = list(brands)
    for fact in facts:
        if not _holds(fact, products, constraints or {}, knowledge):
            report.false_facts.append(fact.to_dict())
    rest = _residual(text, facts, n_items)
    report.invented_numbers = NUMBER_RE.findall(rest)
    report.invented_brands = _brand_hits(rest, brands)
    lowered = rest.lower()
    fields = {f.field.removeprefix("constraint.") for f in facts}
    report.unsupported_claims = [name for name, words in CLAIM_WORDS.items()
                                 if name not in fields and any(w in lowered for w in words)]
    report.unsupported_claims += _polarity(text, facts)
    report.misbound = bind_check(text, facts, products, brands, constraints, knowledge)
    report.ok = not (report.false_facts or report.invented_numbers or report.invented_brands
                     or report.unsupported_claims or report.misbound)
    return report
