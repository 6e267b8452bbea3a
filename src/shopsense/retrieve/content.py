"""Items that read alike: title (+ category, brand) embeddings from the offline text encoder.

Works from day one: a new item is similar to others through its text alone, and a new shopper
gets items like the ones in their live session.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from shopsense.domain import Product
from shopsense.models.context import RecContext, recency_weights
from shopsense.models.interactions import Interactions
from shopsense.models.sequences import ItemIndex
from shopsense.models.source_base import DenseSource
from shopsense.models.text_init import encode_titles


def product_text(product: Product) -> str:
    parts = [product.title, product.brand, " ".join(product.category_path[-2:])]
    return " ".join(p for p in parts if p).strip()


class ContentRetriever(DenseSource):
    """Cosine similarity of USE vectors of product text; `vectors` may be passed precomputed."""

    def __init__(self, name: str = "content", decay: float = 0.7, min_similarity: float = 0.0
                 ) -> None:
        super().__init__()
        self.name, self.decay, self.min_similarity = name, decay, min_similarity
        self.vectors_: np.ndarray | None = None  # (n_items, 512), unit rows; zeros = no text

    def fit(self, data: Interactions | None, items: ItemIndex, products: Sequence[Product] = (),
            vectors: np.ndarray | None = None) -> ContentRetriever:
        self._set_catalogue(items, products)
        by_id = {p.item_id: p for p in products}
        rows = [i for i, item_id in enumerate(items.ids)
                if item_id in by_id and product_text(by_id[item_id])]
        if vectors is None:
            encoded = encode_titles([product_text(by_id[items.ids[i]]) for i in rows])
        else:
            if vectors.shape[0] != len(items):
                raise ValueError("vectors must have one row per item")
            encoded = vectors[rows]
        self.vectors_ = np.zeros((len(items), encoded.shape[1] if rows else 512), np.float32)
        if rows:
            self.vectors_[rows] = encoded
        return self

    def score_all(self, context: RecContext) -> np.ndarray:
        if self.vectors_ is None:
            raise RuntimeError("ContentRetriever is not fitted")
        anchors = self.recent_indices(context)[-10:]
        if anchors.size == 0:
            return np.full(self.vectors_.shape[0], -np.inf)
        weights = recency_weights(anchors.size, self.decay).astype(self.vectors_.dtype)
        query = weights @ self.vectors_[anchors]
        norm = float(np.linalg.norm(query))
        if norm == 0:
            return np.full(self.vectors_.shape[0], -np.inf)
        scores = self.vectors_ @ (query / norm)  # same dtype: no copy of the matrix
        return np.where(self._has_text() & (scores > self.min_similarity), scores, -np.inf)

    def score_many(self, contexts: Sequence[RecContext]) -> np.ndarray:
        """`score_all` of many contexts with one matrix product (equal within float32
        rounding)."""
        if self.vectors_ is None:
            raise RuntimeError("ContentRetriever is not fitted")
        queries = np.zeros((len(contexts), self.vectors_.shape[1]), self.vectors_.dtype)
        for row, context in enumerate(contexts):
            anchors = self.recent_indices(context)[-10:]
            if anchors.size:
                weights = recency_weights(anchors.size, self.decay).astype(self.vectors_.dtype)
                queries[row] = weights @ self.vectors_[anchors]
        norms = np.linalg.norm(queries, axis=1)
        live = norms > 0
        out = np.full((len(contexts), self.vectors_.shape[0]), -np.inf)
        if live.any():
            scores = (queries[live] / norms[live, None]) @ self.vectors_.T
            out[live] = np.where(self._has_text() & (scores > self.min_similarity), scores,
                                 -np.inf)
        return out

    def _has_text(self) -> np.ndarray:
        """Rows with a text vector (computed once per vector matrix)."""
        assert self.vectors_ is not None
        cached = getattr(self, "_has_text_cache", None)
        if cached is None or cached[0] is not self.vectors_:
            cached = (self.vectors_, np.abs(self.vectors_).sum(axis=1) > 0)
            self._has_text_cache = cached
        return cached[1]

    def evidence(self, context: RecContext, index: int) -> dict[str, Any]:
        return self.evidence_many(context, [index])[0]

    def evidence_many(self, context: RecContext, indices: Sequence[int]) -> list[dict[str, Any]]:
        assert self.vectors_ is not None
        anchors = self.recent_indices(context)[-10:]
        if anchors.size == 0:
            return [{} for _ in indices]
        sims = self.vectors_[anchors].astype(np.float64) @ self.vectors_[
            np.asarray(indices, dtype=np.int64)].astype(np.float64).T
        # near-ties (anchors with the same title) go to the first anchor whatever the
        # product's shape: a float32 product's last bits depend on it and on alignment, and
        # the for-you pool asks for another subset of items than the per-candidate path
        best = np.argmax(np.round(sims, 6), axis=0)
        ids = self._require_items().ids
        return [{"because_item": ids[int(anchors[b])], "similarity": round(float(sims[b, j]), 4)}
                for j, b in enumerate(best.tolist())]

    def save(self, directory: Path) -> None:
        self._save_common(directory, {"kind": "content", "decay": self.decay,
                                      "min_similarity": self.min_similarity})
        np.save(directory / "vectors.npy", self.vectors_)

    @classmethod
    def load(cls, directory: Path) -> ContentRetriever:
        config, items, categories = cls._load_common(directory)
        source = cls(config["name"], config["decay"], config["min_similarity"])
        source.items_, source.categories_ = items, categories
        source.vectors_ = np.load(directory / "vectors.npy", allow_pickle=False)
        return source


