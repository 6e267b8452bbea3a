"""Agent mode: a language model plans the turn with the catalogue's tools through OpenAI-style
function calling (any `/v1/chat/completions` endpoint: llama.cpp server, vLLM, Ollama, a
hosted model); the engine executes the tools; the model's final reply is fact-checked against
what the tools returned (bound to items, like a template reply) and is shown only if it
passes. A failed check, a model or network error, the step limit or the time budget falls back
to the template reply.

The model never sees the shopper's earlier raw messages (the assistant stores none): it gets
the items the conversation shows now (ids and titles), the reply language, and this turn.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from shopsense.assistant.facts import Fact
from shopsense.assistant.tools import TOOL_SCHEMAS, ToolBox
from shopsense.pipeline.shop import InputError

if TYPE_CHECKING:
    from shopsense.assistant.acts import Ctx
    from shopsense.assistant.engine import Assistant

SYSTEM = (
    "You are the shopping assistant of one online shop. Answer in {language}. Use the tools "
    "for every fact: search / recommend / similar / get_item / compare for products, "
    "knowledge for shop policies (returns, shipping, payment, warranty, invoices, hours). "
    "Write product titles, prices and specs exactly as the tools return them, and only for "
    "the item they belong to. Never invent services, ratings or superlatives. Quote a "
    "knowledge passage in quotation marks and cite it as [1]. If the tools do not answer, "
    "say so. Questions that are not about this shop: decline politely.")


class AgentFailed(Exception):
    """The agent produced no usable reply (the template reply is shown instead)."""


@dataclass
class AgentReply:
    text: str
    facts: list[Fact]
    products: list[Any]
    tools: list[str] = field(default_factory=list)  # tool names called, in order
    steps: int = 0
    passages: list[Any] = field(default_factory=list)


class ToolAgent:
    """POSTs to `<base_url>/chat/completions` with `tools`; executes `tool_calls`."""

    name = "agent"

    def __init__(self, base_url: str, model: str = "default", api_key: str = "", *,
                 max_steps: int = 6, timeout_s: float = 30.0, temperature: float = 0.0) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be http(s)://..., got {base_url!r}")
        self.endpoint = (base_url.rstrip("/") if base_url.rstrip("/").endswith(
            "/chat/completions") else base_url.rstrip("/") + "/chat/completions")
        self.model, self.api_key = model, api_key
        self.max_steps, self.timeout_s, self.temperature = max_steps, timeout_s, temperature

    def run(self, assistant: Assistant, ctx: Ctx) -> AgentReply:
        box = ToolBox(assistant)
        deadline = time.monotonic() + self.timeout_s
        messages = self._opening(assistant, ctx)
        seen: dict[str, Any] = {}
        passages: list[Any] = []
        tools: list[str] = []
        for step in range(1, self.max_steps + 1):
            message = self._complete(messages, deadline)
            calls = message.get("tool_calls") or []
            if not calls:
                text = message.get("content")
                if not isinstance(text, str) or not text.strip():
                    raise AgentFailed("the model returned neither text nor tool calls")
                return _reply(text.strip(), seen, passages, tools, step)
            messages.append({"role": "assistant", "content": message.get("content"),
                             "tool_calls": calls})
            for call in calls:
                name, result = self._execute(box, call, ctx, seen, passages)
                tools.append(name)
                messages.append({"role": "tool", "tool_call_id": call.get("id", ""),
                                 "content": json.dumps(result, ensure_ascii=False)})
        raise AgentFailed(f"no final reply within {self.max_steps} steps")

    def _opening(self, assistant: Assistant, ctx: Ctx) -> list[dict[str, Any]]:
        shown = [assistant.shop.products.get(i) for i in ctx.conv.last_items]
        lines = [f"{n}. {p.item_id}: {p.title}" for n, p in enumerate(shown, 1) if p]
        context = ("Items the shopper sees now (\"the second one\" = number 2):\n" +
                   "\n".join(lines)) if lines else "No items are shown yet."
        language = "Chinese" if ctx.language == "zh" else "English"
        return [{"role": "system", "content": SYSTEM.format(language=language)},
                {"role": "system", "content": context},
                {"role": "user", "content": ctx.text}]

    def _complete(self, messages: list[dict[str, Any]], deadline: float) -> dict[str, Any]:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AgentFailed(f"past the time budget of {self.timeout_s} s")
        body = {"model": self.model, "messages": messages, "tools": TOOL_SCHEMAS,
                "tool_choice": "auto", "temperature": self.temperature}
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            response = httpx.post(self.endpoint, json=body, headers=headers, timeout=left)
            response.raise_for_status()
            message = response.json()["choices"][0]["message"]
        except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as exc:
            raise AgentFailed(f"model call failed: {exc!r}"[:300]) from exc
        if not isinstance(message, dict):
            raise AgentFailed("the model's message is not an object")
        return message

    def _execute(self, box: ToolBox, call: dict[str, Any], ctx: Ctx, seen: dict[str, Any],
                 passages: list[Any]) -> tuple[str, Any]:
        fn = call.get("function") or {}
        name = str(fn.get("name", ""))
        try:
            args = json.loads(fn.get("arguments") or "{}")
            if not isinstance(args, dict):
                raise ValueError("arguments must be an object")
            if name not in {s["function"]["name"] for s in TOOL_SCHEMAS}:
                raise ValueError(f"unknown tool {name!r}")
            if name in ("add_to_cart", "recommend"):  # the shopper is this conversation's
                args.update(session=ctx.session, user=ctx.user)
            result = getattr(box, name)(**args)
        except (InputError, ValueError, TypeError, KeyError) as exc:
            return name, {"error": str(exc)[:300]}
        for card in _cards(result):
            product = box.shop.products.get(card["item_id"])
            if product is not None:
                seen.setdefault(product.item_id, product)
        if name == "knowledge" and result.get("passage"):
            passages.append(result["passage"])
        return name, result


def _cards(result: Any) -> list[dict[str, Any]]:
    if not isinstance(result, dict):
        return []
    cards = list(result.get("items") or [])
    if "item_id" in result and "title" in result:
        cards.append(result)
    if isinstance(result.get("item"), dict):
        cards.append(result["item"])
    return [c for c in cards if isinstance(c, dict) and "item_id" in c]


def _reply(text: str, seen: dict[str, Any], passages: list[Any], tools: list[str],
           steps: int) -> AgentReply:
    """The items the reply names (by title, in the order written) and their stored facts."""
    named = sorted((text.find(p.title), p) for p in seen.values() if p.title in text)
    products = [p for _, p in named]
    facts: list[Fact] = []
    for p in products:
        facts += [Fact(p.item_id, "title", p.title), Fact(p.item_id, "available", p.available)]
        if p.price is not None:
            facts.append(Fact(p.item_id, "price", p.price))
        if p.brand:
            facts.append(Fact(p.item_id, "brand", p.brand))
        facts += [Fact(p.item_id, f"attributes.{k}", v) for k, v in p.attributes.items()
                  if k != "consumable"]
    for passage in passages:
        facts += [Fact(None, f"knowledge.{passage['passage_id']}", passage[key])
                  for key in ("title", "heading", "text") if passage.get(key) and
                  passage[key] in text]
    return AgentReply(text, facts, products, tools, steps, passages)
