"""SASRec + co-visitation in one score: what the learned ranker does, in its simplest form.

score = log_softmax(SASRec logits) + weight * covisit / max(covisit of that shopper), with
`weight` chosen from a fixed grid on the validation targets (never the test item). Used by the
offline evaluation, where scoring every shopper through the full ranker would be too slow.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from shopsense.evaluation.metrics import ndcg_from_ranks, target_ranks
from shopsense.models.context import RecContext
from shopsense.models.sasrec import SASRec
from shopsense.models.sequences import ItemIndex, top_k_excluding
from shopsense.retrieve.covisit import CovisitRetriever

WEIGHTS: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0, 4.0, 8.0)


def dense_scores(source: CovisitRetriever, items: ItemIndex,
                 histories: Sequence[np.ndarray]) -> np.ndarray:
    """(B, n_items) source scores, 0 where the source proposes nothing."""
    out = np.zeros((len(histories), len(items)), dtype=np.float64)
    for row, history in enumerate(histories):
        ctx = RecContext(recent_items=tuple(items.ids[i] for i in history[-50:]))
        scores = source.score_all(ctx)
        out[row] = np.where(np.isfinite(scores), scores, 0.0)
    return out


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _normalised(covisit: np.ndarray) -> np.ndarray:
    return covisit / np.maximum(covisit.max(axis=1, keepdims=True), 1e-12)


class SequenceBlend:
    """Scorer over dense-index histories; `fit_weight` picks the co-visit weight."""

    def __init__(self, model: SASRec, covisit: CovisitRetriever, items: ItemIndex,
                 weight: float = 0.0) -> None:
        self.model, self.covisit, self.items, self.weight = model, covisit, items, weight
        self.valid_ndcg_: dict[float, float] = {}

    def fit_weight(self, histories: Sequence[np.ndarray], targets: np.ndarray,
                   batch: int = 1024) -> SequenceBlend:
        """Choose the weight with the best validation NDCG@10 (ties: the smaller weight)."""
        totals = dict.fromkeys(WEIGHTS, 0.0)
        for start in range(0, len(histories), batch):
            hist = histories[start:start + batch]
            base = _log_softmax(self.model.score(hist).astype(np.float64))
            cov = _normalised(dense_scores(self.covisit, self.items, hist))
            for weight in WEIGHTS:
                top = top_k_excluding(base + weight * cov, 10, hist)
                ranks = target_ranks(top, np.asarray(targets[start:start + batch]))
                totals[weight] += float(ndcg_from_ranks(ranks, 10).sum())
        self.valid_ndcg_ = {w: t / max(len(histories), 1) for w, t in totals.items()}
        self.weight = max(WEIGHTS, key=lambda w: (self.valid_ndcg_[w], -w))
        return self

    def with_covisit(self, covisit: CovisitRetriever) -> SequenceBlend:
        """The same model and weight over another co-visit table (e.g. refit with more data)."""
        return SequenceBlend(self.model, covisit, self.items, self.weight)

    def __call__(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        base = _log_softmax(self.model.score(histories).astype(np.float64))
        if self.weight == 0:
            return base
        return base + self.weight * _normalised(dense_scores(self.covisit, self.items, histories))
