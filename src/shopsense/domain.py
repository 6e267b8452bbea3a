"""The nouns every stage shares: products, events, judgments, query readings, candidates, results.

Frozen dataclasses only; no I/O and no imports from the rest of the package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

EVENT_TYPES: tuple[str, ...] = ("view", "click", "search", "cart", "purchase", "dismiss", "rate")
PLATFORMS: tuple[str, ...] = ("web", "app", "mini_program", "other")
# Events that do not need an item.
ITEMLESS_EVENT_TYPES: frozenset[str] = frozenset({"search"})
# Relative strength of implicit feedback, used wherever events become interaction weights.
EVENT_WEIGHTS: dict[str, float] = {
    "view": 1.0,
    "click": 1.0,
    "search": 0.0,
    "cart": 3.0,
    "purchase": 5.0,
    "rate": 2.0,
    "dismiss": 0.0,
}
CATEGORY_SEPARATOR = ">"


def split_category(path: str) -> tuple[str, ...]:
    """`'家电 > 空调'` -> `('家电', '空调')`; empty parts dropped."""
    return tuple(p.strip() for p in path.split(CATEGORY_SEPARATOR) if p.strip())


@dataclass(frozen=True, slots=True)
class Product:
    item_id: str
    title: str
    description: str = ""
    category: str = ""
    brand: str = ""
    price: float | None = None
    currency: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    image_url: str = ""
    available: bool = True
    created_at: float | None = None  # unix seconds
    locale: str = ""

    @property
    def category_path(self) -> tuple[str, ...]:
        return split_category(self.category)

    @property
    def top_category(self) -> str:
        path = self.category_path
        return path[0] if path else ""


@dataclass(frozen=True, slots=True)
class Event:
    """One behaviour event. `user_id` / `session_id` are pseudonyms once stored."""

    event_id: str
    event_type: str
    timestamp: float  # unix seconds
    user_id: str | None = None
    session_id: str | None = None
    item_id: str | None = None
    query: str | None = None
    value: float | None = None
    platform: str = "other"

    @property
    def actor(self) -> str:
        """The id a history is keyed by: the user if known, else the session."""
        return self.user_id or self.session_id or ""


@dataclass(frozen=True, slots=True)
class Judgment:
    query_id: str
    query: str
    item_id: str
    relevance: float  # the gain; 0 = irrelevant


@dataclass(frozen=True, slots=True)
class Slot:
    """One part of a query reading: the value, how sure we are, and where it came from."""

    value: Any
    confidence: float
    span: tuple[int, int] | None = None  # [start, end) character offsets into the query
    text: str = ""  # the query text of the span


@dataclass(frozen=True, slots=True)
class QueryReading:
    """The structured "understood as" reading of a query (see text/understand).

    Contract between query understanding (producer) and search / recommendations / the
    assistant (consumers); every value refers to the catalogue's own vocabulary:
    - category.value: a catalogue category path string ("家电 > 空调"); an item matches when its
      category equals it or starts with it + " > ".
    - brands[i].value: tuple of catalogue `brand` field values naming one brand, all aliases,
      e.g. ("格力", "Gree").
    - price_min / price_max .value: float in the shop's currency (inclusive bounds).
    - value_preference.value: "cheap" | "value" | "premium".
    - attributes[i].value: (attribute_key, tuple of catalogue attribute values that match),
      e.g. ("colour", ("红色", "red")), ("waterproof", (True,)).
    - exclusions[i].value: (kind, payload) with kind "brand" (payload = alias tuple),
      "attribute" (payload = (key, values tuple)), "category" (payload = path) or
      "term" (payload = a word items must not contain).
    - product_terms[i].value: the product-type word as written (空调, boots).
    - confidence in [0, 1]; consumers apply slots with confidence >= 0.5 as hard filters
      (relaxed when they would empty the result) and weaker ones as soft boosts.
    """

    query: str
    language: str = "en"  # zh | en | mixed
    intent: Slot | None = None  # buy | browse | compare | question | navigational
    category: Slot | None = None  # the catalogue's own category path
    brands: tuple[Slot, ...] = ()
    model_numbers: tuple[Slot, ...] = ()
    price_min: Slot | None = None
    price_max: Slot | None = None
    value_preference: Slot | None = None  # cheap | value | premium
    attributes: tuple[Slot, ...] = ()  # value = (name, value), e.g. ("capacity", "256GB")
    exclusions: tuple[Slot, ...] = ()  # value = (kind, value), kind in brand|attribute|term|category
    product_terms: tuple[Slot, ...] = ()  # product-type words, e.g. 空调, boots
    residual: str = ""  # the text left for keyword / semantic matching

    def to_dict(self) -> dict[str, Any]:
        def slot(s: Slot | None) -> dict[str, Any] | None:
            if s is None:
                return None
            return {"value": s.value, "confidence": round(s.confidence, 4),
                    "span": list(s.span) if s.span else None, "text": s.text}

        return {
            "query": self.query,
            "language": self.language,
            "intent": slot(self.intent),
            "category": slot(self.category),
            "brands": [slot(s) for s in self.brands],
            "model_numbers": [slot(s) for s in self.model_numbers],
            "price_min": slot(self.price_min),
            "price_max": slot(self.price_max),
            "value_preference": slot(self.value_preference),
            "attributes": [slot(s) for s in self.attributes],
            "exclusions": [slot(s) for s in self.exclusions],
            "product_terms": [slot(s) for s in self.product_terms],
            "residual": self.residual,
        }


@dataclass(slots=True)
class Candidate:
    """An item proposed by one or more retrievers, with every signal that placed it.

    `signals` maps a signal name (e.g. "bm25.title", "semantic.use", "covisit", "because_viewed")
    to its raw value; `evidence` holds what a reason can cite (matched terms, the item viewed).
    """

    item_id: str
    score: float
    signals: dict[str, float] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Reason:
    """One readable reason, traced to a recorded signal and its contribution to the score."""

    code: str  # e.g. matched_terms, semantic, because_viewed, trending, rule, price_fit, dismissed
    text_en: str
    text_zh: str
    contribution: float
    signal: str
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Result:
    item_id: str
    score: float
    product: Product | None
    signals: dict[str, float]
    reasons: tuple[Reason, ...] = ()
    evidence: dict[str, Any] = field(default_factory=dict)  # e.g. matched terms per field


@dataclass(frozen=True, slots=True)
class UserProfile:
    """What the engine knows of one shopper (or anonymous session), built from their events.

    Affinities are normalised to sum to 1 (empty when the shopper has no history).
    Timestamps are unix seconds.
    """

    user_id: str
    category_affinity: dict[str, float] = field(default_factory=dict)  # full category path -> share
    brand_affinity: dict[str, float] = field(default_factory=dict)
    price_band: tuple[float, float] | None = None  # (p25, p75) of prices engaged with
    recent_items: tuple[str, ...] = ()  # most recent first, views/clicks/carts/purchases
    dismissed: dict[str, float] = field(default_factory=dict)  # item_id -> when dismissed
    purchased: dict[str, float] = field(default_factory=dict)  # item_id -> last purchase time
    n_events: int = 0
