"""Brand groups learned from a catalogue: every `brand` value of one brand, zh + en.

Answers: which catalogue `brand` values name the same brand (格力 = Gree), how a query may
write it (the bracketed tag of a Chinese title, `格力(GREE)`), which product lines only it
sells (iPhone, MacBook) and which categories it sells in. Brands left unlinked after the tags
are paired by the similarity of their category mix plus, with an encoder, of their names.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from shopsense.domain import Product
from shopsense.text.understand.lexicon import (
    Encode,
    Group,
    _cosine,
    _name_similarity,
    _pair_up,
    _shares,
    _UnionFind,
    has_han,
    key_of,
)

_TAG = re.compile(r"^\s*(?:【[^】]*】)?\s*(?P<brand>[^(（]+?)\s*[(（](?P<tag>[^)）]+)[)）]")


def learn_brands(products: Sequence[Product], encode: Encode | None = None) -> list[Group]:
    """Brand groups: every `brand` value of one brand, its query surfaces and category mix."""
    counts: Counter[str] = Counter()
    cats: dict[str, Counter[str]] = defaultdict(Counter)
    langs: dict[str, set[str]] = defaultdict(set)
    tags: dict[str, Counter[str]] = defaultdict(Counter)
    for p in products:
        if not p.brand:
            continue
        counts[p.brand] += 1
        cats[p.brand][p.category] += 1
        langs[p.brand].add("zh" if has_han(p.title) else "en")
        match = _TAG.match(p.title)
        if match and key_of(match.group("brand")) == key_of(p.brand):
            tags[p.brand][match.group("tag").strip()] += 1
    union = _UnionFind(counts)
    by_key: dict[str, str] = {}
    for value in counts:
        other = by_key.setdefault(key_of(value), value)
        union.union(value, other)
    for value, tag_counts in tags.items():
        for tag, n in tag_counts.items():
            if n >= max(2, 0.2 * sum(tag_counts.values())) and key_of(tag) in by_key:
                union.union(value, by_key[key_of(tag)])
    _pair_by_context(union, counts, cats, langs, encode)
    groups = []
    for members in union.groups():
        members.sort(key=lambda v: (not has_han(v), -counts[v]))
        surfaces = list(members)
        for value in members:
            surfaces += [t for t, n in tags[value].items()
                         if n >= 2 and (len(key_of(t)) >= 3 or has_han(t))]
        merged: Counter[str] = Counter()
        for value in members:
            merged.update(cats[value])
        groups.append(Group("brand", "", tuple(members), tuple(dict.fromkeys(surfaces)),
                            _shares(merged), sum(counts[v] for v in members)))
    _learn_lines(products, groups)
    return groups


_LINE = re.compile(r"(?<![A-Za-z])([a-z]+[A-Z][A-Za-z]*|[A-Z][a-z]+[A-Z][A-Za-z]*)(?![A-Za-z])")


def _learn_lines(products: Sequence[Product], groups: list[Group]) -> None:
    """Camel-case product lines (iPhone, MacBook, ThinkPad) found only in one brand's titles;
    text that is an attribute value (a case that "fits iPhone 15") does not count."""
    owner = {value: i for i, g in enumerate(groups) for value in g.values}
    seen: dict[str, Counter[int]] = defaultdict(Counter)
    for p in products:
        if p.brand not in owner:
            continue
        title = p.title
        for value in p.attributes.values():
            if isinstance(value, str) and value:
                title = title.replace(value, " ")
        for word in set(_LINE.findall(title)):
            seen[word.lower()][owner[p.brand]] += 1
    surfaces = {key_of(s) for g in groups for s in g.surfaces}
    lines: dict[int, list[str]] = defaultdict(list)
    for word, by_group in seen.items():
        group, n = by_group.most_common(1)[0]
        if n >= 3 and n / sum(by_group.values()) >= 0.95 and key_of(word) not in surfaces:
            lines[group].append(word)
    for i, words in lines.items():
        groups[i].lines = tuple(sorted(words))


def _pair_by_context(union: _UnionFind, counts: Counter[str], cats: dict[str, Counter[str]],
                     langs: dict[str, set[str]], encode: Encode | None) -> None:
    """Pair zh-only with en-only brands left unlinked: category mix (+ name similarity)."""
    members: dict[Any, list[str]] = defaultdict(list)
    for value in counts:
        members[union.find(value)].append(value)
    group_langs = {root: set().union(*(langs[v] for v in vs)) for root, vs in members.items()}
    zh_only = [r for r, ls in group_langs.items() if ls == {"zh"}]
    en_only = [r for r, ls in group_langs.items() if ls == {"en"}]
    mix = {r: sum((cats[v] for v in members[r]), Counter()) for r in zh_only + en_only}
    vectors = _name_similarity(encode, [members[r][0] for r in zh_only + en_only])

    def score(a: Any, b: Any) -> float:
        context = _cosine(mix[a], mix[b])
        if not vectors:
            return context
        name = float(vectors[members[a][0]] @ vectors[members[b][0]])
        return 0.6 * context + 0.4 * name

    threshold = 0.6 if vectors else 0.9
    for a, b in _pair_up(zh_only, en_only, score, threshold):
        if _cosine(mix[a], mix[b]) >= 0.5:
            union.union(a, b)
