"""The Retriever protocol: every candidate source (keyword, vector, item-to-item, sequential,
popular, fused) proposes `Candidate`s with the signals that placed them."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Protocol, runtime_checkable

from shopsense.domain import Candidate


@runtime_checkable
class Retriever(Protocol):
    name: str

    def retrieve(self, query: Any, k: int, *, exclude: Collection[str] = ()) -> list[Candidate]:
        """Top-`k` candidates for `query` (a text, a user/session context, or an item id,
        depending on the source), best first, never containing an id in `exclude`."""
        ...
