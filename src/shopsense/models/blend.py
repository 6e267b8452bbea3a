"""SASRec + co-visitation in one score: what the learned ranker does, in its simplest form.

score = log_softmax(SASRec logits) + weight * covisit / max(covisit of that shopper), with
`weight` chosen from a fixed grid on the validation targets (never the test item). The offline
evaluation scores it over every item; serving computes the same score per request
(`blend_parts`, `BlendView`: the blend as a candidate source and as ranker features).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from shopsense.evaluation.metrics import ndcg_from_ranks, target_ranks
from shopsense.models.context import RecContext
from shopsense.models.sasrec import SASRec
from shopsense.models.sequences import ItemIndex, top_k_excluding
from shopsense.models.source_base import DenseSource
from shopsense.models.sparse_scores import SparseRow
from shopsense.retrieve.covisit import CovisitRetriever

WEIGHTS: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0, 4.0, 8.0)
Parts = np.ndarray | SparseRow  # a request's parts: dense, or over its candidates


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
    """Log-softmax along the last axis, float64, its normaliser summed over float32
    exponentials (a float64 `exp` over a million items is ~15 ms a request, float32 in
    place ~2 ms; the normaliser moves by ~1e-8, the same for every item of a row). -inf
    scores stay -inf (items the source cannot score); a row with no finite score (no known
    item) is -inf throughout."""
    single = logits.astype(np.float32)
    top = single.max(axis=-1, keepdims=True)
    known = np.isfinite(top)
    top = np.where(known, top, np.float32(0.0))
    np.subtract(single, top, out=single)
    np.exp(single, out=single)
    with np.errstate(divide="ignore", invalid="ignore"):
        norm = top.astype(np.float64) + np.log(single.sum(axis=-1, keepdims=True,
                                                          dtype=np.float64))
        out = logits - norm
    return out if known.all() else np.where(known, out, -np.inf)


def _normalised(covisit: np.ndarray) -> np.ndarray:
    """`covisit` over its row's largest; `covisit` is overwritten (a temporary)."""
    covisit /= np.maximum(covisit.max(axis=-1, keepdims=True), 1e-12)
    return covisit


def blend_parts(sasrec: np.ndarray | SparseRow, covisit: np.ndarray | SparseRow | None,
                weight: float) -> tuple[Parts, Parts, Parts]:
    """(blend, SASRec log-softmax, co-visit share of the shopper's largest) over every item
    of one shopper (1-d) or many (2-d): the blend's score as `SequenceBlend` computes it.
    Non-finite scores (a source that proposes nothing for the item) count as co-visit 0;
    a shopper SASRec cannot score (no known item) gets -inf everywhere, an item it does not
    score (-inf) gets -inf. SASRec scores as a `SparseRow` (a large catalogue's quantised
    scan) give `SparseRow` parts over its candidates and co-visits' items (`sparse_parts`);
    a dense SASRec vector, dense parts (a sparse co-visit row is read densely)."""
    if isinstance(sasrec, SparseRow):
        return sparse_parts(sasrec, covisit, weight)
    if isinstance(covisit, SparseRow):
        covisit = covisit.dense()
    logits = np.asarray(sasrec, dtype=np.float64)
    if logits.ndim == 1:
        return _request_parts(logits, covisit, weight)
    logp = _log_softmax(logits)
    if covisit is None:
        share = np.zeros_like(logp)
    else:
        covisit = np.asarray(covisit, dtype=np.float64)
        share = _normalised(np.where(np.isfinite(covisit), covisit, 0.0))
    blend = weight * share
    blend += logp
    return blend, logp, share


def _request_parts(logits: np.ndarray, covisit: np.ndarray | None, weight: float
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`blend_parts` of one request, equal to the batched arithmetic bit for bit, with
    three full-length writes (log-softmax, blend, share) and no other catalogue-long
    temporary: the normaliser is summed over cache-sized float32 blocks, and the co-visit
    share and its weight touch only the items co-visits score (a few thousand of a
    million), since `weight * 0 + logp` is `logp`."""
    logp = _request_log_softmax(logits)
    share = np.zeros_like(logp)
    blend = logp.copy()
    if covisit is None:
        return blend, logp, share
    covisit = np.asarray(covisit, dtype=np.float64)
    columns = np.flatnonzero(np.isfinite(covisit))
    values = covisit[columns]
    largest = values.max() if columns.size else 0.0
    if columns.size < covisit.size:  # the zeros of the items it does not score count
        largest = max(largest, 0.0)
    values /= np.maximum(largest, 1e-12)
    share[columns] = values
    blend[columns] = weight * values + logp[columns]
    return blend, logp, share


def sparse_parts(sasrec: SparseRow, covisit: np.ndarray | SparseRow | None, weight: float
                 ) -> tuple[SparseRow, SparseRow, SparseRow]:
    """`blend_parts` of one request held for SASRec's candidates and the items co-visits
    score: the same arithmetic as `_request_parts` on those items, with the log-softmax
    normaliser SASRec's scan estimated (`sasrec.normaliser`: one shift for every item, so
    no order within the request changes); any other item's parts on demand (its exact logit
    less the normaliser, co-visit share 0)."""
    n = sasrec.size
    if covisit is None:
        covisit = SparseRow(n, np.zeros(0, np.int64), np.zeros(0))
    elif not isinstance(covisit, SparseRow):
        covisit = np.asarray(covisit, dtype=np.float64)
        at = np.flatnonzero(np.isfinite(covisit))
        covisit = SparseRow(n, at, covisit[at])
    finite = np.isfinite(covisit.values)
    columns, values = covisit.index[finite], covisit.values[finite]
    largest = values.max() if columns.size else 0.0
    if columns.size < n:  # the zeros of the items it does not score count
        largest = max(largest, 0.0)
    values = values / np.maximum(largest, 1e-12)
    union = np.union1d(sasrec.index, columns)
    share = np.zeros(union.size)
    share[np.searchsorted(union, columns)] = values
    if sasrec.rest is None:  # SASRec scores nobody: no known recent item
        none = SparseRow(n, np.zeros(0, np.int64), np.zeros(0))
        return none, none, SparseRow(n, union, share, fill=0.0)
    norm, rest = sasrec.normaliser, sasrec.rest

    def logp_rest(wanted: np.ndarray) -> np.ndarray:
        return rest(wanted) - norm

    logp = sasrec.at(union) - norm
    blend = weight * share + logp
    return (SparseRow(n, union, blend, rest=logp_rest, normaliser=norm),
            SparseRow(n, union, logp, rest=logp_rest, normaliser=norm),
            SparseRow(n, union, share, fill=0.0))


def _request_log_softmax(logits: np.ndarray) -> np.ndarray:
    """`_log_softmax` of one row: float32 exponentials of each block of 8 x numpy's
    buffer (64K items by default), summed into one float64 accumulator as numpy's
    buffered float32 -> float64 sum adds its buffers, so the normaliser is the same to
    the last bit (tests/recs/test_blend_request.py) without a catalogue-long float32
    copy."""
    top = np.float32(logits.max()) if logits.size else np.float32(-np.inf)
    if not np.isfinite(top):
        return np.full(logits.size, -np.inf)
    step = 8 * np.getbufsize()
    block = np.empty(min(step, logits.size), dtype=np.float32)
    total = np.float64(0.0)
    for start in range(0, logits.size, step):
        part = block[:min(step, logits.size - start)]
        np.copyto(part, logits[start:start + step], casting="unsafe")
        np.subtract(part, top, out=part)
        np.exp(part, out=part)
        total = np.add.reduce(part, dtype=np.float64, initial=total)
    return logits - (np.float64(top) + np.log(total))  # total >= 1: the top item's exp(0)


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
        logits = self.model.score(histories)
        if self.weight == 0:
            return blend_parts(logits, None, 0.0)[0]
        return blend_parts(logits, dense_scores(self.covisit, self.items, histories),
                           self.weight)[0]


class BlendView(DenseSource):
    """The blend as one request's candidate source (`pipeline.recommend`): its scores come
    from `blend_parts` over the SASRec and co-visit scores that request already computed
    (`retrieve_scored`); items, category filters and evidence are SASRec's."""

    name = "blend"

    def __init__(self, sasrec: DenseSource) -> None:
        super().__init__()
        self.sasrec = sasrec
        self.items_, self.categories_ = sasrec.items_, sasrec.categories_

    def score_all(self, context: RecContext) -> np.ndarray:
        raise TypeError("BlendView scores nothing itself: use retrieve_scored")

    def evidence_many(self, context: RecContext, indices: Sequence[int]) -> list[dict]:
        return self.sasrec.evidence_many(context, indices)
