"""What the assistant does for each act of a turn: search, answer, compare, pick, show more,
find similar items, recommend, start over. Each returns a `Turnout` (reply text + facts +
cited products) that the engine checks and remembers."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from shopsense.assistant import respond
from shopsense.assistant.catalogue import category_label
from shopsense.assistant.compare import compare_reply
from shopsense.assistant.facts import Fact
from shopsense.assistant.merge import merge
from shopsense.assistant.state import Constraints, Conversation
from shopsense.assistant.turn import Turn, stated_category
from shopsense.domain import Product, QueryReading

if TYPE_CHECKING:
    from shopsense.assistant.engine import Assistant


@dataclass
class Turnout:
    """What one act produced, before the reply is checked and the state saved."""

    text: str
    facts: list[Fact]
    products: list[Product] = field(default_factory=list)
    items: list[dict[str, Any]] | None = None  # item dicts with reasons, when a surface gave them
    listing: bool = False  # the products are a result list ("the second one" refers to it)
    focus: list[str] | None = None
    constraints: Constraints | None = None
    pending: Constraints | None = None  # offered relaxation, applied on "yes"
    surface: str = ""
    knowledge: Any = None  # the knowledge-base answer a policy reply quotes
    related: list[str] | None = None  # related categories offered for an absent product type


@dataclass
class Ctx:
    conv: Conversation
    reading: QueryReading
    turn: Turn
    language: str
    user: str | None
    session: str | None
    personalise: bool
    dismissed: frozenset[str]
    text: str = ""
    purpose: str = ""  # a need the turn names ("student"), see `needs`
    unavailable_ok: bool = False  # the shopper asked for out-of-stock items too


def shown_prices(a: Assistant, conv: Conversation) -> list[float]:
    products = (a.shop.products.get(i) for i in conv.last_items)
    return [p.price for p in products if p is not None and p.price is not None]


def _products(a: Assistant, ids: tuple[str, ...] | list[str]) -> list[Product]:
    return [p for p in (a.shop.products.get(i) for i in ids) if p is not None]


def _relaxations(c: Constraints) -> list[tuple[Constraints, str, Any]]:
    """One-step relaxations, the most specific first: (constraints, field, dropped value)."""
    out: list[tuple[Constraints, str, Any]] = []
    for key, values in reversed(c.attributes):
        out.append((replace(c, attributes=tuple(a for a in c.attributes if a[0] != key)),
                    f"attributes.{key}", values))
    if c.brands:
        out.append((replace(c, brands=()), "brands", c.brands[0]))
    if c.price_min is not None:
        out.append((replace(c, price_min=None, price_min_exclusive=False), "price_min",
                    c.price_min))
    if c.price_max is not None:
        out.append((replace(c, price_max=None, price_max_exclusive=False), "price_max",
                    c.price_max))
    return out


def _results(a: Assistant, ctx: Ctx, c: Constraints, exclude: frozenset[str] = frozenset()
             ) -> Turnout:
    products, items = a.find(ctx, c, exclude=exclude)
    if products:
        text, facts = respond.results_reply(products, c, ctx.language,
                                            note=a.purpose_note(c, ctx.language))
        return Turnout(text, facts, products, items, listing=True, constraints=c,
                       surface="search")
    text, facts = respond.empty_reply(c, ctx.language)
    for relaxed, name, value in _relaxations(c):
        if a.find(ctx, relaxed)[0]:
            hint, more = respond.relax_hint(name, value, ctx.language)
            return Turnout(f"{text}\n{hint}", facts + more, constraints=c, pending=relaxed,
                           surface="search")
    return Turnout(text, facts, constraints=c, surface="search")


def _merged(a: Assistant, ctx: Ctx) -> Constraints:
    c = merge(ctx.conv.constraints, ctx.reading, ctx.turn, shown_prices(a, ctx.conv))
    return replace(c, purpose=ctx.purpose) if ctx.purpose else c


def search(a: Assistant, ctx: Ctx) -> Turnout:
    c = _merged(a, ctx)
    slot = ctx.reading.category
    if ctx.purpose and slot is not None and slot.confidence < 0.6 and c.category == slot.value:
        c = replace(c, category=None)  # "送爸爸的礼物": a guessed type yields to the purpose
    if c.category is None and not c.brands and c.purpose and ctx.turn.direction is None:
        picks = a.purpose_picks(ctx, c)  # "送爸爸的礼物": the purpose's own categories
        if picks:
            text, facts = respond.results_reply(picks, c, ctx.language,
                                                note=a.purpose_note(c, ctx.language))
            return Turnout(text, facts, picks, listing=True, constraints=c, surface="search")
    if c.category is None and not c.brands and ctx.turn.direction is None:
        residual = ctx.reading.residual.strip()
        category = a.dominant_category(residual)
        if category is not None:  # a product word understanding missed: the results agree
            c = replace(c, category=category, topic=c.topic or residual)
    return _results(a, ctx, c)


def more(a: Assistant, ctx: Ctx) -> Turnout:
    """The next results under the same constraints (or recommendations), none shown before."""
    c, seen = ctx.conv.constraints, frozenset(ctx.conv.seen)
    if not (c.category or c.brands or c.topic):
        products, surface = a.recommended(ctx, c, exclude=seen)
        text, facts = respond.results_reply(products, c, ctx.language)
        out = Turnout(text, facts, products, listing=True, surface=surface)
    else:
        out = _results(a, ctx, c, seen)
    if not out.products:
        text, facts = respond.no_more_reply(ctx.language)
        return Turnout(text, facts, surface="search")
    return out


def accept(a: Assistant, ctx: Ctx) -> Turnout:
    """"Yes" to the relaxation offered when nothing matched."""
    if ctx.conv.pending is None:
        return help_(a, ctx)
    return _results(a, ctx, ctx.conv.pending)


def question(a: Assistant, ctx: Ctx) -> Turnout:
    turn = ctx.turn
    new_subject = stated_category(ctx.reading, ctx.conv.constraints.category) is not None
    ids = turn.targets or (() if new_subject else tuple(ctx.conv.focus or ctx.conv.last_items))
    products = _products(a, ids)
    if products:
        text, facts = respond.answer_reply(products, turn.fields, turn.topics, ctx.language)
        if turn.rank_by:
            verdict, more_facts = respond.price_verdict(products, turn.rank_by, ctx.language)
            text, facts = f"{text}\n{verdict}", facts + more_facts
        focus = [p.item_id for p in products] if len(products) <= 2 else None
        return Turnout(text, facts, products, focus=focus, surface="item")
    found = search(a, ctx)  # nothing to ask about yet: search, then answer for what is shown
    if not found.products:
        return found
    text, facts = respond.answer_reply(found.products, turn.fields, turn.topics, ctx.language)
    return replace(found, text=found.text + "\n" + text, facts=found.facts + facts)


def compare(a: Assistant, ctx: Ctx) -> Turnout:
    products = _products(a, ctx.turn.targets)
    if len(products) < 2:
        return help_(a, ctx)
    text, facts = compare_reply(products, ctx.turn.fields, ctx.turn.topics, ctx.language)
    return Turnout(text, facts, products[:3], focus=[p.item_id for p in products[:3]],
                   surface="compare")


def select(a: Assistant, ctx: Ctx) -> Turnout:
    products = _products(a, ctx.turn.targets[:1])
    if not products:
        return help_(a, ctx)
    text, facts = respond.detail_reply(products[0], ctx.language)
    return Turnout(text, facts, products, focus=[products[0].item_id], surface="item")


def similar(a: Assistant, ctx: Ctx) -> Turnout:
    anchor = _products(a, ctx.turn.targets[:1])
    if not anchor and ctx.conv.related:
        return _instead(a, ctx)
    if not anchor:
        return help_(a, ctx)
    products = a.similar(ctx, anchor[0].item_id, ctx.conv.constraints)
    zh = ctx.language == "zh"
    if not products:
        return Turnout("目录里没有找到相似商品。" if zh else "I found nothing similar in the "
                       "catalogue.", [], surface="similar")
    note = "和你选中的商品相似的有：" if zh else "Similar to the one you picked:"
    text, facts = respond.results_reply(products, Constraints(), ctx.language, note=note)
    return Turnout(text, facts, products, listing=True, surface="similar")


def _instead(a: Assistant, ctx: Ctx) -> Turnout:
    """After "we don't sell X": the products of the related categories offered, the first
    that has any under the conversation's wishes, said to be in place of X (not X)."""
    zh = ctx.language == "zh"
    for category in ctx.conv.related:
        c = replace(_merged(a, ctx), category=category, topic="")
        products, items = a.find(ctx, c)
        if products:
            label = category_label(a.shop, category, ctx.language)
            note = (f"本店没有“{ctx.conv.absent}”。相关类目“{label}”里有这些（不是“{ctx.conv.absent}”）："
                    if zh else f"We don't sell “{ctx.conv.absent}”. From the related category "
                    f"“{label}” (not “{ctx.conv.absent}”):")
            text, facts = respond.results_reply(products, c, ctx.language, note=note)
            # the wishes stay the shopper's: the related category is shown, not adopted
            return Turnout(text, facts, products, items, listing=True, surface="search")
    text = (f"本店没有“{ctx.conv.absent}”，相关类目里也没有符合的商品。" if zh else
            f"We don't sell “{ctx.conv.absent}”, and nothing in the related categories matches.")
    return Turnout(text, [], surface="absent")


def recommend(a: Assistant, ctx: Ctx) -> Turnout:
    c = _merged(a, ctx)
    if c.category or c.brands:
        return _results(a, ctx, c)
    products, surface = a.recommended(ctx, c)
    if not products:
        text, facts = respond.empty_reply(c, ctx.language)
        return Turnout(text, facts, constraints=c, surface=surface)
    note = "\n".join(n for n in (respond.recommend_note(surface, ctx.language),
                                  a.purpose_note(c, ctx.language)) if n)
    text, facts = respond.results_reply(products, c, ctx.language, note=note)
    return Turnout(text, facts, products, listing=True, constraints=c, surface=surface)


def dismiss(a: Assistant, ctx: Ctx) -> Turnout:
    """"不喜欢第二个" / "not interested in this one": recorded as the shopper's dismissal (the
    same feedback event as the ✕ on a card), then the list again without it."""
    if not (ctx.user or ctx.session):
        text, facts = respond.dismiss_needs_identity(ctx.language)
        return Turnout(text, facts)
    gone = _products(a, ctx.turn.targets)
    for product in gone:
        a.shop.feedback(ctx.user, ctx.session, product.item_id, "dismiss")
    ctx.dismissed = ctx.dismissed | {p.item_id for p in gone}
    note, facts = respond.dismissed_note(gone, ctx.language)
    out = _results(a, ctx, ctx.conv.constraints) if ctx.conv.constraints.category or \
        ctx.conv.constraints.brands else Turnout("", [])
    return replace(out, text=(note + "\n" + out.text).strip(), facts=facts + out.facts)


def reset(a: Assistant, ctx: Ctx) -> Turnout:
    ctx.conv.last_items, ctx.conv.focus, ctx.conv.seen = [], [], []
    text, facts = respond.reset_reply(ctx.language)
    return Turnout(text, facts, constraints=Constraints(), focus=[])


def help_(a: Assistant, ctx: Ctx) -> Turnout:
    text, facts = respond.help_reply(ctx.language)
    return Turnout(text, facts)


ACTS = {"search": search, "question": question, "compare": compare, "select": select,
        "similar": similar, "recommend": recommend, "reset": reset, "help": help_,
        "more": more, "accept": accept, "dismiss": dismiss}
