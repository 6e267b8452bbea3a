"""`KnowledgeBase`: load documents into the store's repository; answer questions from them.

The index is rebuilt from the repository when its version changes (a reload here or in a
sibling process), at most once per `recheck_s`, so every worker answers from the same text.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shopsense.knowledge.index import Hit, KnowledgeIndex
from shopsense.knowledge.parse import parse_file, parse_text
from shopsense.store.knowledge import KnowledgeRepository, Passage
from shopsense.text.encoders import Encoder


@dataclass
class Answer:
    question: str
    answered: bool
    hits: list[Hit] = field(default_factory=list)  # best first; hits[0] is the cited one

    @property
    def passage(self) -> Passage | None:
        return self.hits[0].passage if self.answered and self.hits else None

    def to_dict(self) -> dict[str, Any]:
        return {"question": self.question, "answered": self.answered,
                "passage": self.passage.to_dict() if self.passage else None,
                "candidates": [h.to_dict() for h in self.hits]}


class KnowledgeBase:
    def __init__(self, repository: KnowledgeRepository,
                 encoder: Callable[[], Encoder | None] | Encoder | None = None, *,
                 recheck_s: float = 2.0) -> None:
        self.repository = repository
        self._encoder = encoder
        self.recheck_s = recheck_s
        self._index: KnowledgeIndex | None = None
        self._version: str | None = None
        self._checked = 0.0
        self._lock = threading.Lock()

    def encoder(self) -> Encoder | None:
        return self._encoder() if callable(self._encoder) and not hasattr(
            self._encoder, "encode_query") else self._encoder  # type: ignore[return-value]

    # -- loading ----------------------------------------------------------------------------
    def load_file(self, path: Path, fmt: str | None = None, doc_id: str | None = None
                  ) -> dict[str, Any]:
        return self._store(parse_file(path, fmt, doc_id))

    def load_text(self, text: str, fmt: str, doc_id: str, title: str = "") -> dict[str, Any]:
        return self._store(parse_text(text, fmt, doc_id, title))

    def _store(self, passages: Sequence[Passage]) -> dict[str, Any]:
        doc_id = passages[0].doc_id
        written = self.repository.replace_document(doc_id, passages)
        self._checked = 0.0  # the next question re-reads
        return {"doc_id": doc_id, "title": passages[0].title, "passages": written,
                "languages": sorted({p.language for p in passages if p.language})}

    def delete(self, doc_id: str) -> int:
        removed = self.repository.delete_document(doc_id)
        self._checked = 0.0
        return removed

    def documents(self) -> list[dict[str, Any]]:
        return self.repository.documents()

    # -- answering --------------------------------------------------------------------------
    def index(self) -> KnowledgeIndex:
        with self._lock:
            now = time.monotonic()
            if self._index is None or now - self._checked >= self.recheck_s:
                version = self.repository.version()
                if self._index is None or version != self._version:
                    self._index = KnowledgeIndex(self.repository.passages(), self.encoder())
                    self._version = version
                self._checked = now
            return self._index

    def ask(self, question: str, language: str | None = None, k: int = 3) -> Answer:
        index = self.index()
        hits = index.search(question, k=k, language=language)
        answered = bool(hits) and index.answers(hits[0])
        if answered and language and hits[0].passage.language not in (language, ""):
            # the same section in the shopper's language, when the document has one
            twin = next((h for h in hits[1:] if h.passage.heading == hits[0].passage.heading
                         and h.passage.language == language and index.answers(h)), None)
            if twin is not None:
                hits = [twin, *[h for h in hits if h is not twin]]
        return Answer(question, answered, hits)

    def passage(self, passage_id: str) -> Passage | None:
        return self.index().get(passage_id)
