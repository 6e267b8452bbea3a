"""How good are the recommendations? Leave-one-out by time, full ranking, against popularity.

Protocol (S3-Rec / ICLRec): per user, the last interaction is the test target, the second-last
the validation target (early stopping only), the rest is training. Users with fewer than three
interactions train but are not scored. Every item is ranked; items the user interacted with
before the target are excluded from that user's ranking. Metrics: HR@k, NDCG@k (one relevant
item) and coverage@10 (share of the catalogue that appears in any top-10 list), each with a
95 % bootstrap interval over users (`ndcg@10_ci`, `evaluation.metrics.summarise`).
`evaluation.served` scores the same protocol through the serving path.
"""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from shopsense.evaluation.metrics import loo_metrics, summarise, target_ranks
from shopsense.models.blend import SequenceBlend
from shopsense.models.interactions import Interactions, load_catalog, load_interactions
from shopsense.models.sequences import ItemIndex, top_k_excluding
from shopsense.retrieve.covisit import CovisitRetriever

Scorer = Callable[[Sequence[np.ndarray]], np.ndarray]  # histories -> scores (B, n_items)


@dataclass
class LeaveOneOut:
    """Dense-index split. `train` holds every user's training part (short users whole)."""

    items: ItemIndex
    train: list[np.ndarray]  # one per user of the data, in data order
    valid_histories: list[np.ndarray]
    valid_targets: np.ndarray
    test_histories: list[np.ndarray]
    test_targets: np.ndarray
    test_users: list[str]
    short: list[np.ndarray]  # whole sequences of users too short to be scored


def leave_one_out(data: Interactions, extra_items: Sequence[str] = ()) -> LeaveOneOut:
    """Split each user's time-ordered sequence: [..train.., valid, test]."""
    items = ItemIndex([*data.item_ids(), *extra_items])
    train: list[np.ndarray] = []
    valid_h, valid_t, test_h, test_t, users, short = [], [], [], [], [], []
    for user, seq in zip(data.users, data.sequences, strict=True):
        encoded = items.encode(seq)
        if len(encoded) < 3:
            train.append(encoded)
            short.append(encoded)
            continue
        train.append(encoded[:-2])
        valid_h.append(encoded[:-2])
        valid_t.append(encoded[-2])
        test_h.append(encoded[:-1])
        test_t.append(encoded[-1])
        users.append(user)
    return LeaveOneOut(items, train, valid_h, np.asarray(valid_t, dtype=np.int64),
                       test_h, np.asarray(test_t, dtype=np.int64), users, short)


def ranking_per_user(score: Scorer, histories: Sequence[np.ndarray], targets: np.ndarray,
                     ks: Sequence[int] = (10, 20), batch: int = 1024
                     ) -> tuple[dict[str, np.ndarray], set[int]]:
    """Per user HR@k and NDCG@k, and the items shown in any top 10 (for coverage)."""
    depth = max(*ks, 10)
    ranks: list[np.ndarray] = []
    shown: set[int] = set()
    for start in range(0, len(histories), batch):
        hist = histories[start:start + batch]
        top = top_k_excluding(np.array(score(hist), dtype=np.float64), depth, hist)
        shown.update(np.unique(top[:, :10]).tolist())
        ranks.append(target_ranks(top, targets[start:start + batch]))
    all_ranks = np.concatenate(ranks) if ranks else np.zeros(0, np.int64)
    return loo_metrics(all_ranks, ks), shown


def ranking_metrics(score: Scorer, histories: Sequence[np.ndarray], targets: np.ndarray,
                    n_items: int, ks: Sequence[int] = (10, 20), batch: int = 1024
                    ) -> dict[str, float]:
    """HR@k, NDCG@k over all users and coverage@10; each in [0, 1]."""
    per_user, shown = ranking_per_user(score, histories, targets, ks, batch)
    out = {name: float(values.mean()) if values.size else 0.0
           for name, values in per_user.items()}
    out["coverage@10"] = len(shown) / max(n_items, 1)
    return out


def scored(per_user: dict[str, np.ndarray], shown: set[int], n_items: int
           ) -> dict[str, Any]:
    """Means with 95 % bootstrap intervals (`ndcg@10_ci` ...) and coverage@10."""
    return {**summarise(per_user), "coverage@10": round(len(shown) / max(n_items, 1), 5)}


def popularity_scorer(sequences: Sequence[np.ndarray], n_items: int) -> Scorer:
    """Every user gets the same interaction counts."""
    counts = np.bincount(np.concatenate([np.asarray(s, np.int64) for s in sequences] or
                                        [np.zeros(0, np.int64)]), minlength=n_items)
    counts = counts.astype(np.float64)

    def score(histories: Sequence[np.ndarray]) -> np.ndarray:
        return np.broadcast_to(counts, (len(histories), n_items)).copy()

    return score


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def load_split(events: Path, catalog: Path | None) -> tuple[Interactions, list[Any], LeaveOneOut]:
    """The interactions, the catalogue (may be empty) and their leave-one-out split."""
    data = load_interactions(events)
    products = load_catalog(catalog) if catalog is not None else []
    split = leave_one_out(data, [p.item_id for p in products])
    if not split.test_users:
        raise ValueError("no user has three or more interactions; nothing to evaluate")
    return data, products, split


def evaluate_recs(events: Path, catalog: Path | None = None, *, k: int = 10,
                  model_options: dict[str, Any] | None = None,
                  on_epoch: Callable[[dict[str, float]], None] | None = None
                  ) -> dict[str, Any]:
    """Train shopsense's sequential model on the training part and score it and popularity
    (`evaluation.served.evaluate_served` adds the served path)."""
    data, products, split = load_split(events, catalog)
    started = time.perf_counter()
    blend = train_blend(split, products, model_options, on_epoch)
    return blend_report(events, catalog, data, products, split, blend, k,
                        time.perf_counter() - started)


def blend_report(events: Path, catalog: Path | None, data: Interactions, products: Sequence[Any],
                 split: LeaveOneOut, blend: SequenceBlend, k: int, train_seconds: float,
                 per_user: dict[str, np.ndarray] | None = None) -> dict[str, Any]:
    """The blend, SASRec alone and popularity on the test targets, each with intervals
    (`per_user`, when given, receives the blend's per-user values)."""
    n_items = len(split.items)
    ks = sorted({k, 10, 20})
    model = blend.model
    started = time.perf_counter()
    # For the test ranking the co-visit table may also count the validation items.
    test_covisit = _covisit(split.items, [*split.test_histories, *split.short])
    blend_users, shown = ranking_per_user(blend.with_covisit(test_covisit), split.test_histories,
                                          split.test_targets, ks)
    if per_user is not None:
        per_user.update(blend_users)
    ours = scored(blend_users, shown, n_items)
    eval_seconds = time.perf_counter() - started
    sasrec_only = scored(*ranking_per_user(model.score, split.test_histories, split.test_targets,
                                           ks), n_items)
    pop_started = time.perf_counter()
    popularity = popularity_scorer([*split.train, split.valid_targets], n_items)
    baseline = scored(*ranking_per_user(popularity, split.test_histories, split.test_targets, ks),
                      n_items)
    return {
        "data": {"events": str(events), "catalog": str(catalog) if catalog else None,
                 "users": len(data.users), "evaluated_users": len(split.test_users),
                 "items": n_items, "interactions": data.n_events},
        "protocol": "leave-one-out by time; full ranking; history items excluded; 95 % "
                    "bootstrap intervals over users (`<metric>_ci`)",
        "blend": {**ours, "model": f"sasrec-{model.info_.get('loss')} + covisit blend",
                  "covisit_weight": blend.weight,
                  "valid_ndcg@10_by_weight": _rounded({str(w): v for w, v in
                                                       blend.valid_ndcg_.items()}),
                  "best_epoch": model.best_epoch_, "epochs": len(model.history_),
                  "title_init": bool(products and any(p.title for p in products)),
                  "train_seconds": round(train_seconds, 1),
                  "eval_seconds": round(eval_seconds, 1)},
        "sasrec_only": {**sasrec_only, "model": f"sasrec-{model.info_.get('loss')}",
                        "training": model.training_report(data.n_events)},
        "baseline_popularity": {**baseline, "model": "popularity",
                                "train_seconds": round(time.perf_counter() - pop_started, 2)},
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def train_blend(split: LeaveOneOut, products: Sequence[Any],
                model_options: dict[str, Any] | None,
                on_epoch: Callable[[dict[str, float]], None] | None) -> SequenceBlend:
    """SASRec on the training part (titles seed it when there are any), early-stopped on the
    validation targets, blended with co-visits at the weight validation prefers."""
    from shopsense.models.sasrec import SASRec  # torch import only when evaluating

    model = SASRec(**(model_options or {}))
    item_init = None
    if products and any(p.title for p in products):
        from shopsense.models.text_init import title_vectors
        item_init = title_vectors(products, split.items.ids, model.config.dim)
    model.fit(split.train, len(split.items), valid=(split.valid_histories, split.valid_targets),
              item_init=item_init, on_epoch=on_epoch)
    return blend_over(model, split)


def blend_over(model: Any, split: LeaveOneOut) -> SequenceBlend:
    """A trained SASRec blended with the split's training co-visits at the weight the
    validation targets prefer."""
    blend = SequenceBlend(model, _covisit(split.items, split.train), split.items)
    return blend.fit_weight(split.valid_histories, split.valid_targets)


def _covisit(items: ItemIndex, sequences: Sequence[np.ndarray]) -> CovisitRetriever:
    ids = items.ids
    data = Interactions([f"u{n}" for n in range(len(sequences))],
                        [[ids[i] for i in seq] for seq in sequences])
    return CovisitRetriever().fit(data, items)


def _rounded(metrics: dict[str, float]) -> dict[str, float]:
    return {key: round(value, 5) for key, value in metrics.items()}


def source_scorer(source: Any, items: ItemIndex) -> Scorer:
    """Adapt any fitted candidate source (`score_all(RecContext)`) to the harness."""
    from shopsense.models.context import RecContext

    def score(histories: Sequence[np.ndarray]) -> np.ndarray:
        out = np.empty((len(histories), len(items)), dtype=np.float64)
        for row, history in enumerate(histories):
            ctx = RecContext(recent_items=tuple(items.ids[i] for i in history[-50:]))
            out[row] = source.score_all(ctx)
        return np.where(np.isfinite(out), out, -1e18)

    return score


def split_interactions(split: LeaveOneOut, users: Sequence[str]) -> Interactions:
    """The training part of a split as `Interactions` (for fitting candidate sources)."""
    ids = split.items.ids
    return Interactions(list(users), [[ids[i] for i in seq] for seq in split.train])
