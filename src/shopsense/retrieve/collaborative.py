"""Shoppers who liked what you liked: implicit-feedback matrix factorisation (ALS, `implicit`).

User factors come from training; a new shopper or a live session is folded in from its recent
items with the exact ALS user update, so it gets personal results without retraining.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from shopsense.domain import Product
from shopsense.models.context import RecContext, recency_weights
from shopsense.models.interactions import Interactions
from shopsense.models.sequences import ItemIndex
from shopsense.models.source_base import DenseSource, event_weight


def user_item_matrix(data: Interactions, items: ItemIndex) -> sparse.csr_matrix:
    """(n_users, n_items) summed event weights."""
    rows, cols, vals = [], [], []
    for u, seq in enumerate(data.sequences):
        kinds = data.kinds[u] if data.kinds is not None else None
        for j, item_id in enumerate(seq):
            i = items.get(item_id)
            if i >= 0:
                rows.append(u)
                cols.append(i)
                vals.append(event_weight(kinds[j]) if kinds is not None else 1.0)
    return sparse.csr_matrix((np.asarray(vals, np.float32), (rows, cols)),
                             shape=(len(data.sequences), len(items)))


class CollaborativeRetriever(DenseSource):
    """Weighted ALS (Hu, Koren & Volinsky 2008) with confidence 1 + alpha * log1p(weight)."""

    def __init__(self, factors: int = 64, regularization: float = 0.05, alpha: float = 10.0,
                 iterations: int = 15, seed: int = 0, name: str = "als") -> None:
        super().__init__()
        if factors < 1 or iterations < 1:
            raise ValueError("factors and iterations must be >= 1")
        self.factors, self.regularization, self.alpha = factors, regularization, alpha
        self.iterations, self.seed, self.name = iterations, seed, name
        self.user_factors_: np.ndarray | None = None
        self.item_factors_: np.ndarray | None = None
        self.users_: dict[str, int] = {}

    def fit(self, data: Interactions, items: ItemIndex,
            products: Sequence[Product] = ()) -> CollaborativeRetriever:
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits

        self._set_catalogue(items, products)
        matrix = user_item_matrix(data, items)
        if matrix.nnz == 0:
            raise ValueError("no interactions with known items; cannot factorise")
        matrix.data = np.log1p(matrix.data).astype(np.float32)
        with threadpool_limits(1, "blas"):
            model = AlternatingLeastSquares(
                factors=self.factors, regularization=self.regularization, alpha=self.alpha,
                iterations=self.iterations, num_threads=1, random_state=self.seed)
            model.fit(matrix, show_progress=False)
        self.user_factors_ = np.asarray(model.user_factors, dtype=np.float32)
        self.item_factors_ = np.asarray(model.item_factors, dtype=np.float32)
        self.users_ = {user: u for u, user in enumerate(data.users)}
        return self

    def fold_in(self, anchors: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Exact ALS user vector for a history (item indices, event weights)."""
        y = self._require_factors()
        confidence = self.alpha * np.log1p(weights)
        ys = y[anchors]
        cached = getattr(self, "_yty", None)
        if cached is None or cached[0] is not y:  # Y'Y is the same for every shopper
            cached = (y, y.T @ y)
            self._yty = cached
        gram = cached[1] + (ys.T * confidence) @ ys
        gram += self.regularization * np.eye(y.shape[1], dtype=gram.dtype)
        rhs = ys.T @ (1.0 + confidence)
        return np.linalg.solve(gram, rhs).astype(np.float32)

    def _require_factors(self) -> np.ndarray:
        if self.item_factors_ is None:
            raise RuntimeError("CollaborativeRetriever is not fitted")
        return self.item_factors_

    def user_vector(self, context: RecContext) -> np.ndarray | None:
        anchors = self.recent_indices(context)
        if anchors.size:  # the live history wins: it includes what the user just did
            return self.fold_in(anchors, recency_weights(anchors.size, 0.9))
        if context.user_id in self.users_ and self.user_factors_ is not None:
            return self.user_factors_[self.users_[context.user_id]]
        return None

    def score_all(self, context: RecContext) -> np.ndarray:
        y = self._require_factors()
        vector = self.user_vector(context)
        if vector is None:
            return np.full(y.shape[0], -np.inf)
        return y @ vector


    def evidence(self, context: RecContext, index: int) -> dict[str, Any]:
        return self.evidence_many(context, [index])[0]

    def evidence_many(self, context: RecContext, indices: Sequence[int]) -> list[dict[str, Any]]:
        anchors = self.recent_indices(context)
        if anchors.size == 0:
            return [{"basis": "your purchase history"} for _ in indices]
        y = self._require_factors()
        best = anchors[np.argmax(y[anchors] @ y[np.asarray(indices, dtype=np.int64)].T, axis=0)]
        ids = self._require_items().ids
        return [{"because_item": ids[int(b)]} for b in best.tolist()]

    def save(self, directory: Path) -> None:
        self._save_common(directory, {"kind": "als", "factors": self.factors,
                                      "regularization": self.regularization,
                                      "alpha": self.alpha, "iterations": self.iterations,
                                      "seed": self.seed})
        np.save(directory / "item_factors.npy", self._require_factors())
        np.save(directory / "user_factors.npy", self.user_factors_)
        (directory / "users.json").write_text(json.dumps(list(self.users_)))

    @classmethod
    def load(cls, directory: Path) -> CollaborativeRetriever:
        config, items, categories = cls._load_common(directory)
        source = cls(config["factors"], config["regularization"], config["alpha"],
                     config["iterations"], config["seed"], name=config["name"])
        source.items_, source.categories_ = items, categories
        source.item_factors_ = np.load(directory / "item_factors.npy", allow_pickle=False)
        source.user_factors_ = np.load(directory / "user_factors.npy", allow_pickle=False)
        users = json.loads((directory / "users.json").read_text())
        source.users_ = {user: u for u, user in enumerate(users)}
        return source
