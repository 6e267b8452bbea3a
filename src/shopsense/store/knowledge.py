"""The shop's knowledge base (policy and FAQ passages) behind a small repository protocol.

A document (`doc_id`, e.g. the file name it came from) is a list of `Passage`s; loading a
document again replaces all of its passages in one transaction, so a reader sees the old
version or the new one, never a mix. `version()` changes on every write (other processes of
the same store use it to notice a reload). Both backends speak the SQLite-flavoured SQL of
`store.transaction()`; PostgreSQL gets its own schema (types) and the dialect rewrite.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from shopsense.store.base import Store

TABLE = "knowledge_passages"


@dataclass(frozen=True, slots=True)
class Passage:
    passage_id: str  # "<doc_id>#<position>"
    doc_id: str
    title: str  # the document's title
    heading: str  # the section (Markdown heading) or the question (Q&A)
    text: str
    language: str = ""  # zh | en | "" (both / unknown)
    position: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class KnowledgeRepository(Protocol):
    def replace_document(self, doc_id: str, passages: Sequence[Passage]) -> int:
        """Store `passages` as the whole of document `doc_id`; returns passages written."""
        ...

    def delete_document(self, doc_id: str) -> int: ...

    def passages(self) -> list[Passage]:
        """Every passage, by document then position."""
        ...

    def documents(self) -> list[dict[str, Any]]: ...

    def version(self) -> str: ...


class SqliteKnowledgeRepository:
    """Passages in the SQLite store's file (one table)."""

    ddl = (f"CREATE TABLE IF NOT EXISTS {TABLE} (passage_id TEXT PRIMARY KEY, doc_id TEXT NOT "
           "NULL, title TEXT NOT NULL, heading TEXT NOT NULL, text TEXT NOT NULL, language "
           "TEXT NOT NULL, position INTEGER NOT NULL, updated_at REAL NOT NULL)",
           f"CREATE INDEX IF NOT EXISTS {TABLE}_doc ON {TABLE}(doc_id, position)")

    def __init__(self, store: Store) -> None:
        self.store = store
        with store.transaction() as cur:
            for sql in self.ddl:
                cur.execute(sql)

    def replace_document(self, doc_id: str, passages: Sequence[Passage]) -> int:
        if not doc_id:
            raise ValueError("a knowledge document needs an id")
        if any(p.doc_id != doc_id for p in passages):
            raise ValueError(f"every passage must belong to document {doc_id!r}")
        now = time.time()
        with self.store.transaction() as cur:
            cur.execute(f"DELETE FROM {TABLE} WHERE doc_id = ?", (doc_id,))
            for p in passages:
                cur.execute(f"INSERT INTO {TABLE} (passage_id, doc_id, title, heading, text, "
                            "language, position, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            (p.passage_id, p.doc_id, p.title, p.heading, p.text, p.language,
                             p.position, now))
        return len(passages)

    def delete_document(self, doc_id: str) -> int:
        with self.store.transaction() as cur:
            found = cur.execute(f"SELECT COUNT(*) FROM {TABLE} WHERE doc_id = ?",
                                (doc_id,)).fetchone()[0]
            cur.execute(f"DELETE FROM {TABLE} WHERE doc_id = ?", (doc_id,))
        return int(found)

    def passages(self) -> list[Passage]:
        rows = self.store.execute(f"SELECT passage_id, doc_id, title, heading, text, language, "
                                  f"position FROM {TABLE} ORDER BY doc_id, position")
        return [Passage(*row) for row in rows]

    def documents(self) -> list[dict[str, Any]]:
        rows = self.store.execute(f"SELECT doc_id, MIN(title), COUNT(*), MAX(updated_at) FROM "
                                  f"{TABLE} GROUP BY doc_id ORDER BY doc_id")
        return [{"doc_id": d, "title": t, "passages": int(n), "updated_at": float(u)}
                for d, t, n, u in rows]

    def version(self) -> str:
        count, latest = self.store.execute(f"SELECT COUNT(*), COALESCE(MAX(updated_at), 0) "
                                           f"FROM {TABLE}")[0]
        return f"{int(count)}:{float(latest):.6f}"


class PostgresKnowledgeRepository(SqliteKnowledgeRepository):
    """The same table in PostgreSQL (BIGINT position, timestamps as DOUBLE PRECISION)."""

    ddl = (f"CREATE TABLE IF NOT EXISTS {TABLE} (passage_id TEXT PRIMARY KEY, doc_id TEXT NOT "
           "NULL, title TEXT NOT NULL, heading TEXT NOT NULL, text TEXT NOT NULL, language "
           "TEXT NOT NULL, position BIGINT NOT NULL, updated_at DOUBLE PRECISION NOT NULL)",
           f"CREATE INDEX IF NOT EXISTS {TABLE}_doc ON {TABLE}(doc_id, position)")

    def delete_document(self, doc_id: str) -> int:
        found = self.store.execute(f"SELECT COUNT(*) FROM {TABLE} WHERE doc_id = ?", (doc_id,))
        with self.store.transaction() as cur:
            cur.execute(f"DELETE FROM {TABLE} WHERE doc_id = ?", (doc_id,))
        return int(found[0][0])


def knowledge_repository(store: Store) -> KnowledgeRepository:
    """The repository for a store opened by `open_store` (chosen by the store's backend)."""
    from shopsense.store.sqlite import SqliteStore

    if isinstance(store, SqliteStore):
        return SqliteKnowledgeRepository(store)
    if type(store).__name__ == "PostgresStore":
        return PostgresKnowledgeRepository(store)
    raise TypeError(f"no knowledge repository for {type(store).__name__}")
