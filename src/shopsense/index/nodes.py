"""Category nodes above the leaves, by name in both languages: a query word that names one (鞋
of 鞋靴, shoes of "Shoes & Boots") asks for the whole node, so a search must not narrow it to
the one leaf whose titles happen to write the word (index/sells.py `read_type_words`).

Chinese names come from the catalogue's category paths; English names from the glossary's
operator / demo files (index/glossary.py). A node counts only when it holds two or more leaves
in the live catalogue.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shopsense.index.glossary import SEP, Glossary, read_file

_WORDS = re.compile(r"[a-z]+")


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


@dataclass(frozen=True)
class CategoryNodes:
    zh: tuple[str, ...]  # last segment of each inner node with 2+ leaves
    en: tuple[frozenset[str], ...]  # the stemmed words of their English names

    def names(self, phrase: str) -> bool:
        """`phrase` names one of these nodes: a part of its Chinese name, or English words
        all in its English name."""
        text = phrase.strip().lower()
        if not text:
            return False
        if not text.isascii():
            return any(text in name for name in self.zh)
        words = {_stem(w) for w in _WORDS.findall(text)}
        return bool(words) and any(words <= name for name in self.en)


def build_nodes(categories: Iterable[str], english: dict[str, str]) -> CategoryNodes:
    leaves: dict[str, set[str]] = {}
    for path in set(categories):
        parts = path.split(SEP)
        for i in range(1, len(parts)):
            leaves.setdefault(SEP.join(parts[:i]), set()).add(path)
    inner = [node for node, below in leaves.items() if len(below) >= 2]
    names = [english[n].split(SEP)[-1].lower() for n in inner if english.get(n)]
    return CategoryNodes(zh=tuple(n.split(SEP)[-1] for n in inner),
                         en=tuple(frozenset(_stem(w) for w in _WORDS.findall(n)) for n in names))


def category_nodes(engine: Any) -> CategoryNodes:
    """The engine's nodes, rebuilt after a catalogue change (`engine.nodes_` is reset then)."""
    if engine.nodes_ is None:
        glossary = Glossary()
        for path in getattr(engine, "glossary_files", []) or []:
            glossary.merge(read_file(Path(path)))
        table = engine.table
        categories = [p.category for p, alive in zip(table.products_, table.alive_, strict=False)
                      if alive and p.category]
        engine.nodes_ = build_nodes(categories, glossary.categories)
    return engine.nodes_


__all__ = ["CategoryNodes", "build_nodes", "category_nodes"]
