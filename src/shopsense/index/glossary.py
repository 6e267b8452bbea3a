"""The catalogue's glossary: Chinese and English names of category paths, attribute names,
attribute values and brands, so a page can show every catalogue term in the shopper's language.

Sources, later ones filling only what earlier ones left open:

1. operator files (`<home>/glossary.json`, then the demo's `<home>/demo/glossary.json`):
   `{"categories": {zh path: en path}, "attributes": {key: {"zh", "en"}},
   "values": {zh: en}, "brands": {zh: en}}`; the demo's `categories.json` tree (`path_en`);
2. learned from the catalogue itself:
   - attribute names from descriptions that write `名称：值` / `name: value` for an attribute
     the listing has (the key whose value follows the label);
   - brands from bilingual titles `苹果(Apple) …` / `Apple 苹果 …`;
   - the English name of a leaf category from its English listings' titles: the title word
     most specific to the category (in at least half of its English titles, rare elsewhere).

The glossary is plain data (JSON-ready); the web pages receive it from `/web/glossary.json`.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shopsense.domain import Product

SEP = " > "
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_BRAND_PAREN = re.compile(r"^\s*([^\s()（）]+)\s*[(（]\s*([A-Za-z][A-Za-z0-9 .&'+-]*?)\s*[)）]")
_WORD = re.compile(r"[A-Za-z][A-Za-z-]{2,}")
MIN_LEAF_SHARE = 0.5  # a learned leaf name appears in at least half its English titles


@dataclass
class Glossary:
    categories: dict[str, str] = field(default_factory=dict)  # zh node path -> en path
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)  # key -> {zh, en}
    values: dict[str, str] = field(default_factory=dict)  # zh value -> en value
    brands: dict[str, str] = field(default_factory=dict)  # zh brand -> en brand

    def to_dict(self) -> dict[str, Any]:
        return {"categories": dict(self.categories), "attributes": dict(self.attributes),
                "values": dict(self.values), "brands": dict(self.brands)}

    def category_en(self, path: str) -> str:
        """The English path, node by node (a node without a name keeps its own)."""
        if path in self.categories:
            return self.categories[path]
        parts = path.split(SEP)
        out = []
        for i in range(len(parts)):
            known = self.categories.get(SEP.join(parts[: i + 1]))
            out.append(known.split(SEP)[-1] if known else parts[i])
        return SEP.join(out)

    def merge(self, other: Mapping[str, Any]) -> None:
        """Fill what is still open from a file's tables (earlier sources win)."""
        for name in ("categories", "values", "brands"):
            table = other.get(name) or {}
            if isinstance(table, Mapping):
                mine = getattr(self, name)
                for key, value in table.items():
                    if isinstance(value, str) and value.strip():
                        mine.setdefault(str(key), value.strip())
        for key, names in (other.get("attributes") or {}).items():
            if isinstance(names, Mapping):
                slot = self.attributes.setdefault(str(key), {})
                for lang in ("zh", "en"):
                    if isinstance(names.get(lang), str) and names[lang].strip():
                        slot.setdefault(lang, names[lang].strip())


def glossary_files(home: Path) -> list[Path]:
    """Where a home's glossary files are, in the order they count: the operator's, then the
    demo's glossary and category tree."""
    home = Path(home)
    return [home / "glossary.json", home / "demo" / "glossary.json",
            home / "demo" / "categories.json"]


def read_file(path: Path) -> dict[str, Any]:
    """An operator glossary or the demo's category tree; {} when missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    if isinstance(data.get("nodes"), dict):  # categories.json: {"nodes": {path: {path_en}}}
        return {"categories": {p: n.get("path_en") for p, n in data["nodes"].items()
                               if isinstance(n, dict) and n.get("path_en")}}
    return data


def attribute_names(products: Iterable[Product]) -> dict[str, dict[str, str]]:
    """key -> {"zh": label, "en": label}, from descriptions that label an attribute's value."""
    votes: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for product in products:
        text = product.description or ""
        if not text:
            continue
        lang = "zh" if CJK.search(text) else "en"
        for key, value in product.attributes.items():
            if isinstance(value, bool) or value in (None, ""):
                continue
            for m in re.finditer(r"([^，,。.;；:：]{1,12})[：:]\s*" + re.escape(str(value)), text):
                label = m.group(1).strip(" ，,、")
                if label and (lang == "zh") == bool(CJK.search(label)):
                    votes[(key, lang)][label] += 1
    out: dict[str, dict[str, str]] = {}
    for (key, lang), counter in votes.items():
        out.setdefault(key, {})[lang] = counter.most_common(1)[0][0]
    return out


def brand_names(products: Iterable[Product]) -> dict[str, str]:
    """zh brand -> en brand from titles that write both, `苹果(Apple) …`."""
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for product in products:
        m = _BRAND_PAREN.match(product.title or "")
        if m and CJK.search(m.group(1)) and (not product.brand or product.brand == m.group(1)):
            votes[m.group(1)][m.group(2).strip()] += 1
    return {zh: counter.most_common(1)[0][0] for zh, counter in votes.items()}


def _title_terms(title: str, skip: set[str]) -> dict[str, int]:
    """Lower-cased words of an English title and their adjacent pairs, minus `skip`, each with
    the position of its last word (the product noun ends an English noun phrase)."""
    words = [w.lower() for w in _WORD.findall(title)]
    out: dict[str, int] = {}
    for i, word in enumerate(words):
        if word not in skip:
            out.setdefault(word, i)
            if i and words[i - 1] not in skip:
                out.setdefault(f"{words[i - 1]} {word}", i)
    return out


def leaf_names(products: Iterable[Product], brands: Iterable[str] = ()) -> dict[str, str]:
    """zh leaf path -> English leaf name: the title term (word or word pair) most specific to
    the category; brands and words of attribute values ("Energy Class 1", "men") never name it.
    Ties go to the term later in the titles (the head noun), then alphabetically."""
    items = list(products)
    skip = {w.lower() for b in brands for w in _WORD.findall(b)}
    for product in items:
        for value in product.attributes.values():
            if isinstance(value, str):
                skip.update(w.lower() for w in _WORD.findall(value))
    docs: dict[str, list[dict[str, int]]] = defaultdict(list)
    for product in items:
        if product.category_path and not CJK.search(product.title or ""):
            docs[SEP.join(product.category_path)].append(_title_terms(product.title, skip))
    spread: Counter[str] = Counter()
    for titles in docs.values():
        spread.update(set().union(*titles))
    out: dict[str, str] = {}
    for path, titles in docs.items():
        counts: Counter[str] = Counter(w for terms in titles for w in terms)
        where: Counter[str] = Counter()
        for terms in titles:
            where.update(terms)
        best, key = "", (0.0, 0.0, "")
        for term, n in counts.items():
            share = n / len(titles)
            value = share * math.log(1 + len(docs) / spread[term]) * (1.1 if " " in term else 1)
            rank = (round(value, 9), where[term] / n, term)
            if share >= MIN_LEAF_SHARE and rank > key:
                best, key = term, rank
        if best and CJK.search(path.split(SEP)[-1]):
            out[path] = best[:1].upper() + best[1:]
    return out


def learn_glossary(products: Iterable[Product], files: Iterable[Path] = ()) -> Glossary:
    """Operator files first, then what the catalogue teaches (see the module docstring)."""
    items = list(products)
    glossary = Glossary()
    for path in files:
        glossary.merge(read_file(path))
    brands = brand_names(items)
    glossary.merge({"brands": brands, "attributes": attribute_names(items)})
    leaves = leaf_names(items, brands=[*brands.values(), *(p.brand or "" for p in items)])
    for path, leaf in leaves.items():
        if path not in glossary.categories:
            parent = SEP.join(path.split(SEP)[:-1])
            prefix = glossary.category_en(parent) + SEP if parent else ""
            glossary.categories[path] = prefix + leaf
    for product in items:  # inner nodes of every listed path, named node by node
        for i in range(1, len(product.category_path) + 1):
            node = SEP.join(product.category_path[:i])
            if node not in glossary.categories:
                named = glossary.category_en(node)
                if named != node:
                    glossary.categories[node] = named
    return glossary



_HOMES: dict[str, tuple[tuple[int, tuple[int, ...]], Glossary]] = {}
_HOMES_LOCK = threading.Lock()


def catalogue_glossary(products: Mapping[str, Product], home: Path) -> Glossary:
    """`learn_glossary` of a home's catalogue and glossary files, kept until the catalogue's
    size or a file changes (the pages' /web/glossary.json and the assistant's replies)."""
    files = glossary_files(home)
    stamp = (len(products), tuple(f.stat().st_mtime_ns if f.is_file() else 0 for f in files))
    with _HOMES_LOCK:
        cached = _HOMES.get(str(home))
    if cached is None or cached[0] != stamp:
        cached = (stamp, learn_glossary(list(products.values()), files))
        with _HOMES_LOCK:
            _HOMES[str(home)] = cached
    return cached[1]

__all__ = [
    "Glossary",
    "attribute_names",
    "brand_names",
    "catalogue_glossary",
    "glossary_files",
    "leaf_names",
    "learn_glossary",
    "read_file",
]
