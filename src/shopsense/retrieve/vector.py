"""Semantic retrieval: query text -> encoder vector -> nearest products (cross-lingual)."""

from __future__ import annotations

from collections.abc import Collection

from shopsense.domain import Candidate
from shopsense.index.vector import ApproximateVectorIndex, ExactVectorIndex
from shopsense.text.encoders import Encoder


class VectorRetriever:
    """A `Retriever` over a vector index; signal `semantic` (cosine)."""

    name = "vector"

    def __init__(self, index: ExactVectorIndex | ApproximateVectorIndex, encoder: Encoder) -> None:
        if index.dim != encoder.dim:
            raise ValueError(f"index dim {index.dim} != encoder dim {encoder.dim}")
        self.index = index
        self.encoder = encoder

    def retrieve(self, query: str, k: int, *, exclude: Collection[str] = ()) -> list[Candidate]:
        excluded = set(exclude)
        ids, scores = self.index.search(self.encoder.encode_query(query), k + len(excluded))
        out = [Candidate(i, float(s), {"semantic": float(s)}) for i, s in
               zip(ids, scores.tolist(), strict=True) if i not in excluded]
        return out[:k]
