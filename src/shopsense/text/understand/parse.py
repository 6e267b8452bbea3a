"""One query through the learned lexicons: matches, negation scopes, category, slots.

Answers: given a fitted `QueryUnderstander`, which parts of a query are brands, attributes,
product words, model numbers, prices and exclusions, and which category they add up to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shopsense.domain import QueryReading, Slot
from shopsense.text.understand.gazetteer import Entry, Match
from shopsense.text.understand.lexicon import Group, has_han
from shopsense.text.understand.negation import inside, live_cues, overlaps, scopes
from shopsense.text.understand.rules import (
    Cue,
    detect_language,
    intent_cue,
    strip_filler,
)

if TYPE_CHECKING:
    from shopsense.text.understand.understander import QueryUnderstander

_MODEL_RE = re.compile(r"(?<![A-Za-z0-9])(?=[A-Za-z0-9/-]*\d)(?=[A-Za-z0-9/-]*[A-Za-z])"
                       r"[A-Za-z0-9]+(?:[-/][A-Za-z0-9]+)*(?![A-Za-z0-9])")
_SIZE_CUE = re.compile(r"(size|尺码|码数|号码|pieces|pcs|颗粒)\s*$|^\s*(码|号|颗|pcs|pieces)",
                       re.IGNORECASE)


@dataclass(slots=True)
class Parsed:
    query: str
    language: str = "en"
    intent: Slot | None = None
    category: Slot | None = None
    brands: list[Slot] = field(default_factory=list)
    models: list[Slot] = field(default_factory=list)
    price_min: Slot | None = None
    price_max: Slot | None = None
    value_preference: Slot | None = None
    attributes: list[Slot] = field(default_factory=list)
    exclusions: list[Slot] = field(default_factory=list)
    terms: list[Slot] = field(default_factory=list)
    residual: str = ""

    def reading(self) -> QueryReading:
        return QueryReading(
            query=self.query, language=self.language, intent=self.intent,
            category=self.category, brands=tuple(self.brands), model_numbers=tuple(self.models),
            price_min=self.price_min, price_max=self.price_max,
            value_preference=self.value_preference, attributes=tuple(self.attributes),
            exclusions=tuple(self.exclusions), product_terms=tuple(self.terms),
            residual=self.residual)


def _slot(value: Any, confidence: float, query: str, start: int, end: int) -> Slot:
    return Slot(value, round(confidence, 4), (start, end), query[start:end])


def _with_text(slot: Slot | None, query: str) -> Slot | None:
    if slot is None or slot.span is None:
        return slot
    start, end = slot.span
    while end > start and query[end - 1].isspace():
        end -= 1
    return Slot(slot.value, slot.confidence, (start, end), query[start:end])


def _fits(group: Group, category: str | None) -> bool:
    if category is None:
        return True
    return any(path == category or path.startswith(category + " > ")
               or category.startswith(path + " > ") for path in group.categories)


def _choose(groups: list[Group], category: str | None) -> Group | None:
    fitting = [g for g in groups if _fits(g, category)]
    if not fitting:
        return None
    return max(fitting, key=lambda g: g.count)


def parse_query(u: QueryUnderstander, query: str) -> Parsed:
    out = Parsed(query=query, language=detect_language(query, set(u.neutral_words_)))
    price = u.price_parser_.parse(query)
    out.price_min, out.price_max, out.value_preference = (
        _with_text(s, query) for s in (price.price_min, price.price_max, price.value_preference))
    matches = u.gazetteer_.find(query, blocked=price.spans)
    matches = _add_tagger(u, query, matches)
    matches = _add_misspelt_brands(u, query, matches, price.spans)
    cues = live_cues(query, matches, price.spans)
    negated, negated_words = scopes(query, cues, matches)
    used: list[tuple[int, int]] = list(price.spans)
    for cue in {c for c in negated.values()} | {w[0] for w in negated_words}:
        used.append((cue.start, cue.end))
    used += [(matches[i].start, matches[i].end) for i in negated]
    used += [(s, e) for _, s, e in negated_words]
    synonyms: list[tuple[int, int, int, float]] = []
    category = _category(u, query, matches, negated, used, out, synonyms)
    path = category[0] if category else None
    for i, match in enumerate(matches):
        _read_match(u, query, match, path, i in negated, out)
    for start, end, index, similarity in synonyms:
        group = u.attributes_[index]
        value = (group.key, group.values)
        if _fits(group, path) and all(s.value != value for s in out.attributes):
            out.attributes.append(_slot(value, 0.6 * similarity, query, start, end))
    for cue, start, end in negated_words:
        out.exclusions.append(_slot(("term", query[start:end]), 0.7, query, cue.start, end))
    _models(query, matches, used, out)
    out.intent = _intent(query, out)
    out.residual = _residual(query, used)
    return out


def _add_tagger(u: QueryUnderstander, query: str, matches: list[Match]) -> list[Match]:
    """Tagger product-word spans that no lexicon phrase covers become product words."""
    if u.tagger_ is None or not has_han(query):
        return matches
    spans = [(m.start, m.end) for m in matches]
    extra = []
    for (kind, start, end), confidence in u.tagger_.predict(query):
        if kind == "HCCX" and not overlaps(start, end, spans) and confidence >= 0.5:
            entry = Entry("tagger_term", round(confidence, 4))
            extra.append(Match(start, end, query[start:end], (entry,)))
    return sorted(matches + extra, key=lambda m: m.start)


_LATIN_TOKEN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{5,}(?![A-Za-z0-9])")


def _add_misspelt_brands(u: QueryUnderstander, query: str, matches: list[Match],
                         blocked: list[tuple[int, int]]) -> list[Match]:
    """English words of 5+ letters that are no word of a learned product word, attribute or
    brand and are one slip (a letter dropped, added, changed or two swapped, the first letter
    kept) from exactly one brand name of 5+ letters read as that brand (samsnug, xioami,
    sennheisr; not hair -> Haier). Not the category model's vocabulary as the test of
    "unknown": it holds the logged queries, typos included."""
    names = getattr(u, "brand_words_", None)
    if not names:
        return matches
    from shopsense.text.spell import damerau

    taken = [(m.start, m.end) for m in matches] + list(blocked)
    extra = []
    for m in _LATIN_TOKEN.finditer(query):
        word = m.group().lower()
        if len(word) < 5 or overlaps(m.start(), m.end(), taken) or word in u.lexicon_words_:
            continue
        near = {i for name, i in names.items() if abs(len(name) - len(word)) <= 1
                and name[0] == word[0] and damerau(word, name, 2) <= 1}
        if len(near) == 1:
            entry = Entry("brand", near.pop(), priority=2)
            extra.append(Match(m.start(), m.end(), m.group(), (entry,)))
    return sorted(matches + extra, key=lambda m: m.start) if extra else matches


def _category(u: QueryUnderstander, query: str, matches: list[Match], negated: dict[int, Cue],
              used: list[tuple[int, int]], out: Parsed,
              synonyms: list[tuple[int, int, int, float]]) -> tuple[str, float] | None:
    """Classifier probabilities, pulled towards what the matched phrases point at: product
    words first (the category's own name counts most); else brands and attributes, whose
    category mixes multiply ("华为" x "256GB" -> phones); meaning (encoder) for unknown words.
    Unknown fragments close to an attribute value are appended to `synonyms`."""
    text = "".join(" " if inside(i, i + 1, used) else ch for i, ch in enumerate(query))
    leaf = u.category_probabilities(text)
    live = [m for i, m in enumerate(matches) if i not in negated]
    terms = [(e.payload, m) for m in live for e in m.entries if e.kind == "term"]
    meaning = _encode_unknown(u, query, text, live, used, synonyms)
    if terms and leaf:
        leaf = _blend(leaf, _term_evidence(u, terms), 0.7)
    elif leaf:
        mixes = [mix for m in live for e in m.entries if (mix := _group_mix(u, e))]
        if mixes:
            leaf = _blend(leaf, _product(mixes), 0.5)
        if meaning:
            leaf = _blend(leaf, meaning, 0.5 if mixes else 0.85)
        elif not mixes:
            leaf = {}
    pick = u.pick_category(leaf) if leaf else None
    if pick is not None and not terms and any(
            e.kind == "tagger_term" for m in live for e in m.entries):
        pick = (pick[0], pick[1] * 0.45)  # asks for a product word the shop never uses: a hint
    if pick is not None:
        spans = [(m.start, m.end) for _, m in terms]
        start, end = (spans[0][0], spans[-1][1]) if spans else (0, len(query))
        out.category = _slot(pick[0], pick[1], query, start, end)
    return pick


_FUNCTION_WORDS = frozenset(
    "for with the and or of to in on from size me my some any is are what which that this it "
    "you very more less than good best new nice please show want need get".split())
_FRAGMENT = re.compile(r"[\u4e00-\u9fffA-Za-z0-9][\u4e00-\u9fffA-Za-z0-9 '-]*[\u4e00-\u9fffA-Za-z]|"
                       r"[\u4e00-\u9fff]{2,}")


def _encode_unknown(u: QueryUnderstander, query: str, text: str, live: list[Match],
                    used: list[tuple[int, int]], synonyms: list[tuple[int, int, int, float]],
                    ) -> dict[str, float]:
    """One encoder call for queries with a word the catalogue never uses: category by meaning,
    and unmatched fragments read as their nearest attribute value (全棉 -> 纯棉)."""
    if u.centroids_ is None:
        return {}
    covered = used + [(m.start, m.end) for m in live]
    cue = intent_cue(query)[2]  # 哪个好 / 怎么退货 / return policy: intent words, understood
    if cue is not None:
        covered.append(cue)
    masked = "".join(" " if inside(i, i + 1, covered) else ch for i, ch in enumerate(query))
    fragments = [(m.start(), m.end()) for m in _FRAGMENT.finditer(masked)
                 if strip_filler(m.group()).strip() and len(m.group().strip()) >= 2]
    if not any(_has_unknown_word(u, query[a:b]) for a, b in fragments):
        return {}
    from shopsense.text.understand.encoder import load_encoder

    encode = load_encoder(u.encoder)
    if encode is None:
        return {}
    vectors = encode([strip_filler(text)] + [query[a:b] for a, b in fragments])
    if u.surface_vectors_ is not None:
        for (start, end), vector in zip(fragments, vectors[1:], strict=True):
            hit = u.surface_vectors_.nearest(vector)
            if hit is not None:
                synonyms.append((start, end, hit[0], hit[1]))
    return u.centroids_.probabilities(vectors[0])


def _blend(base: dict[str, float], evidence: dict[str, float], weight: float) -> dict[str, float]:
    keys = set(base) | set(evidence)
    return {c: (1 - weight) * base.get(c, 0.0) + weight * evidence.get(c, 0.0) for c in keys}


def _term_evidence(u: QueryUnderstander, terms: list[tuple[str, Match]]) -> dict[str, float]:
    """Weighted mean of the product words' category shares; a category's own name weighs 3x."""
    total: dict[str, float] = {}
    weight_sum = 0.0
    for phrase, match in terms:
        shares = u.term_shares(phrase)
        own = phrase in u.node_words_ or any(c.rsplit(">", 1)[-1].strip() == phrase
                                             for c in shares)
        weight = len(match.surface) * (3.0 if own else 1.0) * max(shares.values())
        weight_sum += weight
        for c, share in shares.items():
            total[c] = total.get(c, 0.0) + weight * share
    return {c: v / weight_sum for c, v in total.items()} if weight_sum else {}


def _group_mix(u: QueryUnderstander, entry: Any) -> dict[str, float]:
    if entry.kind in ("brand", "brand_line"):
        return u.brands_[entry.payload].categories
    if entry.kind == "attribute":
        return u.attributes_[entry.payload].categories
    return {}


def _product(mixes: list[dict[str, float]]) -> dict[str, float]:
    """Normalised product of category mixes (with a floor, so one miss is not fatal)."""
    keys = set().union(*mixes)
    scores = {c: 1.0 for c in keys}
    for mix in mixes:
        for c in keys:
            scores[c] *= mix.get(c, 0.0) + 0.02
    total = sum(scores.values())
    return {c: v / total for c, v in scores.items()}


def _has_unknown_word(u: QueryUnderstander, text: str) -> bool:
    """A content word (English, or a rjieba word) the category model has never seen."""
    if u.classifier_ is None:
        return False
    vocabulary = u.classifier_.vocabulary_
    content = strip_filler(text)
    for word in re.findall(r"[A-Za-z]{3,}", content):
        if word.lower() not in _FUNCTION_WORDS and "w:" + word.lower() not in vocabulary:
            return True
    import rjieba

    for word in rjieba.cut(content):
        if len(word) >= 2 and has_han(word) and any(
                word[i:i + 2] not in vocabulary for i in range(len(word) - 1)):
            return True
    return False


def _read_match(u: QueryUnderstander, query: str, match: Match, category: str | None,
                is_negated: bool, out: Parsed) -> None:
    kinds = {e.kind: e for e in match.entries}
    start, end = match.start, match.end
    if "brand" in kinds or "brand_line" in kinds:
        entry = kinds.get("brand") or kinds["brand_line"]
        group = u.brands_[entry.payload]
        slot_value: tuple[str, Any] = ("brand", group.values)
        confidence = 0.95 if entry.kind == "brand" and len(match.surface) > 1 else 0.8
        if match.surface.isascii() and match.surface.lower() not in {
                str(s).lower() for s in group.surfaces}:
            confidence = 0.8  # a misspelt name (`_add_misspelt_brands`)
        if is_negated:
            out.exclusions.append(_slot(slot_value, confidence, query, start, end))
        elif all(s.value != group.values for s in out.brands):
            out.brands.append(_slot(group.values, confidence, query, start, end))
        if entry.kind == "brand_line" and "term" in kinds:
            _read_term(u, query, match, kinds, is_negated, out)
        return
    groups = [u.attributes_[e.payload] for e in match.entries if e.kind == "attribute"]
    weak = [u.attributes_[e.payload] for e in match.entries if e.kind == "weak_attribute"]
    if (weak and _SIZE_CUE.search(query[max(0, start - 6):start])) or \
            (weak and _SIZE_CUE.search(query[end:end + 3])):
        groups += weak
    group = _choose(groups, category)
    if group is not None:
        value = (group.key, group.values)
        confidence = 0.9 if category is not None else 0.7
        if is_negated:
            out.exclusions.append(_slot(("attribute", value), confidence, query, start, end))
        elif all(s.value != value for s in out.attributes):
            out.attributes.append(_slot(value, confidence, query, start, end))
        return
    _read_term(u, query, match, kinds, is_negated, out)


def _read_term(u: QueryUnderstander, query: str, match: Match, kinds: dict[str, Any],
               is_negated: bool, out: Parsed) -> None:
    start, end = match.start, match.end
    if "term" in kinds:
        shares = u.term_shares(kinds["term"].payload)
        top = max(shares, key=lambda c: shares[c])
        if is_negated:
            value = ("category", top) if shares[top] >= 0.9 else ("term", match.surface)
            out.exclusions.append(_slot(value, shares[top] * 0.9, query, start, end))
        else:
            out.terms.append(_slot(match.surface, shares[top], query, start, end))
    elif "tagger_term" in kinds:
        if is_negated:
            out.exclusions.append(_slot(("term", match.surface), 0.6, query, start, end))
        else:
            out.terms.append(_slot(match.surface, kinds["tagger_term"].payload * 0.8, query,
                                   start, end))
    elif "model" in kinds and not is_negated:
        out.models.append(_slot(match.surface, 0.95, query, start, end))


def _models(query: str, matches: list[Match], used: list[tuple[int, int]], out: Parsed) -> None:
    """Model numbers the catalogue does not list: letters + digits, not a unit value."""
    known = [(m.start, m.end) for m in matches] + used
    for m in _MODEL_RE.finditer(query):
        token = m.group()
        if len(token) < 4 or overlaps(m.start(), m.end(), known):
            continue
        if re.fullmatch(r"\d+(?:\.\d+)?[A-Za-z]{1,3}", token):  # 256GB, 120Hz, 5G: units
            continue
        out.models.append(_slot(token, 0.7, query, m.start(), m.end()))


def _intent(query: str, out: Parsed) -> Slot:
    intent, confidence, span = intent_cue(query)
    if intent == "browse" and span is None and (out.brands or out.models) and not (
            out.terms or out.attributes or out.price_min or out.price_max or (out.category
            and not out.brands and not out.models)):
        intent, confidence = "navigational", 0.75
        first = (out.brands or out.models)[0]
        span = first.span
    if span is None:
        return Slot(intent, confidence, None, "")
    return _slot(intent, confidence, query, span[0], span[1])


def _residual(query: str, used: list[tuple[int, int]]) -> str:
    kept = "".join(" " if inside(i, i + 1, used) else ch for i, ch in enumerate(query))
    return strip_filler(kept)
