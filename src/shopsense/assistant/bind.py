"""Facts bound to their items: each sentence (or table column) of a reply is about one item,
and what it says must hold for *that* item.

`bind_check(text, facts, products, brands, knowledge)` returns the problems found:
1. Subjects. A sentence is about the items whose titles it writes (a sentence naming two is
   cut at the second title); the letters of a comparison ("A: <title>") name their item too;
   a sentence naming none continues the previous subject (the lines under a title). A table
   column is about the item its header names.
2. Numbers, brands and attribute values written in a piece about item X must be X's own
   (any stored field's written form, or the shopper's own constraints): a price, a brand or
   an attribute value that belongs to another cited item is reported as bound to the wrong
   item ("swapped" / "transplanted").
3. Qualitative claims (`CLAIMS`: best-rated, lifetime warranty, free delivery, noise
   cancelling, waterproof, genuine, fastest delivery, cheapest ...) need support: an attribute
   of that item, a review field (rating / reviews / sales_rank), or a cited knowledge passage
   that says so. A negated claim ("不包邮", "not waterproof") claims nothing.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from shopsense.assistant.facts import Fact
from shopsense.assistant.lexicon import pattern as compiled
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

SENTENCE_RE = re.compile(r"[^。；;！!？?\n]+[。；;！!？?]?|\n")
LETTER_LINE_RE = re.compile(r"(?m)^\s*([A-C])\s*[:：]\s*(.+?)\s*$")
REVIEW_FIELDS = ("rating", "reviews", "review_count", "sales_rank", "stars")
# claim -> (words that make it, attribute keys that support it, words a passage must hold)
CLAIMS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "best_rated": (("好评最多", "好评率最高", "评分最高", "口碑最好", "销量第一", "最畅销", "卖得最好",
                    "best-rated", "best rated", "top-rated", "top rated", "highest rated",
                    "best-selling", "best selling", "bestseller", "most popular"),
                   REVIEW_FIELDS, ("好评", "评分", "销量", "rated", "best-selling", "popular")),
    "superlative": (("最好的", "最强", "最佳", "第一名", "性价比最高", "无敌", "the best ",
                     "number one", "#1", "unbeatable", "top of the line", "best value"),
                    REVIEW_FIELDS, ("最好", "最佳", "best")),
    "lifetime_warranty": (("终身保修", "终身质保", "永久保修", "lifetime warranty",
                           "lifetime guarantee"), ("warranty",), ("终身", "lifetime")),
    "free_delivery": (("包邮", "免运费", "免费配送", "免费送货", "free delivery", "free shipping",
                       "ships free"), ("free_shipping",), ("包邮", "免运费", "free")),
    "fast_delivery": (("当天发货", "次日达", "当日达", "24小时发货", "极速发货", "next-day delivery",
                       "same-day", "ships today", "overnight delivery"),
                      ("delivery",), ("当天", "次日", "24", "next-day", "same-day")),
    "returns": (("无理由退货", "无理由退换", "免费退换", "money-back", "free returns",
                 "no-questions-asked"), ("returns",), ("退货", "退换", "return")),
    "genuine": (("官方正品", "正品保证", "假一赔十", "100% genuine", "guaranteed authentic"),
                ("official",), ("正品", "genuine", "authentic")),
    "noise_cancelling": (("降噪", "noise cancelling", "noise-cancelling", "noise canceling",
                          "anc"), ("noise_cancelling",), ()),
    "waterproof": (("防水", "waterproof", "water-resistant", "water resistant"),
                   ("waterproof",), ()),
}


def _forms(p: Product) -> set[str]:
    """Every written form of every stored field of one product."""
    facts = [Fact(p.item_id, "price", p.price), Fact(p.item_id, "brand", p.brand),
             Fact(p.item_id, "title", p.title)]
    facts += [Fact(p.item_id, f"attributes.{k}", v) for k, v in p.attributes.items()]
    return {f.lower() for fact in facts for f in written_forms(fact, p.currency or "CNY")}


Group = tuple[Product, ...]  # the items a piece may be about (one, unless titles repeat)


def _aliases(text: str, cited: Sequence[Product]) -> dict[str, Group]:
    """Title -> the items with that title, and the comparison's letters ("A：<title>")."""
    out: dict[str, Group] = {}
    for p in cited:
        if p.title:
            out[p.title] = (*out.get(p.title, ()), p)
    by_title = dict(out)
    for m in LETTER_LINE_RE.finditer(text):
        if m.group(2) in by_title:
            out[m.group(1)] = by_title[m.group(2)]
    return out


def _mentions(piece: str, aliases: Mapping[str, Group]) -> list[tuple[int, Group, str]]:
    found = []
    for alias, product in aliases.items():
        regex = (rf"(?<![A-Za-z]){alias}(?![A-Za-z])" if len(alias) == 1 else re.escape(alias))
        found += [(m.start(), product, alias) for m in compiled(regex).finditer(piece)]
    return sorted(found, key=lambda t: t[0])


def pieces(text: str, cited: Sequence[Product]) -> list[tuple[Group | None, str]]:
    """(subject, piece of text) in reading order; titles / letters are removed from pieces."""
    aliases = _aliases(text, cited)
    out: list[tuple[Group | None, str]] = []
    subject: Group | None = None
    header: list[Group | None] = []
    text = CITATION_RE.sub(" ", LIST_MARKER_RE.sub(" ", text))
    for raw in text.splitlines():
        if raw.strip().startswith("|") and raw.count("|") >= 3:
            cells = [c.strip() for c in raw.strip().strip("|").split("|")]
            named = [aliases.get(c) for c in cells]
            if any(named):
                header = named
                continue
            for n, cell in enumerate(cells[1:], start=1):  # cells[0]: the row's label
                owner = header[n] if n < len(header) else None
                out.append((owner, f"{cells[0]}：{cell}"))
            continue
        for sentence in SENTENCE_RE.findall(raw):
            hits = _mentions(sentence, aliases)
            if not hits:
                out.append((subject, sentence))
                continue
            starts = [0] + [h[0] for h in hits[1:]] + [len(sentence)]
            for (_, product, _), a, b in zip(hits, starts, starts[1:], strict=False):
                chunk = sentence[a:b]
                for alias in sorted(aliases, key=len, reverse=True):
                    if len(alias) > 1:
                        chunk = chunk.replace(alias, " ")
                chunk = re.sub(r"(?<![A-Za-z])[A-C](?![A-Za-z])", " ", chunk) \
                    if len(aliases) > len(cited) else chunk
                out.append((product, chunk))
            subject = hits[-1][1] if len({tuple(p.item_id for p in h[1]) for h in hits}) \
                == 1 else None
    return out


def _claim_supported(name: str, owner: Product | None, passages: Sequence[str],
                     wished: frozenset[str] = frozenset()) -> bool:
    _, keys, passage_words = CLAIMS[name]
    if any(f"attributes.{key}" in wished for key in keys):
        return True  # the shopper's own wish, echoed; or (no subject) some cited item's flag
    if owner is not None:
        for key in keys:
            value = owner.attributes.get(key)
            if value not in (None, False, "", 0):
                return True
    return any(any(w.lower() in text.lower() for w in passage_words) for text in passages
               ) if passage_words else False


def _claims(piece: str, owner: Product | None, passages: Sequence[str],
            wished: frozenset[str] = frozenset()) -> list[str]:
    bad = []
    low = piece.lower()
    for name, (words, _, _) in CLAIMS.items():
        for word in words:
            w = word.lower()
            at = compiled(rf"(?<![a-z]){re.escape(w)}(?![a-z])" if w.isascii()
                          else re.escape(w)).search(low)
            if at is None:
                continue
            before = low[max(0, at.start() - 20):at.start()]
            if NEGATION_BEFORE_RE.search(before[-12:]) or \
                    ABSENCE_BEFORE_RE.search(before):
                continue
            value = VALUE_AFTER_RE.search(low[at.end():at.end() + 8])
            if value and value.group(1) in ("否", "no", "false"):
                continue  # "防水：否": the field read out as absent
            if not _claim_supported(name, owner, passages, wished):
                bad.append(f"unsupported claim {name!r} ({word.strip()})"
                           + (f" about {owner.item_id}" if owner else ""))
            break
    return bad


_VOCAB: dict[tuple[int, int, str], dict[str, set[str]]] = {}


def _vocabulary(products: Mapping[str, Product], category: str) -> dict[str, set[str]]:
    """Attribute key -> the text values the category's products use (cached per catalogue)."""
    key = (id(products), len(products), category)
    found = _VOCAB.get(key)
    if found is None:
        found = {}
        for p in products.values():
            if p.category == category:
                for k, v in p.attributes.items():
                    if isinstance(v, str) and len(v) >= 2:
                        found.setdefault(k, set()).add(v.lower())
        if len(_VOCAB) > 256:
            _VOCAB.clear()
        _VOCAB[key] = found
    return found


def _written(value: str, low: str) -> bool:
    """`value` occurs in `low` as a whole token ("38" is not in "1389元")."""
    head = r"(?<![0-9a-z.])" if value[:1].isalnum() and value[:1].isascii() else ""
    tail = r"(?![0-9a-z]|[.,]\d)" if value[-1:].isalnum() and value[-1:].isascii() else ""
    return compiled(head + re.escape(value) + tail).search(low) is not None


def _attribute_values(piece: str, owner: Product, products: Mapping[str, Product],
                      forms: set[str]) -> list[str]:
    """A value of the category's vocabulary for a key, written about an item whose own value
    for that key differs ("蓝色" about the black one)."""
    bad, low = [], piece.lower()
    for key, values in _vocabulary(products, owner.category).items():
        own = str(owner.attributes.get(key, "")).lower()
        for value in values:
            if value != own and _written(value, low) and value not in forms and \
                    value not in owner.title.lower() and not any(
                        value in v and v in low for v in values if v != value) and \
                    not (own and value in own):
                bad.append(f"{key} {value!r} written about {owner.item_id} (its {key}: "
                           f"{own or 'not listed'})")
    for key, flag_words in (("waterproof", ("防水", "waterproof")),
                            ("noise_cancelling", ("降噪", "noise cancelling"))):
        m = re.search(rf"(?:{'|'.join(flag_words)})[^:：\n]{{0,4}}[:：]\s*(是|yes|true)", low)
        if m and owner.attributes.get(key) is not True:
            bad.append(f"{key} 'yes' written about {owner.item_id}")
    return bad


@functools.lru_cache(maxsize=8)
def _brand_regex(brands: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern for every catalogue brand (lower case, longest first, whole words)."""
    names = sorted({b.lower() for b in brands if b}, key=len, reverse=True) or ["\0"]
    return re.compile(rf"(?<![a-z0-9])({'|'.join(map(re.escape, names))})(?![a-z0-9])")


@functools.lru_cache(maxsize=4096)
def _numbers(forms: frozenset[str]) -> frozenset[str]:
    return frozenset(n for f in forms for n in NUMBER_RE.findall(f))


def _values(piece: str, owner: Product, others: Iterable[Product], forms: set[str],
            brands: Iterable[str]) -> list[str]:
    bad = []
    low = piece.lower()
    mine = _numbers(frozenset(forms))
    for number in NUMBER_RE.findall(piece):
        if number not in mine:
            whose = [o.item_id for o in others if number in _numbers(frozenset(_forms(o)))]
            bad.append(f"number {number} is not {owner.item_id}'s" +
                       (f" (it is {whose[0]}'s)" if whose else ""))
    for brand in dict.fromkeys(_brand_regex(tuple(brands)).findall(low)):
        if brand != (owner.brand or "").lower() and brand not in owner.title.lower():
            bad.append(f"brand {brand} written about {owner.item_id} (brand {owner.brand})")
    for other in others:
        for key, value in other.attributes.items():
            own = owner.attributes.get(key)
            if isinstance(value, str) and len(value) >= 2 and _written(value.lower(), low) and \
                    str(own).lower() != value.lower() and value.lower() not in forms and \
                    value.lower() not in owner.title.lower():
                bad.append(f"{key} {value!r} of {other.item_id} written about {owner.item_id}")
    return bad


def bind_check(text: str, facts: Sequence[Fact], products: Mapping[str, Product],
               brands: Iterable[str], constraints: Mapping[str, Any] | None = None,
               knowledge: Callable[[str], str | None] | None = None) -> list[str]:
    """Problems of binding (see the module docstring); [] when every piece holds."""
    cited = [products[i] for i in dict.fromkeys(f.item_id for f in facts if f.item_id)
             if i in products]
    passages = [knowledge(f.field.removeprefix("knowledge.")) or "" for f in facts
                if f.field.startswith("knowledge.") and knowledge is not None]
    shared = {w.lower() for f in facts if f.item_id is None for w in written_forms(f)}
    for quote in passages:
        shared.add(quote.lower())
    brand_list = sorted({b for b in brands if b}, key=len, reverse=True)
    bad: list[str] = []
    forms_of = {p.item_id: _forms(p) | shared for p in cited}
    wished = frozenset(f.field.removeprefix("constraint.") for f in facts
                       if f.field.startswith("constraint."))
    affirmed = frozenset(f.field for f in facts if f.item_id and f.value is True)
    for group, piece in pieces(text, cited):
        if any(q and q.lower() in piece.lower() for q in passages):
            continue  # a quoted passage: checked as a knowledge fact
        if any(str(f.value) in piece for f in facts if f.field == "description" and
               group is not None and f.item_id in {p.item_id for p in group}):
            continue  # a quoted description sentence of this item
        if group is None:  # no subject: a flag some cited item has may be named
            bad += _claims(piece, None, passages, wished | affirmed)
            continue
        found = [_piece_problems(piece, owner, cited, products, forms_of[owner.item_id],
                                 brand_list, passages, wished) for owner in group]
        bad += min(found, key=len)  # repeated titles: the piece may be about any of them
    return bad


def _piece_problems(piece: str, owner: Product, cited: Sequence[Product],
                    products: Mapping[str, Product], forms: set[str], brands: Sequence[str],
                    passages: Sequence[str], wished: frozenset[str]) -> list[str]:
    others = [p for p in cited if p.item_id != owner.item_id]
    return (_claims(piece, owner, passages, wished) +
            _values(piece, owner, others, forms, brands) +
            _attribute_values(piece, owner, products, forms))
