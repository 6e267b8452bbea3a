"""What the assistant remembers of a conversation, and for how long.

`Constraints` are the shopper's accumulated wishes (category, brands, exclusions, price
bounds, attributes); `Conversation` adds the last result list ("the second one"), the focused
items ("it", "these two") and the language. `ConversationStore` keeps conversations in
memory only, with a TTL and a size cap, keyed by (conversation id, shopper) so one shopper
can never read another's state, and drops a user's conversations on erasure. Raw message
text is never stored.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Any

from shopsense.domain import Product
from shopsense.rank.filters import Clause, category_matches

Aliases = tuple[str, ...]
AttrWish = tuple[str, tuple[Any, ...]]  # (attribute key, accepted values)


@dataclass(frozen=True, slots=True)
class Constraints:
    category: str | None = None
    topic: str = ""  # the product word as the shopper wrote it ("手机", "phones")
    brands: tuple[Aliases, ...] = ()
    excluded_brands: tuple[Aliases, ...] = ()
    excluded_terms: tuple[str, ...] = ()
    excluded_categories: tuple[str, ...] = ()
    attributes: tuple[AttrWish, ...] = ()
    excluded_attributes: tuple[AttrWish, ...] = ()
    price_min: float | None = None
    price_max: float | None = None
    price_min_exclusive: bool = False  # "more expensive than what you showed"
    price_max_exclusive: bool = False  # "cheaper than what you showed"
    newest: bool = False
    sort: str = "relevance"
    purpose: str = ""  # a need named earlier ("student"): soft preferences, see `needs`

    def with_attribute(self, key: str, values: tuple[Any, ...]) -> Constraints:
        kept = tuple(a for a in self.attributes if a[0] != key)
        return replace(self, attributes=(*kept, (key, values)))

    def clauses(self) -> list[Clause]:
        """Hard filters for the search engine (source "user": never relaxed)."""
        out = [Clause("category", self.category)] if self.category else []
        if self.brands:
            out.append(Clause("brand", tuple(v for a in self.brands for v in a)))
        low = None if self.price_min is None else self.price_min + (1e-6 if
                                                                     self.price_min_exclusive else 0)
        high = None if self.price_max is None else self.price_max - (1e-6 if
                                                                      self.price_max_exclusive else 0)
        if low is not None or high is not None:
            out.append(Clause("price", (low, high)))
        out += [Clause("attribute", (key, values)) for key, values in self.attributes]
        out += [Clause("not_brand", aliases) for aliases in self.excluded_brands]
        out += [Clause("not_term", term) for term in self.excluded_terms]
        out += [Clause("not_category", path) for path in self.excluded_categories]
        out += [Clause("not_attribute", wish) for wish in self.excluded_attributes]
        return out

    def admits(self, product: Product) -> bool:
        """The same rules as `clauses`, checked on one product (a guard on every result)."""
        if self.category and not category_matches(product.category, self.category):
            return False
        brand = product.brand.lower()
        if self.brands and brand not in {v.lower() for a in self.brands for v in a}:
            return False
        if any(brand in {v.lower() for v in a} for a in self.excluded_brands):
            return False
        if any(t.lower() in product.title.lower() for t in self.excluded_terms):
            return False
        if any(category_matches(product.category, c) for c in self.excluded_categories):
            return False
        if not _price_ok(self, product.price):
            return False
        attrs = product.attributes
        if any(str(attrs.get(k, "\0")).lower() not in {str(v).lower() for v in vals}
               for k, vals in self.attributes):
            return False
        return not any(str(attrs.get(k, "\0")).lower() in {str(v).lower() for v in vals}
                       for k, vals in self.excluded_attributes)

    def to_dict(self) -> dict[str, Any]:
        return {"category": self.category, "topic": self.topic,
                "brands": [list(a) for a in self.brands],
                "excluded_brands": [list(a) for a in self.excluded_brands],
                "excluded_terms": list(self.excluded_terms),
                "excluded_categories": list(self.excluded_categories),
                "attributes": {k: list(v) for k, v in self.attributes},
                "excluded_attributes": {k: list(v) for k, v in self.excluded_attributes},
                "price_min": self.price_min, "price_max": self.price_max,
                "price_min_exclusive": self.price_min_exclusive,
                "price_max_exclusive": self.price_max_exclusive,
                "newest": self.newest, "sort": self.sort, "purpose": self.purpose}


def _price_ok(c: Constraints, price: float | None) -> bool:
    if c.price_min is None and c.price_max is None:
        return True
    if price is None or price != price:
        return False
    if c.price_min is not None and (price < c.price_min or
                                    (c.price_min_exclusive and price <= c.price_min)):
        return False
    return not (c.price_max is not None and (price > c.price_max or
                                             (c.price_max_exclusive and price >= c.price_max)))


@dataclass
class Conversation:
    conversation_id: str
    owner: str | None  # the shopper's pseudonym (user, else session); None = anonymous
    user_key: str | None = None  # the user pseudonym, for erasure
    language: str = "zh"
    constraints: Constraints = field(default_factory=Constraints)
    last_items: list[str] = field(default_factory=list)
    focus: list[str] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)  # shown under the current constraints ("more")
    pending: Constraints | None = None  # the relaxation offered when nothing matched
    absent: str = ""  # a type the shop does not sell, asked for in the last turn ("洗碗机")
    related: list[str] = field(default_factory=list)  # the categories offered instead of it
    turns: int = 0
    updated_at: float = field(default_factory=time.time)


class ConversationStore:
    """In-memory conversations with a TTL (seconds since the last turn) and a size cap (LRU)."""

    def __init__(self, ttl_s: float = 1800.0, max_conversations: int = 10_000) -> None:
        if ttl_s <= 0 or max_conversations < 1:
            raise ValueError("ttl_s must be > 0 and max_conversations >= 1")
        self.ttl_s = ttl_s
        self.max_conversations = max_conversations
        self._items: OrderedDict[tuple[str, str | None], Conversation] = OrderedDict()
        self._lock = threading.Lock()
        self._turn_locks = [threading.Lock() for _ in range(64)]  # striped: bounded memory

    def lock_for(self, conversation_id: str, owner: str | None) -> threading.Lock:
        """Serialises the turns of one conversation (two tabs sending at once)."""
        return self._turn_locks[hash((conversation_id, owner)) % len(self._turn_locks)]

    def __len__(self) -> int:
        return len(self._items)

    def get(self, conversation_id: str, owner: str | None, user_key: str | None = None,
            now: float | None = None) -> Conversation:
        """The live conversation, or a fresh one (expired or unknown ids start over)."""
        now = time.time() if now is None else now
        key = (conversation_id, owner)
        with self._lock:
            found = self._items.get(key)
            if found is not None and now - found.updated_at <= self.ttl_s:
                self._items.move_to_end(key)
                return found
            self._items.pop(key, None)
        return Conversation(conversation_id, owner, user_key, updated_at=now)

    def put(self, conversation: Conversation, now: float | None = None) -> None:
        conversation.updated_at = time.time() if now is None else now
        with self._lock:
            self._items[(conversation.conversation_id, conversation.owner)] = conversation
            self._items.move_to_end((conversation.conversation_id, conversation.owner))
            while len(self._items) > self.max_conversations:
                self._items.popitem(last=False)

    def drop(self, conversation_id: str, owner: str | None) -> bool:
        with self._lock:
            return self._items.pop((conversation_id, owner), None) is not None

    def forget_user(self, user_key: str) -> int:
        """Erasure: drop every conversation of this user pseudonym."""
        with self._lock:
            gone = [k for k, c in self._items.items() if c.user_key == user_key or
                    c.owner == user_key]
            for key in gone:
                del self._items[key]
        return len(gone)
