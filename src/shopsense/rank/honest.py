"""Honest readings: which parts of a query reading filter, which only lean, and what to say.

- `reading_plan` turns a reading into hard clauses and soft boosts, given the in-catalogue
  verdict (`index.sells.catalogue_sells`): a category reading is hard only when confident and
  the catalogue sells the type named; when the reading explains the whole query, the category
  itself is the match set (so "laptop" reaches the Chinese-titled laptops as "笔记本" does).
- `value_scores` reads value words (cheap / value / premium) as a price preference relative
  to the matched products' own price distribution: -1 .. 1 per row, by price percentile.
- `relaxed_notes` words every relaxed reading part in zh and en and says how the page is
  ordered instead (a relaxed ceiling: cheapest first).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shopsense.domain import QueryReading
from shopsense.rank.filters import Clause, clauses_from_reading

VALUE_WEIGHTS = {"cheap": -1.0, "value": -0.7, "premium": 1.0}  # sign: towards higher prices

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@dataclass
class ReadingPlan:
    hard: list[Clause] = field(default_factory=list)
    soft: list[Clause] = field(default_factory=list)
    expand_category: str | None = None  # the category whose products all match the query
    value: str | None = None  # cheap | value | premium
    value_confidence: float = 0.0


def reading_plan(reading: QueryReading | None, no_exact_match: bool) -> ReadingPlan:
    hard, soft = clauses_from_reading(reading)
    plan = ReadingPlan(hard, soft)
    if reading is None:
        return plan
    if no_exact_match:  # the category is the nearest leaf to a type the shop does not sell
        plan.hard = [c for c in hard if c.kind != "category"]
        plan.soft = [c for c in soft if c.kind != "category"]
    else:
        category = next((c for c in hard if c.kind == "category"), None)
        if category is not None and reading.product_terms and not reading.model_numbers:
            plan.expand_category = str(category.value)
    if reading.value_preference is not None and reading.value_preference.value in VALUE_WEIGHTS:
        plan.value = str(reading.value_preference.value)
        plan.value_confidence = float(reading.value_preference.confidence)
    return plan


def value_scores(preference: str, prices: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Per row in [-1, 1]: how well its price fits `preference`, by its percentile among the
    `reference` prices (the matched products); unpriced rows score 0."""
    ref = np.sort(reference[~np.isnan(reference)])
    out = np.zeros(len(prices), dtype=np.float32)
    if len(ref) < 2:
        return out
    known = ~np.isnan(prices)
    lo = np.searchsorted(ref, prices[known], side="left")
    hi = np.searchsorted(ref, prices[known], side="right")
    percentile = (lo + hi) / (2.0 * len(ref))  # mid-rank, 0..1
    out[known] = (2.0 * percentile - 1.0) * np.sign(VALUE_WEIGHTS[preference])
    return out * abs(VALUE_WEIGHTS[preference])


def price_summary(prices: np.ndarray) -> dict[str, float] | None:
    known = prices[~np.isnan(prices)]
    if not len(known):
        return None
    p25, p50, p75 = np.percentile(known, [25, 50, 75]).tolist()
    return {"p25": round(p25, 2), "median": round(p50, 2), "p75": round(p75, 2)}


_VALUE_WORDS = {"cheap": ("偏便宜", "lower prices"), "value": ("性价比（价格偏低）", "good value (lower prices)"),
                "premium": ("偏高端", "higher-end prices")}


def value_effect(preference: str, reference: dict[str, float] | None, page_median: float | None,
                 bare_median: float | None, currency: str = "CNY") -> dict[str, Any]:
    """The soft boost's report: what it prefers, against what, and how it moved the page."""
    zh_word, en_word = _VALUE_WORDS[preference]
    sign = "¥" if currency == "CNY" else "$" if currency == "USD" else currency + " "
    effect: dict[str, Any] = {"prefers": "lower" if VALUE_WEIGHTS[preference] < 0 else "higher",
                              "relative_to": "matched products' price distribution",
                              "reference": reference, "page_median": page_median,
                              "page_median_without": bare_median}
    if reference:
        median = f"{sign}{reference['median']:,.0f}"
        effect["message_zh"] = f"按{zh_word}排序（匹配商品的中位价 {median}）"
        effect["message_en"] = f"Leaning towards {en_word} (matched products' median {median})"
    return effect


def relaxed_notes(relaxed: list[dict[str, Any]], reading: QueryReading | None, sort: str,
                  currency: str = "CNY") -> tuple[list[dict[str, Any]], str]:
    """Each relaxed clause with message_zh / message_en, and the order the page takes: a
    relaxed price ceiling shows the cheapest first (a floor: the dearest) unless the shopper
    chose a sort."""
    sign = "¥" if currency == "CNY" else "$" if currency == "USD" else currency + " "
    what = _what(reading)
    order = sort
    out = []
    for entry in relaxed:
        kind, value = entry.get("kind"), entry.get("value")
        note = dict(entry)
        if kind == "price":
            low, high = value
            if high is not None:
                zh = f"没有 {sign}{high:,.0f} 以下的{what[0]}，已放宽价格，按价格从低到高显示"
                en = (f"No {what[1]} at or under {sign}{high:,.0f}; the price limit was "
                      f"relaxed, cheapest first")
                if sort == "relevance":
                    order = "price_asc"
            else:
                zh = f"没有 {sign}{low:,.0f} 以上的{what[0]}，已放宽价格，按价格从高到低显示"
                en = (f"No {what[1]} at or over {sign}{low:,.0f}; the price limit was relaxed, "
                      f"dearest first")
                if sort == "relevance":
                    order = "price_desc"
            note["ordered_by"] = order
        else:
            shown = _shown(kind, value)
            zh = f"没有同时符合“{shown}”的{what[0]}，已放宽这一条件"
            en = f"No {what[1]} also matching “{shown}”; that condition was relaxed"
        note["message_zh"], note["message_en"] = zh, en
        out.append(note)
    return out, order


def _what(reading: QueryReading | None) -> tuple[str, str]:
    """The product word for the Chinese and the English message: as the shopper typed it, except
    that a Chinese word is never put into the English message (it says "products" instead)."""
    if reading is not None and reading.product_terms:
        word = reading.product_terms[0].text or str(reading.product_terms[0].value)
        return word, "products" if _CJK.search(word) else word
    return "商品", "products"


def _shown(kind: Any, value: Any) -> str:
    if kind == "brand":
        return " / ".join(map(str, value))
    if kind == "attribute":
        key, values = value
        return f"{key}: {' / '.join(map(str, values))}"
    if kind == "category":
        return str(value).rsplit(">", 1)[-1].strip()
    return str(value)
