"""`Assistant`: one multi-turn conversational shopping assistant over a `Shop`.

Per turn: understand the message (query understanding + the turn reader), carry the
constraints across turns (`merge`), act through the engine's own search, recommendations and
item lookups, write the reply from templates (`respond`, `compare`), fact-check it
(`check`), optionally let a generator rephrase it (kept only if it passes the same check),
and remember the conversation (`state`). Dismissed items never come back; a user's
conversations are dropped on erasure; anonymous visitors work by session or not at all.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from dataclasses import replace
from typing import Any

from shopsense.assistant.acts import ACTS, Ctx, Turnout
from shopsense.assistant.agent import AgentFailed, ToolAgent
from shopsense.assistant.catalogue import presence
from shopsense.assistant.check import CheckReport, check_reply
from shopsense.assistant.config import (
    AssistantSettings,
    load_settings,
    make_agent,
    make_generator,
)
from shopsense.assistant.facts import Fact
from shopsense.assistant.generate import Generator, guarded
from shopsense.assistant.intents import Intent, act_intent, cues, service_intent
from shopsense.assistant.lexicon import sold_subject
from shopsense.assistant.merge import clean_reading
from shopsense.assistant.needs import PriceBands, arrange, purpose_of, wants_unavailable
from shopsense.assistant.service import BYE, SERVICE_ACTS, THANKS, WHO, citation
from shopsense.assistant.state import Constraints, ConversationStore
from shopsense.assistant.turn import Turn, ordinals, read_turn
from shopsense.domain import Product, QueryReading, Result
from shopsense.knowledge import KnowledgeBase
from shopsense.pipeline import surfaces
from shopsense.pipeline.shop import InputError, Shop
from shopsense.pipeline.surfaces import NotReady
from shopsense.store.knowledge import knowledge_repository

log = logging.getLogger("shopsense.assistant")
SERVICE_INTENTS = ("shop_policy", "order_account", "chit_chat", "out_of_scope")
UNSET: Any = object()
SAFE_REPLY = {"zh": "抱歉，我没能组织好这条回答，请直接看下面的商品卡片。",
              "en": "Sorry, I could not word that answer safely; please see the product cards."}
SUGGESTIONS = {
    "zh": {"list": ["便宜一点的", "第二个", "这两个哪个好", "还有别的吗"],
           "item": ["有货吗", "类似的"],
           "other": ["推荐一款手机", "有什么新款耳机"]},
    "en": {"list": ["cheaper", "the second one", "compare these two", "show more"],
           "item": ["is it in stock?", "similar ones"],
           "other": ["recommend a phone", "new headphones"]},
}


class Assistant:
    def __init__(self, shop: Shop, settings: AssistantSettings | None = None,
                 generator: Generator | None = UNSET, agent: ToolAgent | None = UNSET
                 ) -> None:
        self.shop = shop
        self.settings = settings if settings is not None else load_settings(shop.settings.home)
        self.generator = make_generator(self.settings) if generator is UNSET else generator
        self.agent = make_agent(self.settings) if agent is UNSET else agent
        self.conversations = ConversationStore(self.settings.ttl_s,
                                               self.settings.max_conversations)
        shop.erasure_listeners.append(self.conversations.forget_user)
        self.knowledge = KnowledgeBase(knowledge_repository(shop.store), self._encoder)
        self.bands = PriceBands()

    def _encoder(self) -> Any:
        engine = self.shop.models.search
        return engine.encoder if engine is not None else None

    # -- the turn ---------------------------------------------------------------------------
    def chat(self, message: str, *, conversation_id: str | None = None, user: str | None = None,
             session: str | None = None, language: str | None = None,
             personalise: bool = True) -> dict[str, Any]:
        """One shopper turn -> the structured reply (see docs/ASSISTANT.md)."""
        text = (message or "").strip()
        if not text:
            raise InputError("message", "must not be empty")
        if len(text) > self.settings.max_message_chars:
            raise InputError("message", f"longer than {self.settings.max_message_chars} characters")
        if language not in (None, "zh", "en"):
            raise InputError("language", "must be zh or en")
        understander = self.shop.models.understander
        if understander is None or self.shop.models.search is None:
            raise NotReady("the search models are being built")
        owner = self.shop.actor(user, session)
        conversation_id = conversation_id or uuid.uuid4().hex
        reading = clean_reading(understander.understand(text))
        profile = self.shop.profile_of(owner)
        with self.conversations.lock_for(conversation_id, owner):  # one turn at a time
            conv = self.conversations.get(conversation_id, owner,
                                          self.shop.ids.user(user) if user else None)
            turn, intent = self.classify(text, reading, read_turn(text, reading, conv))
            ctx = Ctx(conv, reading, turn, language or turn.language, user, session,
                      personalise, frozenset(profile.dismissed) if profile else frozenset(),
                      text, purpose_of(text, self.settings.purposes), wants_unavailable(text))
            act = SERVICE_ACTS.get(turn.act) or ACTS[turn.act]
            return self._finish(ctx, act(self, ctx), intent)

    def classify(self, text: str, reading: QueryReading, turn: Turn) -> tuple[Turn, Intent]:
        """The turn's act and intent: service intents (policy, orders, chit-chat, out of
        scope) first, then "do you sell X?" for a type the catalogue lacks, then the product
        acts of the turn reader."""
        product = _product_signals(reading, turn)
        service = service_intent(text, product_signals=product) if turn.act != "reset" \
            else None
        if service is not None:
            act = {"shop_policy": "policy", "order_account": "order",
                   "out_of_scope": "out_of_scope"}.get(service.name)
            if act is None:  # chit-chat: greetings and "help" get the help text
                act = "chitchat" if cues(text, THANKS + BYE + WHO) else "help"
            return replace(turn, act=act, targets=()), service
        subject = sold_subject(text)
        bare_type = turn.direction is None and not (reading.brands or reading.attributes or
                                                    reading.price_min or reading.price_max)
        if subject and bare_type and turn.act in ("search", "recommend", "question", "help"):
            found = presence(self.shop, subject)
            if not found.carried:
                return replace(turn, act="absent", subject=subject, targets=()), \
                    Intent("product_search", 0.8, ("absent", *found.terms))
        if not subject and bare_type and turn.act == "search" and not turn.targets and \
                not ordinals(text):
            absent = self.absent_type(text)  # "买个剃须刀": the engine's own verdict
            if absent:
                return replace(turn, act="absent", subject=absent, targets=()), \
                    Intent("product_search", 0.8, ("absent", absent))
        slot = reading.category
        confidence = float(slot.confidence) if slot is not None else 0.7
        refinement = turn.act == "search" and (turn.direction is not None or (
            not _new_subject(reading) and bool(reading.brands or reading.attributes or
                                               reading.exclusions or reading.price_min or
                                               reading.price_max)))
        return turn, act_intent(turn.act, refinement, max(0.5, min(0.95, confidence)))

    def _finish(self, ctx: Ctx, out: Turnout, intent: Intent) -> dict[str, Any]:
        conv = ctx.conv
        if out.constraints is not None:
            conv.constraints = out.constraints
        constraints = conv.constraints.to_dict()
        check = lambda t: self.check(t, out.facts, constraints, len(out.products))  # noqa: E731
        template_report = check(out.text)
        agent_failed = None
        if self.agent is not None and template_report.ok:
            out, agent_failed = self._agent_turn(ctx, out, intent, constraints)
        if agent_failed is None and out.surface.startswith("agent"):
            shown, source, failed = out.text, "agent", None
        elif agent_failed is not None:
            shown, source, failed = out.text, "agent_fallback", agent_failed
        elif template_report.ok:
            shown, source, failed = guarded(self.generator, out.text, out.facts, ctx.language,
                                            check)
        else:  # a template bug: show nothing unchecked, report it
            log.error("assistant template failed its check: %s", template_report.to_dict())
            shown, source, failed = SAFE_REPLY[ctx.language], "safe_fallback", template_report
        if out.listing:
            conv.last_items = [p.item_id for p in out.products]
            conv.seen = (conv.seen if ctx.turn.act == "more" else []) + conv.last_items
            conv.focus = []
        conv.pending = out.pending
        if out.surface == "absent":  # "what do you have instead?" next: these categories
            conv.absent, conv.related = ctx.turn.subject, list(out.related or [])
        elif out.products:
            conv.absent, conv.related = "", []
        if out.focus is not None:
            conv.focus = out.focus
        conv.language, conv.turns = ctx.language, conv.turns + 1
        self.conversations.put(conv)
        items = out.items if out.items is not None else [self._item(p) for p in out.products]
        kind = "list" if out.listing else "item" if out.products else "other"
        return {"conversation_id": conv.conversation_id, "language": ctx.language,
                "act": ctx.turn.act, "reply": shown, "items": items, "listing": out.listing,
                "facts": [f.to_dict() for f in out.facts], "constraints": constraints,
                "understood": ctx.reading.to_dict(), "source": source, "surface": out.surface,
                "check": (failed or template_report).to_dict(),
                "suggestions": SUGGESTIONS[ctx.language][kind], "intent": intent.to_dict(),
                "citations": [c for c in [citation(out.knowledge)] if c] if out.knowledge
                else [], "answered": (out.knowledge.answered if out.knowledge is not None
                                      else None),
                "related_categories": out.related or []}

    def _agent_turn(self, ctx: Ctx, out: Turnout, intent: Intent, constraints: dict[str, Any]
                    ) -> tuple[Turnout, CheckReport | None]:
        """The model's turn with tools, if it passes the checker; else the template's."""
        assert self.agent is not None
        try:
            reply = self.agent.run(self, ctx)
        except AgentFailed as exc:
            return out, CheckReport(ok=False, unsupported_claims=[f"agent: {exc}"[:300]])
        report = self.check(reply.text, reply.facts, constraints, len(reply.products))
        if reply.products and intent.name in SERVICE_INTENTS:
            report.ok = False
            report.unsupported_claims.append("agent: products in a turn not about products")
        if not report.ok:
            return out, report
        listing = len(reply.products) >= 2 and bool({"search", "recommend", "similar"} &
                                                     set(reply.tools))
        knowledge = out.knowledge
        if reply.passages:
            knowledge = self.knowledge.ask(ctx.text, ctx.language)
            cited = [p for p in reply.passages if p["text"] in reply.text]
            knowledge = knowledge if knowledge.passage is not None and cited and \
                knowledge.passage.passage_id == cited[0]["passage_id"] else None
        return replace(out, text=reply.text, facts=reply.facts, products=reply.products,
                       items=None, listing=listing, knowledge=knowledge,
                       surface="agent:" + ",".join(reply.tools),
                       focus=[p.item_id for p in reply.products[:2]] or out.focus), None

    def check(self, text: str, facts: list[Fact], constraints: dict[str, Any],
              n_items: int) -> CheckReport:
        brands = {p.brand for p in self.shop.products.values() if p.brand}
        return check_reply(text, facts, self.shop.products, brands, constraints, n_items,
                           knowledge=self.passage_text)

    def passage_text(self, passage_id: str) -> str | None:
        """A knowledge passage's title, heading and text (what a reply may quote of it)."""
        p = self.knowledge.passage(passage_id)
        return None if p is None else f"{p.title}\n{p.heading}\n{p.text}"

    def purpose_note(self, c: Constraints, language: str) -> str:
        purpose = self.settings.purposes.get(c.purpose) if c.purpose else None
        if purpose is None:
            return ""
        if language == "zh":
            return f"按“{purpose.label_zh}”的需要，现在能买到、价位和特点更合适的排在前面。"
        return f"For {purpose.label_en}: items you can buy now that fit the usual price range " \
            "and features come first."

    def purpose_picks(self, ctx: Ctx, c: Constraints) -> list[Product]:
        """The best items of each category the purpose suits, in turn (a gift guide)."""
        purpose = self.settings.purposes.get(c.purpose)
        paths = sorted({p.category for p in self.shop.products.values() if p.category})
        wanted = [next((path for path in paths if fragment in path), None)
                  for fragment in (purpose.categories if purpose else [])]
        lists = [self.find(ctx, replace(c, category=path, topic=""))[0]
                 for path in dict.fromkeys(w for w in wanted if w)]
        mixed = [p for row in zip(*[lst + [None] * (self.settings.k - len(lst))  # type: ignore
                                    for lst in lists], strict=True) for p in row if p]
        return mixed[:self.settings.k]

    def _arrange(self, ctx: Ctx, c: Constraints, products: list[Product]) -> list[Product]:
        purpose = self.settings.purposes.get(c.purpose) if c.purpose else None
        bands = {p.category: self.bands.bounds(self.shop.products, p.category, purpose)
                 for p in products} if purpose is not None else {}
        return arrange(products, purpose, bands, unavailable_ok=ctx.unavailable_ok)

    def forget(self, conversation_id: str, *, user: str | None = None,
               session: str | None = None) -> bool:
        """The shopper closes a conversation: its state is dropped now."""
        return self.conversations.drop(conversation_id, self.shop.actor(user, session))

    # -- engine calls -----------------------------------------------------------------------
    def _item(self, product: Product) -> dict[str, Any]:
        return surfaces.item_dict(self.shop, Result(product.item_id, 0.0, product, {}))

    def _visible(self, ctx: Ctx, c: Constraints, product: Product | None) -> bool:
        return product is not None and product.item_id not in ctx.dismissed and c.admits(product)

    def find(self, ctx: Ctx, c: Constraints, exclude: frozenset[str] = frozenset()
             ) -> tuple[list[Product], list[dict[str, Any]]]:
        """The engine's own search under the constraints (as never-relaxed filters)."""
        engine = self.shop.models.search
        query = _query_text(c, ctx.reading)
        profile = self.shop.profile_of(ctx.conv.owner) if ctx.personalise else None
        k = self.settings.k
        response = engine.search(query, k=4 * k + 20 + len(exclude), sort=c.sort, filters=c.clauses(),
                                 reading=QueryReading(query=query, residual=query,
                                                      language=ctx.language),
                                 profile=profile, with_facets=False)
        visible = [r for r in response.results if r.item_id not in exclude and
                   self._visible(ctx, c, r.product)]
        order = {p.item_id: n for n, p in enumerate(
            self._arrange(ctx, c, [r.product for r in visible]))}
        kept = sorted(visible, key=lambda r: order[r.item_id])[:k]
        return [r.product for r in kept], [surfaces.item_dict(self.shop, r) for r in kept]

    def absent_type(self, text: str) -> str:
        """The product type `text` asks for when the shop sells none ("" otherwise): the
        search engine's `no_exact_match`, so a wish worded as an order ("买个剃须刀", "I want a
        shaver") is told so like "有剃须刀吗", not shown the alternatives as matches."""
        engine = self.shop.models.search
        if engine is None or not text.strip():
            return ""
        response = engine.search(text, k=1, with_facets=False, log_zero=False)
        return str(response.no_exact_match["requested"]) if response.no_exact_match else ""

    def dominant_category(self, text: str, top: int = 10, share: float = 0.6) -> str | None:
        """The category most of the engine's top results for `text` share, if one does (the
        subject of a turn query understanding could not place); none when they are the
        alternatives to a type the shop does not sell."""
        if not text.strip():
            return None
        response = self.shop.models.search.search(
            text, k=top, reading=QueryReading(query=text, residual=text), with_facets=False)
        if response.no_exact_match is not None:
            return None
        cats = [r.product.category for r in response.results if r.product is not None]
        if not cats:
            return None
        best, count = Counter(cats).most_common(1)[0]  # ties: the better-ranked one
        return best if count >= share * top else None

    def recommended(self, ctx: Ctx, c: Constraints, exclude: frozenset[str] = frozenset()
                    ) -> tuple[list[Product], str]:
        user, session = (ctx.user, ctx.session) if ctx.personalise else (None, None)
        found = surfaces.recommend(self.shop, user=user, session=session,
                                   k=4 * self.settings.k + 10 + len(exclude),
                                   category=c.category)
        products = [self.shop.products.get(r["item_id"]) for r in found["results"]]
        kept = [p for p in products if self._visible(ctx, c, p) and p is not None and
                p.item_id not in exclude]
        kept = self._arrange(ctx, c, kept)  # type: ignore[arg-type]
        return kept[:self.settings.k], found["surface"]

    def similar(self, ctx: Ctx, item_id: str, c: Constraints) -> list[Product]:
        user, session = (ctx.user, ctx.session) if ctx.personalise else (None, None)
        found = surfaces.item_surface(self.shop, "similar", item_id, k=4 * self.settings.k + 10,
                                      user=user, session=session)
        standing = Constraints(excluded_brands=c.excluded_brands, excluded_terms=c.excluded_terms)
        products = [self.shop.products.get(r["item_id"]) for r in found["results"]]
        return [p for p in products if self._visible(ctx, standing, p) and p is not None and
                p.item_id != item_id][:self.settings.k]


def _product_signals(reading: QueryReading, turn: Turn) -> bool:
    """The message names a product type, brand, attribute, price or an item shown."""
    slot = reading.category
    return bool((slot is not None and slot.confidence >= 0.5) or reading.brands or
                reading.attributes or reading.price_min or reading.price_max or
                turn.targets or turn.fields)


def _new_subject(reading: QueryReading) -> bool:
    return reading.category is not None and reading.category.confidence >= 0.5


def _query_text(c: Constraints, reading: QueryReading) -> str:
    parts = [c.topic] if c.topic else []
    if c.category:
        parts.append(c.category.rsplit(">", 1)[-1].strip())
    parts += [aliases[0] for aliases in c.brands]
    text = " ".join(dict.fromkeys(p for p in parts if p))
    return text or reading.residual.strip() or reading.query
