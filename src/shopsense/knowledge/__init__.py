"""The shop's knowledge base: policy / FAQ documents (Markdown, text, JSONL Q&A) stored
through `store.knowledge`, retrieved with the search engine's keyword index and encoder."""

from __future__ import annotations

from shopsense.knowledge.base import Answer, KnowledgeBase
from shopsense.knowledge.index import Hit, KnowledgeIndex
from shopsense.knowledge.parse import KnowledgeFormatError, parse_file, parse_text

__all__ = ["Answer", "Hit", "KnowledgeBase", "KnowledgeFormatError", "KnowledgeIndex",
           "parse_file", "parse_text"]
