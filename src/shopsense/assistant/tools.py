"""The catalogue's tools for language models and outside agents: one implementation, used by
the assistant's agent mode (OpenAI function calling) and the MCP server.

search(query, filters) · get_item · compare(items) · similar · recommend · knowledge(question)
· add_to_cart · view_cart. Every tool validates its input (`InputError`, never a crash),
returns plain JSON-able data, and answers only from the engine: items carry their stored
fields, knowledge answers carry the passage they quote.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from shopsense.assistant.compare import compare_reply
from shopsense.pipeline import surfaces
from shopsense.pipeline.shop import InputError

if TYPE_CHECKING:
    from shopsense.assistant.engine import Assistant

MAX_K = 20


def item_card(product: Any) -> dict[str, Any]:
    """The stored fields an agent may state about an item."""
    return {"item_id": product.item_id, "title": product.title, "brand": product.brand,
            "category": product.category, "price": product.price,
            "currency": product.currency or "CNY", "available": product.available,
            "attributes": {k: v for k, v in product.attributes.items() if k != "consumable"}}


def _k(k: int | None, default: int = 5) -> int:
    k = default if k is None else k
    if not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise InputError("k", f"must be an integer from 1 to {MAX_K}")
    return k


class ToolBox:
    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.shop = assistant.shop

    def _product(self, item_id: Any, field: str = "item_id") -> Any:
        product = self.shop.products.get(item_id) if isinstance(item_id, str) else None
        if product is None:
            raise InputError(field, f"unknown item {item_id!r}")
        return product

    def _cards(self, rows: list[dict[str, Any]], k: int) -> list[dict[str, Any]]:
        products = [self.shop.products.get(r["item_id"]) for r in rows]
        return [item_card(p) for p in products if p is not None][:k]

    def search(self, query: str, category: str | None = None, brand: str | None = None,
               price_min: float | None = None, price_max: float | None = None,
               in_stock_only: bool = False, k: int | None = 5) -> dict[str, Any]:
        if not isinstance(query, str) or not query.strip() or len(query) > 500:
            raise InputError("query", "must be 1-500 characters")
        params: dict[str, Any] = {"category": category, "price_min": price_min,
                                  "price_max": price_max, "brand": [brand] if brand else None,
                                  "available": True if in_stock_only else None}
        found = surfaces.search(self.shop, query, k=_k(k), params=params)
        return {"query": query, "total": found.get("total"),
                "items": self._cards(found["results"], _k(k))}

    def get_item(self, item_id: str) -> dict[str, Any]:
        product = self._product(item_id)
        return {**item_card(product), "description": product.description}

    def compare(self, item_ids: list[str]) -> dict[str, Any]:
        if not isinstance(item_ids, list) or not 2 <= len(item_ids) <= 3:
            raise InputError("item_ids", "must list 2 or 3 item ids")
        products = [self._product(i, "item_ids") for i in item_ids]
        table, _ = compare_reply(products, (), (), "en")
        return {"items": [item_card(p) for p in products], "table": table}

    def similar(self, item_id: str, k: int | None = 5) -> dict[str, Any]:
        self._product(item_id)
        found = surfaces.item_surface(self.shop, "similar", item_id, k=_k(k))
        return {"item_id": item_id, "items": self._cards(found["results"], _k(k))}

    def recommend(self, user: str | None = None, session: str | None = None,
                  category: str | None = None, k: int | None = 5) -> dict[str, Any]:
        found = surfaces.recommend(self.shop, user=user, session=session, k=_k(k),
                                   category=category)
        return {"surface": found["surface"], "items": self._cards(found["results"], _k(k))}

    def knowledge(self, question: str, language: str | None = None) -> dict[str, Any]:
        if not isinstance(question, str) or not question.strip() or len(question) > 500:
            raise InputError("question", "must be 1-500 characters")
        if language not in (None, "zh", "en"):
            raise InputError("language", "must be zh or en")
        answer = self.assistant.knowledge.ask(question, language)
        p = answer.passage
        contact = (self.assistant.settings.contact_zh if language == "zh" else
                   self.assistant.settings.contact_en)
        return {"question": question, "answered": p is not None,
                "passage": None if p is None else {
                    "passage_id": p.passage_id, "title": p.title, "heading": p.heading,
                    "text": p.text, "language": p.language},
                "contact": None if p is not None else contact}

    def add_to_cart(self, item_id: str, session: str | None = None, user: str | None = None,
                    quantity: int = 1) -> dict[str, Any]:
        product = self._product(item_id)
        if not (session or user):
            raise InputError("session", "a session or user id is needed to hold a cart")
        if not isinstance(quantity, int) or not 1 <= quantity <= 99:
            raise InputError("quantity", "must be an integer from 1 to 99")
        row = {"user_id": user, "session_id": session, "item_id": item_id,
               "event_type": "cart", "platform": "other", "timestamp": time.time(),
               "value": float(quantity)}
        self.shop.record_events([row])
        return {"added": True, "item": item_card(product), "quantity": quantity}

    def view_cart(self, session: str | None = None, user: str | None = None) -> dict[str, Any]:
        actor = self.shop.actor(user, session)
        if actor is None:
            raise InputError("session", "a session or user id is needed to hold a cart")
        counts: dict[str, int] = {}
        for event in self.shop.store.iter_events(actor=actor):
            if event.event_type == "cart" and event.item_id:
                counts[event.item_id] = counts.get(event.item_id, 0) + int(event.value or 1)
        items = [{**item_card(self.shop.products[i]), "quantity": n}
                 for i, n in counts.items() if i in self.shop.products]
        return {"items": items}


def _fn(name: str, description: str, properties: dict[str, Any],
        required: list[str]) -> dict[str, Any]:
    return {"type": "function", "function": {
        "name": name, "description": description,
        "parameters": {"type": "object", "properties": properties, "required": required,
                       "additionalProperties": False}}}


_STR, _NUM, _K = {"type": "string"}, {"type": "number"}, {"type": "integer", "minimum": 1,
                                                          "maximum": MAX_K}
# OpenAI function-calling schemas of the agent's tools (the MCP server derives its own from
# the typed functions of `mcp_server`).
TOOL_SCHEMAS: list[dict[str, Any]] = [
    _fn("search", "Search the shop's catalogue. Returns items with their stored fields.",
        {"query": _STR, "category": _STR, "brand": _STR, "price_min": _NUM, "price_max": _NUM,
         "in_stock_only": {"type": "boolean"}, "k": _K}, ["query"]),
    _fn("get_item", "All stored fields of one item.", {"item_id": _STR}, ["item_id"]),
    _fn("compare", "Compare 2 or 3 items side by side.",
        {"item_ids": {"type": "array", "items": _STR, "minItems": 2, "maxItems": 3}},
        ["item_ids"]),
    _fn("similar", "Items similar to one item.", {"item_id": _STR, "k": _K}, ["item_id"]),
    _fn("recommend", "Recommendations for the shopper (popular items for a new visitor).",
        {"category": _STR, "k": _K}, []),
    _fn("knowledge", "Answer a shop policy question (returns, shipping, payment, warranty, "
        "invoices, opening hours) from the shop's documents; quote the passage.",
        {"question": _STR, "language": {"type": "string", "enum": ["zh", "en"]}},
        ["question"]),
    _fn("add_to_cart", "Put an item into the shopper's cart.",
        {"item_id": _STR, "quantity": {"type": "integer", "minimum": 1, "maximum": 99}},
        ["item_id"]),
]
