"""Training the search ranker from the shop's own log (and / or a judgments file).

Logged judgments: a click on a result of query q counts 1, a cart of that item in the same
session after the click 2, a purchase 3 (the largest per session and item; summed over
sessions). Shoppers click what they see, and they see the top of the page: each gain is divided
by the examination propensity of the position the item held, (1 / rank) ** eta (the position
it takes in the serving order now; the log keeps no positions), capped at `max_weight`.
The model re-ranks the blend's top `rerank_depth` (100) when it serves, so it is trained on
exactly those rows of each query (measured better than every candidate, see `_served_rows`).
`train_search_ranker(engine, events, judged=...)` fits LambdaMART on those groups (features as
served: with the query reading), and keeps it only when it beats the blend and BM25F on
held-out logged queries (`LambdaMartRanker` holds them back); the report carries both figures.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from shopsense.domain import Event
from shopsense.rank.ltr import LambdaMartRanker, QueryBlend

LOG_GAINS = {"click": 1.0, "cart": 2.0, "purchase": 3.0}
MIN_QUERIES = 30  # fewer logged queries with a positive: no ranker is trained
# LambdaMART fits averaged (each its own seed and early-stopping queries): less variance. 4-fold
# CV on the Home Depot training split (benchmarks/README.md): nDCG@10 of 1 / 3 bags 0.5305 /
# 0.5348 with the title-trigram features (0.5151 / 0.5176 before them). Two serve, for the
# 30 ms p99 bar: on the held-out queries, quiet machine, 2 bags 0.4321 at p99 CPU 27.7 / 23.0
# ms (275 trees, two runs), 3 bags 0.4335 at 31.5 ms (439 trees)
BAGS = 2


def logged_gains(events: Iterable[Event]) -> dict[str, dict[str, float]]:
    """query -> {item_id: gain} from clicks with a query and the cart / purchase of a clicked
    item later in the same session (or by the same shopper)."""
    per_session: dict[tuple[str, str, str], float] = {}
    clicked: dict[tuple[str, str], str] = {}  # (actor, item) -> the query it was clicked from
    for e in sorted(events, key=lambda e: e.timestamp):
        actor = e.session_id or e.user_id or ""
        if not e.item_id or not actor:
            continue
        if e.event_type == "click" and e.query:
            query = e.query.strip()
            clicked[(actor, e.item_id)] = query
        elif e.event_type in ("cart", "purchase") and (actor, e.item_id) in clicked:
            query = clicked[(actor, e.item_id)]
        else:
            continue
        key = (actor, query, e.item_id)
        per_session[key] = max(per_session.get(key, 0.0), LOG_GAINS[e.event_type])
    out: dict[str, dict[str, float]] = {}
    for (_, query, item), gain in per_session.items():
        row = out.setdefault(query, {})
        row[item] = row.get(item, 0.0) + gain
    return out


def _debiased(ids: Sequence[str], order: np.ndarray, gains: Mapping[str, float], eta: float,
              max_weight: float) -> np.ndarray:
    rank = np.empty(len(ids), dtype=np.float64)
    rank[order] = np.arange(1, len(ids) + 1)
    weight = np.minimum(rank ** eta, max_weight)  # 1 / propensity
    raw = np.array([gains.get(i, 0.0) for i in ids], dtype=np.float64)
    return np.log1p(raw * weight)  # dampened: one very popular item does not drown the rest


def _served_rows(engine: Any, query: str, item_gains: Mapping[str, float], from_log: bool,
                 understand: Any, depth: int | None, eta: float, max_weight: float
                 ) -> tuple[np.ndarray, np.ndarray] | None:
    """(features, labels) of the candidates the ranker re-ranks when `query` is served: the
    blend's top `depth` (the model never sees the rest when serving); None when none of them
    is labelled. Measured on held-out Home Depot queries (benchmarks/README.md): nDCG@10
    0.4194 trained on these rows, 0.4152 on every candidate; `depth` None = every candidate."""
    found, _, features = engine.featurize(query, understand(query) if understand else None)
    if len(found.rows) == 0:
        return None
    ids = [engine.keyword.item_ids_[r] for r in found.rows.tolist()]
    order = np.argsort(-QueryBlend().score(features), kind="stable")
    if from_log:
        labels = _debiased(ids, order, item_gains, eta, max_weight)
    else:
        labels = np.array([float(item_gains.get(i, 0.0)) for i in ids])
    if depth is not None:
        keep = np.sort(order[:depth])
        features, labels = features[keep], labels[keep]
    return (features, labels) if labels.any() else None


def train_search_ranker(engine: Any, events: Iterable[Event], *,
                        judged: Sequence[tuple[str, Mapping[str, float]]] = (),
                        eta: float = 1.0, max_weight: float = 10.0, seed: int = 0,
                        min_queries: int = MIN_QUERIES) -> dict[str, Any]:
    """Fit the engine's ranker on logged judgments (position-debiased) plus `judged`
    (query, {item: gain}); it serves only if it beat the blend on held-out queries. Returns
    the report: queries used, held-out nDCG@10 of the model, the blend and BM25F, what serves,
    and where the time went (featurising the queries, fitting)."""
    started = time.perf_counter()
    logged = logged_gains(events)
    groups: list[np.ndarray] = []
    gains: list[np.ndarray] = []
    understand = engine.understander.understand if engine.understander is not None else None
    ranker = LambdaMartRanker(seed=seed, n_bags=BAGS)
    sources = [(q, g, True) for q, g in logged.items()] + [(q, g, False) for q, g in judged]
    for query, item_gains, from_log in sources:
        rows = _served_rows(engine, query, item_gains, from_log, understand,
                            ranker.rerank_depth, eta, max_weight)
        if rows is not None:
            groups.append(rows[0])
            gains.append(rows[1])
    featurised = time.perf_counter()
    report: dict[str, Any] = {"logged_queries": len(logged), "judged_queries": len(judged),
                              "queries_used": len(groups)}
    if len(groups) < min_queries:
        report.update(serving="blend", reason=f"fewer than {min_queries} queries with a "
                      "click, cart or purchase")
        return report
    ranker.fit(groups, gains)
    engine.ranker = ranker
    engine.stages_.clear()
    engine.warm_keys_.clear()
    report.update(serving="lambdamart" if ranker.mode_ == "model" else ranker.mode_,
                  held_out_ndcg10={k: round(v, 4) for k, v in ranker.validation_.items()},
                  trees=ranker.n_trees, bags=ranker.n_bags,
                  rows=int(sum(len(g) for g in groups)),
                  featurise_s=round(featurised - started, 1),
                  fit_s=round(time.perf_counter() - featurised, 1),
                  seconds=round(time.perf_counter() - started, 1))
    return report


def train_search(shop: Any, understander: Any,
                 judged: Sequence[tuple[str, Mapping[str, float]]] = ()) -> dict[str, Any]:
    """`shopsense train`'s search step: rebuild the index from the store, train the ranker on
    the shop's log (and `judged`: (query, {item_id: gain}) from a judgments file), save it as
    the new current version. Returns the ranker report (also in models/status.json, shown on
    /admin)."""
    from shopsense.pipeline.search_open import open_search_engine, save_search_engine

    engine = open_search_engine(shop.settings, rebuild=True)
    engine.understander = understander  # the ranker learns the features search serves
    report = train_search_ranker(engine, shop.store.iter_events(), judged=judged)
    if report["serving"] != "blend" or "held_out_ndcg10" in report:
        save_search_engine(engine, shop.settings)
    report["products"] = len(engine)
    return report
