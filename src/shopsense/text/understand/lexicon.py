"""Attribute lexicons learned from a catalogue (zh + en), and the shared `Group` record.

Answers: which attribute values mean the same thing (红色 = red, 1.5匹 = 1.5 HP), which yes/no
attributes matter (waterproof / 防水), and which words in a query name them. Links come from
the shop's own data: numbers shared by two values of one attribute and, when an encoder is
given, name similarity among values used in the same categories. Brands: see `brands.py`.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shopsense.domain import Product
from shopsense.text.understand.gazetteer import compact
from shopsense.text.understand.numerals import find_numbers

Encode = Callable[[Sequence[str]], np.ndarray]  # texts -> (n, d) unit vectors
_HAN = re.compile(r"[\u4e00-\u9fff]")
MAX_VALUES_PER_KEY = 80  # more distinct values than this: an identifier (model), not a facet


def has_han(text: str) -> bool:
    return bool(_HAN.search(text))


def key_of(text: str) -> str:
    return compact(text)[0]


@dataclass(slots=True)
class Group:
    """One brand or one attribute value, in every catalogue spelling, and where it occurs."""

    kind: str  # brand | attribute
    key: str  # attribute key ("" for brands)
    values: tuple[Any, ...]  # catalogue values (brand field values / attribute values)
    surfaces: tuple[str, ...]  # how a query may write it
    categories: dict[str, float] = field(default_factory=dict)  # leaf path -> share
    count: int = 0
    weak: bool = False  # needs a cue word ("M码", "size 42") before it counts
    lines: tuple[str, ...] = ()  # product lines only this brand sells (iPhone, MacBook)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "key": self.key, "values": list(self.values),
                "surfaces": list(self.surfaces), "categories": self.categories,
                "count": self.count, "weak": self.weak, "lines": list(self.lines)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Group:
        return cls(data["kind"], data["key"], tuple(data["values"]), tuple(data["surfaces"]),
                   dict(data["categories"]), int(data["count"]), bool(data["weak"]),
                   tuple(data.get("lines", ())))


class _UnionFind:
    def __init__(self, items: Iterable[Any]) -> None:
        self.parent = {item: item for item in items}

    def find(self, item: Any) -> Any:
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def union(self, a: Any, b: Any) -> None:
        self.parent[self.find(a)] = self.find(b)

    def groups(self) -> list[list[Any]]:
        out: dict[Any, list[Any]] = defaultdict(list)
        for item in self.parent:
            out[self.find(item)].append(item)
        return list(out.values())


def _shares(counter: Counter[str]) -> dict[str, float]:
    total = sum(counter.values()) or 1
    return {k: round(v / total, 4) for k, v in counter.most_common()}


def _cosine(a: Counter[str], b: Counter[str]) -> float:
    dot = sum(a[k] * b.get(k, 0) for k in a)
    norm = (sum(v * v for v in a.values()) * sum(v * v for v in b.values())) ** 0.5
    return dot / norm if norm else 0.0


def _pair_up(left: list[Any], right: list[Any], score: Callable[[Any, Any], float],
             threshold: float) -> list[tuple[Any, Any]]:
    """Mutual-best pairs between `left` and `right` whose score clears `threshold`."""
    if not left or not right:
        return []
    table = np.array([[score(a, b) for b in right] for a in left])
    pairs = []
    for i, a in enumerate(left):
        j = int(table[i].argmax())
        if table[i, j] >= threshold and int(table[:, j].argmax()) == i:
            pairs.append((a, right[j]))
    return pairs


def _name_similarity(encode: Encode | None, names: Sequence[str]) -> dict[str, np.ndarray]:
    if encode is None or not names:
        return {}
    vectors = encode(list(names))
    return {name: vectors[i] for i, name in enumerate(names)}


def _signature(value: str) -> tuple[float, ...]:
    """The numbers a value carries, sorted: "1.5匹" and "1.5 HP" -> (1.5,)."""
    return tuple(sorted(n.value for n in find_numbers(value)))


def _surfaces(value: Any) -> list[str]:
    text = str(value)
    out = [text]
    if has_han(text):
        if text.endswith("色") and len(text) >= 3:
            out.append(text[:-1])
        if "英寸" in text:
            out.append(text.replace("英寸", "寸"))
        if re.search(r"\dm(?![a-z])", text):
            out.append(re.sub(r"(\d)m(?![a-z])", r"\1米", text))
    elif text.isalpha() and len(text) >= 3 and not text.endswith("s"):
        out.append(text + "s")
    return out


def _is_weak(value: Any) -> bool:
    text = str(value)
    return text.isdigit() or (len(text) == 1 and text.isascii())


def learn_attributes(products: Sequence[Product], encode: Encode | None = None,
                     ) -> tuple[list[Group], dict[str, str]]:
    """(attribute groups, model number -> attribute key) learned from `products`."""
    counts: dict[str, Counter[Any]] = defaultdict(Counter)
    cats: dict[tuple[str, Any], Counter[str]] = defaultdict(Counter)
    langs: dict[tuple[str, Any], set[str]] = defaultdict(set)
    flags: dict[str, dict[str, Counter[bool]]] = defaultdict(lambda: defaultdict(Counter))
    for p in products:
        lang = "zh" if has_han(p.title) else "en"
        for key, value in p.attributes.items():
            if isinstance(value, bool):
                flags[key][p.category][value] += 1
            elif isinstance(value, (str, int, float)) and str(value).strip():
                counts[key][value] += 1
                cats[(key, value)][p.category] += 1
                langs[(key, value)].add(lang)
    groups: list[Group] = []
    models: dict[str, str] = {}
    for key, values in counts.items():
        if len(values) > MAX_VALUES_PER_KEY:
            models.update({str(v): key for v in values})
            continue
        groups += _value_groups(key, values, cats, langs, encode)
    groups += _flag_groups(products, flags)
    return groups, models


def _link_by_numbers(union: _UnionFind, zh: list[Any], other: list[Any]) -> None:
    by_sig: dict[tuple[float, ...], tuple[list[Any], list[Any]]] = defaultdict(lambda: ([], []))
    for side, values in enumerate((zh, other)):
        for v in values:
            sig = _signature(str(v))
            if sig:
                by_sig[sig][side].append(v)
    for left, right in by_sig.values():
        if len(left) == 1 and len(right) == 1:
            union.union(left[0], right[0])


def _value_groups(key: str, values: Counter[Any], cats: dict[tuple[str, Any], Counter[str]],
                  langs: dict[tuple[str, Any], set[str]], encode: Encode | None) -> list[Group]:
    """Group one attribute's values across languages, category by category.

    Inside one category the zh and en value lists are short and parallel, so values are linked
    by shared numbers, then by mutual best name similarity + similar prevalence, and a last
    unlinked pair is linked by elimination. Links made in different categories merge
    ("red" = 红色 among dresses and = 正红色 among lipsticks).
    """
    union = _UnionFind(values)
    one_language = [v for v in values if len(langs[(key, v)]) == 1 and not _is_weak(v)]
    vectors = _name_similarity(encode, [str(v) for v in one_language])
    _link_globally(union, key, values, cats, langs, vectors)
    segments = _unique_segments([v for v in values if has_han(str(v))])
    for category in sorted({c for v in values for c in cats[(key, v)]}):
        zh = [v for v in one_language if "zh" in langs[(key, v)] and cats[(key, v)][category]]
        en = [v for v in one_language if "en" in langs[(key, v)] and cats[(key, v)][category]]
        _link_in_category(union, zh, en, vectors)
    groups = []
    for members in union.groups():
        members.sort(key=lambda v: (not has_han(str(v)), -values[v]))
        merged: Counter[str] = Counter()
        for v in members:
            merged.update(cats[(key, v)])
        surfaces = [s for v in members for s in _surfaces(v)]
        surfaces += [w for v in members for w in segments.get(v, ())]
        groups.append(Group("attribute", key, tuple(members), tuple(dict.fromkeys(surfaces)),
                            _shares(merged), sum(values[v] for v in members),
                            weak=all(_is_weak(v) for v in members)))
    return groups


def _unique_segments(values: list[Any]) -> dict[Any, list[str]]:
    """Chinese tails of >= 3 characters found in exactly one value of a key: "对开门" of
    "十字对开门", "一级能效" of "新一级能效" (Chinese compounds put the head last)."""
    words = {v: {str(v)[i:] for i in range(1, len(str(v)) - 2)}
             for v in values if all(has_han(ch) for ch in str(v))}
    counts = Counter(w for ws in words.values() for w in ws)
    return {v: sorted(w for w in ws if counts[w] == 1) for v, ws in words.items()}


def _link_globally(union: _UnionFind, key: str, values: Counter[Any],
                   cats: dict[tuple[str, Any], Counter[str]], langs: dict[tuple[str, Any], set[str]],
                   vectors: dict[str, np.ndarray]) -> None:
    """Numbers shared by exactly one zh and one en value; then mutual-best names among values
    used in the same categories."""
    zh = [v for v in values if langs[(key, v)] == {"zh"} and not _is_weak(v)]
    other = [v for v in values if langs[(key, v)] == {"en"} and not _is_weak(v)]
    _link_by_numbers(union, zh, other)
    sizes = Counter(union.find(v) for v in values)
    left = [v for v in zh if sizes[union.find(v)] == 1]
    right = [v for v in other if sizes[union.find(v)] == 1]

    def score(a: Any, b: Any) -> float:
        context = _cosine(cats[(key, a)], cats[(key, b)])
        if not vectors or context < 0.3:
            return 0.0
        return 0.5 * float(vectors[str(a)] @ vectors[str(b)]) + 0.5 * context

    for a, b in _pair_up(left, right, score, 0.6):
        union.union(a, b)


def _link_in_category(union: _UnionFind, zh: list[Any], en: list[Any],
                      vectors: dict[str, np.ndarray]) -> None:
    """Link one category's zh values to its en values: numbers first, then confident names
    (similarity >= 0.7 and clearly ahead of the runner-up), then a last 1-to-1 leftover."""
    if not zh or not en or not vectors:
        return

    def open_side(side: list[Any], other: list[Any]) -> list[Any]:
        return [v for v in side if not any(union.find(v) == union.find(o) for o in other)]

    def sim(a: Any, b: Any) -> float:
        return float(vectors[str(a)] @ vectors[str(b)])

    left, right = open_side(zh, en), open_side(en, zh)
    ranked = sorted(((sim(a, b), i, j) for i, a in enumerate(left) for j, b in enumerate(right)),
                    reverse=True)
    used_left, used_right = set(), set()
    for score, i, j in ranked:
        if score < 0.7:
            break
        if i in used_left or j in used_right:
            continue
        rivals = [sim(left[i], b) for k, b in enumerate(right) if k != j and k not in used_right]
        rivals += [sim(a, right[j]) for k, a in enumerate(left) if k != i and k not in used_left]
        if rivals and max(rivals) > score - 0.05:
            continue  # a near tie (麂皮 / 真皮 vs leather): leave it unlinked
        union.union(left[i], right[j])
        used_left.add(i)
        used_right.add(j)


def _flag_groups(products: Sequence[Product], flags: dict[str, dict[str, Counter[bool]]],
                 ) -> list[Group]:
    """Yes/no attributes that vary inside a category (waterproof), with their title words."""
    groups = []
    for key, per_cat in flags.items():
        varying = {c: n for c, n in per_cat.items() if 0.03 <= n[True] / sum(n.values()) <= 0.97}
        if not varying:
            continue
        words = [key.replace("_", " "), *_flag_words(products, key, set(varying))]
        shares = _shares(Counter({c: n[True] for c, n in varying.items()}))
        groups.append(Group("attribute", key, (True,), tuple(dict.fromkeys(words)), shares,
                            sum(n[True] for n in varying.values())))
    return groups


def _flag_words(products: Sequence[Product], key: str, categories: set[str]) -> list[str]:
    """Chinese title words that appear (almost) only when the flag is true: 防水, 主动降噪."""
    import rjieba

    with_flag: Counter[str] = Counter()
    without: Counter[str] = Counter()
    n_true = 0
    for p in products:
        if p.category not in categories or key not in p.attributes or not has_han(p.title):
            continue
        tokens = [w for w in rjieba.cut(p.title) if has_han(w)]
        words = {w for w in tokens if len(w) >= 2}
        words |= {a + b for a, b in itertools.pairwise(tokens)}
        if p.attributes[key] is True:
            with_flag.update(words)
            n_true += 1
        else:
            without.update(words)
    ranked = sorted(with_flag.items(), key=lambda item: (-item[1], -len(item[0])))[:20]
    return [w for w, n in ranked
            if n >= max(3, 0.3 * n_true) and n / (n + without[w]) >= 0.95][:3]
