"""How is the recommendation engine trained? `train_all`: every source, then the ranker.

Each shopper's last interaction is held out: sources learn from the rest, and the held-out
shoppers are split three ways: SASRec stops early on one part; the blend's co-visit weight is
chosen on that part and the next (`choose_blend_weight`, as the offline blend chooses it on
SASRec's validation targets); the ranker learns to put the held-out item first among the merged
candidates on the second part (logistic and LightGBM) and is chosen on the third, against the
blend's own order, which serves unless a learned ranker beats it clearly. Neither ranker part
is one SASRec early-stopped on. The held-out events are then replayed through `observe`, so
the served engine has seen them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shopsense.domain import Product
from shopsense.evaluation.metrics import grouped_ndcg
from shopsense.models.context import RecContext
from shopsense.models.interactions import Interactions
from shopsense.models.sasrec import SASRecConfig
from shopsense.models.sequences import ItemIndex
from shopsense.models.source_base import DenseSource
from shopsense.pipeline.recommend import EngineConfig, RecommendationEngine
from shopsense.rank.recs_features import ShopperView, feature_matrix, feature_names
from shopsense.rank.recs_ranker import BlendOrderRanker, BoostedRecsRanker, LogisticRecsRanker
from shopsense.retrieve.collaborative import CollaborativeRetriever
from shopsense.retrieve.content import ContentRetriever
from shopsense.retrieve.covisit import CovisitRetriever
from shopsense.retrieve.popular import PopularRetriever, TrendingRetriever
from shopsense.retrieve.sequential import SASRecTrainer, SequentialRetriever, fit_in_process

Progress = Callable[[str, dict[str, Any]], None]


@dataclass(frozen=True)
class TrainConfig:
    sasrec: SASRecConfig = field(default_factory=SASRecConfig)
    ranker_users: int = 3000  # shoppers sampled to fit + choose the ranker
    seed: int = 0
    engine: EngineConfig = field(default_factory=EngineConfig)
    ray_workers: int = 0  # > 0: SASRec trained data-parallel on that many Ray workers
    ray_address: str = ""  # with ray_workers: a Ray cluster; empty: local Ray
    replay_share: float = 0.2  # incremental: share of unchanged shoppers' sequences replayed


@dataclass(frozen=True)
class Incremental:
    """Continue the serving version's SASRec instead of training it from scratch."""

    previous: SequentialRetriever
    since: float  # the serving version's newest event time: later events are new
    from_version: str = ""


def sasrec_trainer(config: TrainConfig) -> SASRecTrainer:
    """In process by default; on Ray workers (scale.ray_train) when `ray_workers` > 0."""
    if config.ray_workers <= 0:
        return fit_in_process
    from functools import partial

    from shopsense.scale.ray_train import fit_sasrec_data_parallel

    return partial(fit_sasrec_data_parallel, workers=config.ray_workers,
                   address=config.ray_address)


def _quiet(stage: str, info: dict[str, Any]) -> None:
    return None


def holdout_split(data: Interactions) -> tuple[Interactions, list[int]]:
    """Drop each shopper's last interaction where they have 3+; returns (train, held users)."""
    keep = [len(s) - 1 if len(s) >= 3 else len(s) for s in data.sequences]
    held = [u for u, s in enumerate(data.sequences) if len(s) >= 3]
    return data.truncated(keep), held


def fit_sources(train: Interactions, items: ItemIndex, products: Sequence[Product],
                valid: tuple[list[np.ndarray], np.ndarray] | None, config: TrainConfig,
                progress: Progress, warm: Incremental | None = None) -> dict[str, DenseSource]:
    """Every candidate source on `train`; content only when products have text. With `warm`
    SASRec continues the serving model; the cheap sources are always refitted."""
    plan: list[tuple[str, Callable[[], DenseSource]]] = [
        ("popular", lambda: PopularRetriever().fit(train, items, products)),
        ("trending", lambda: TrendingRetriever().fit(train, items, products)),
        ("covisit", lambda: CovisitRetriever().fit(train, items, products)),
        ("bought_together", lambda: CovisitRetriever(
            "bought_together", window=20, event_types={"cart", "purchase"},
            by_session=False).fit(
                train, items, products)),
        ("als", lambda: CollaborativeRetriever(seed=config.seed).fit(train, items, products)),
    ]
    if any(p.title.strip() for p in products):
        plan.append(("content", lambda: ContentRetriever().fit(train, items, products)))
    plan.append(("sasrec", lambda: fit_sasrec(train, items, products, valid, config, progress,
                                              warm)))
    sources: dict[str, DenseSource] = {}
    for name, fit in plan:
        started = time.perf_counter()
        progress("source.start", {"source": name})
        sources[name] = fit()
        progress("source.done", {"source": name, "seconds": time.perf_counter() - started})
    return sources


def fit_sasrec(train: Interactions, items: ItemIndex, products: Sequence[Product],
               valid: tuple[list[np.ndarray], np.ndarray] | None, config: TrainConfig,
               progress: Progress, warm: Incremental | None) -> SequentialRetriever:
    """From scratch, or (with `warm`) from the serving weights on the shoppers with events
    since it was trained plus a replay sample (`valid` then holds the latest held-out events,
    see `changed_shoppers`)."""
    source = SequentialRetriever(config.sasrec, trainer=sasrec_trainer(config))
    on_epoch = lambda row: progress("sasrec.epoch", row)  # noqa: E731
    if warm is None:
        return source.fit(train, items, products, valid=valid, on_epoch=on_epoch)
    source.fit_incremental(train, items, products, warm.previous,
                           changed_shoppers(train, warm.since),
                           replay_share=config.replay_share, valid=valid, on_epoch=on_epoch)
    assert source.model_ is not None
    source.model_.info_["incremental"]["from_version"] = warm.from_version
    return source


def changed_shoppers(data: Interactions, since: float) -> np.ndarray:
    """One flag per shopper: has an event after `since` (all, without timestamps)."""
    if data.timestamps is None:
        return np.ones(len(data.users), dtype=bool)
    return np.array([bool(ts) and max(ts) > since for ts in data.timestamps], dtype=bool)


def ranker_rows(engine: RecommendationEngine, train: Interactions, targets: dict[int, str],
                users: Sequence[int], names: Sequence[str]
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
    """Features, labels and group sizes for shoppers whose held-out item is a candidate;
    also returns, per user, how many ranked lists missed the target (recall gaps)."""
    xs, ys, groups, kept = [], [], [], []
    for u in users:
        history = train.sequences[u][-engine.config.history_len:]
        ctx = RecContext(user_id=train.users[u], recent_items=tuple(history))
        cands = engine.candidates(ctx, names, set(history))
        labels = np.array([c.item_id == targets[u] for c in cands], dtype=np.float32)
        if not cands:
            continue
        shopper = ShopperView.build(history, engine.products)
        xs.append(feature_matrix(cands, names, shopper, engine.products,
                                 engine.popularity_of(c.item_id for c in cands), time.time()))
        ys.append(labels)
        groups.append(len(cands))
        kept.append(u)
    if not xs:
        return (np.zeros((0, len(feature_names(names))), np.float32), np.zeros(0),
                np.zeros(0, int), [])
    return np.concatenate(xs), np.concatenate(ys), np.asarray(groups), kept


def ranker_sample(held: Sequence[int], config: TrainConfig) -> tuple[list[int], list[int]]:
    """The shoppers that fit the ranker and those that choose it: at most `ranker_users` in
    all and at most two thirds of the held-out shoppers, so that a third or more is left for
    SASRec's early stopping. Both parts are kept out of SASRec's early stopping, so the ranker
    neither learns nor is chosen on the targets SASRec was stopped on."""
    rng = np.random.default_rng(config.seed)
    wanted = min(config.ranker_users, 2 * len(held) // 3)
    sample = rng.permutation(np.asarray(held, dtype=np.int64))[:wanted].tolist()
    half = len(sample) // 2
    return sample[:half], sample[half:]


BLEND_WEIGHT_USERS = 6000  # shoppers the blend's weight is chosen on (a sample of the rest)


def choose_blend_weight(engine: RecommendationEngine, train: Interactions,
                        targets: dict[int, str], users: Sequence[int], seed: int
                        ) -> dict[str, Any]:
    """The blend's co-visit weight by `SequenceBlend.fit_weight` (the offline blend's own
    choice) on these shoppers' held-out items (the ranker's choosers are not among them);
    sets `engine.config.blend_weight`, so `blend` becomes a for-you source."""
    from dataclasses import replace

    from shopsense.models.blend import SequenceBlend

    sasrec, covisit = engine.sources.get("sasrec"), engine.sources.get("covisit")
    model = getattr(sasrec, "model_", None)
    if model is None or not users:
        return {}
    weight, report = 0.0, {"blend_weight_users": 0}
    if isinstance(covisit, CovisitRetriever):
        rng = np.random.default_rng(seed)
        picked = rng.permutation(np.asarray(users, np.int64))[:BLEND_WEIGHT_USERS].tolist()
        keep = engine.config.history_len
        histories = [engine.items.encode(train.sequences[u][-keep:]) for u in picked]
        wanted = np.asarray([engine.items.index(targets[u]) for u in picked], dtype=np.int64)
        blend = SequenceBlend(model, covisit, engine.items).fit_weight(histories, wanted)
        weight = blend.weight
        report = {"blend_weight_users": len(picked), "blend_valid_ndcg@10_by_weight": {
            str(w): round(v, 5) for w, v in blend.valid_ndcg_.items()}}
    engine.config = replace(engine.config, blend_weight=float(weight))
    return {"blend_weight": float(weight), **report}


def fit_ranker(engine: RecommendationEngine, train: Interactions, targets: dict[int, str],
               split: tuple[list[int], list[int]], config: TrainConfig, progress: Progress
               ) -> dict[str, Any]:
    """Fit logistic + LightGBM on the fitting shoppers; on the choosers compare them with the
    untrained orders (reciprocal-rank fusion; the blend's own order, `BlendOrderRanker` over
    every candidate's blend score, when the engine has a blend). A learned ranker serves
    only when it beats the best untrained order clearly (`learned_gain_ci`, a paired 90 %
    bootstrap interval over the choosers, above 0): a ranker fitted on a few hundred
    shoppers that is merely level would serve noise (benchmarks/README.md, "Served path")."""
    fitting, choosing = split
    sample, half = [*fitting, *choosing], len(fitting)
    names = [n for n in engine.personal_names() if n in engine.sources or n == "blend"]
    engine.info["ranker_sources"] = names
    fit_x, fit_y, fit_g, _ = ranker_rows(engine, train, targets, sample[:half], names)
    val_x, val_y, val_g, _ = ranker_rows(engine, train, targets, sample[half:], names)
    n_val = len(sample) - half
    report: dict[str, Any] = {"fit_users": half, "valid_users": n_val}
    columns = feature_names(names)
    untrained: dict[str, Any] = {"fusion": None}
    if "blend" in names:
        untrained["blend_order"] = BlendOrderRanker(columns, 0.0, source="blend", partner=None)
        report["blend_weight"] = engine.config.blend_weight
    per_user: dict[str, np.ndarray] = {}
    for label, ranker in untrained.items():
        scores = _fusion_scores(val_x, names) if ranker is None else \
            ranker.score_groups(val_x, val_g)
        per_user[label] = _per_user_ndcg(scores, val_y, val_g, n_val)
        report[f"{label}_ndcg@10"] = float(per_user[label].mean()) if n_val else 0.0
    baseline = max(untrained, key=lambda k: (report[f"{k}_ndcg@10"], k != "fusion"))
    report["serving"] = "fusion" if baseline == "fusion" else BlendOrderRanker.kind
    engine.ranker = untrained[baseline]
    if fit_y.sum() < 5 or fit_y.min() == fit_y.max():
        progress("ranker.skipped", report)
        return report
    best = None
    for ranker in (LogisticRecsRanker(columns, seed=config.seed),
                   BoostedRecsRanker(columns, seed=config.seed)):
        ranker.fit(fit_x, fit_y, fit_g)
        values = _per_user_ndcg(ranker.score(val_x), val_y, val_g, n_val)
        report[f"{ranker.kind}_ndcg@10"] = float(values.mean()) if n_val else 0.0
        if best is None or values.mean() > best[0].mean():
            best = (values, ranker)
    assert best is not None
    gain = best[0] - per_user[baseline]
    low, high = _paired_interval(gain, config.seed)
    report["learned_gain_ci"] = [round(low, 5), round(high, 5)]
    report["learned_vs"] = baseline
    if low > 0:
        engine.ranker = best[1]
        report["serving"] = best[1].kind
    progress("ranker.done", report)
    return report


def _fusion_scores(x: np.ndarray, names: Sequence[str]) -> np.ndarray:
    return sum((x[:, 2 * j + 1] for j in range(len(names))), np.zeros(len(x)))  # rrank sum


def _per_user_ndcg(scores: np.ndarray, labels: np.ndarray, groups: np.ndarray,
                   n_users: int) -> np.ndarray:
    """nDCG@10 of every chooser (shoppers without candidates count 0)."""
    values = grouped_ndcg(scores, labels, groups, 10)
    return np.concatenate([values, np.zeros(max(n_users - len(values), 0))])


def _paired_interval(gain: np.ndarray, seed: int) -> tuple[float, float]:
    if gain.size == 0:
        return 0.0, 0.0
    rng = np.random.default_rng(seed)
    means = gain[rng.integers(0, gain.size, size=(1000, gain.size))].mean(axis=1)
    low, high = np.quantile(means, [0.05, 0.95])
    return float(low), float(high)


def train_all(data: Interactions, products: Sequence[Product], config: TrainConfig | None = None,
              progress: Progress = _quiet, warm: Incremental | None = None,
              items: ItemIndex | None = None) -> RecommendationEngine:
    """Fit every source and the ranker; returns a serving engine that has seen all events.
    `warm`: SASRec continues the serving version (incremental training). `items` fixes the
    dense item order (an evaluation that scores the same model elsewhere)."""
    config = config or TrainConfig()
    if data.n_events == 0:
        raise ValueError("no interactions to learn from")
    started = time.perf_counter()
    if items is None:
        items = ItemIndex([*(p.item_id for p in products), *data.item_ids()])
    train, held = holdout_split(data)
    targets = {u: data.sequences[u][-1] for u in held}
    rankers = ranker_sample(held, config)
    ranking = {*rankers[0], *rankers[1]}
    checked = [u for u in held if u not in ranking]  # SASRec early-stops on these only
    if warm is not None:  # judge the new version on the latest held-out events
        fresh = changed_shoppers(data, warm.since)
        latest = [u for u in checked if fresh[u]]
        checked = latest if len(latest) >= 100 else checked
    valid = ([items.encode(train.sequences[u]) for u in checked],
             np.asarray([items.index(targets[u]) for u in checked], dtype=np.int64)) \
        if checked else None
    sources = fit_sources(train, items, products, valid, config, progress, warm)
    histories = {u: s[-config.engine.history_len:] for u, s in zip(train.users, train.sequences,
                                                                   strict=True)}
    engine = RecommendationEngine(items, sources, {p.item_id: p for p in products}, histories,
                                  config=config.engine)
    sasrec = sources.get("sasrec")
    if isinstance(sasrec, SequentialRetriever) and sasrec.model_ is not None:
        # how it was trained and whether it converged (status.json, shown on /admin)
        engine.info["sasrec"] = sasrec.model_.training_report(train.n_events)
    blend = choose_blend_weight(engine, train, targets,
                                [u for u in held if u not in set(rankers[1])], config.seed)
    engine.info["ranker"] = {**blend, **fit_ranker(engine, train, targets, rankers, config,
                                                   progress)} if held else {}
    _replay_holdout(engine, data, held)
    if data.timestamps is not None and data.n_events:
        engine.info["last_event_at"] = max(max(ts) for ts in data.timestamps if ts)
    engine.info["training"] = "incremental" if warm is not None else "full"
    engine.info.update({"trained_seconds": round(time.perf_counter() - started, 1),
                        "events": data.n_events, "users": len(data.users), "items": len(items)})
    return engine


def _replay_holdout(engine: RecommendationEngine, data: Interactions, held: Sequence[int]) -> None:
    """Feed each held-out last event through the online path."""
    from shopsense.domain import Event

    for u in held:
        stamp = data.timestamps[u][-1] if data.timestamps is not None else 0.0
        kind = data.kinds[u][-1] if data.kinds is not None else "view"
        session = data.sessions[u][-1] if data.sessions is not None else None
        engine.observe(Event(event_id=f"holdout-{u}", event_type=kind, timestamp=stamp,
                             user_id=data.users[u], session_id=session,
                             item_id=data.sequences[u][-1]))


def train_from_store(settings: Any, *, max_minutes: float = 15.0,
                     progress: Progress = _quiet, ray_workers: int = 0,
                     ray_address: str = "", incremental: bool = False) -> dict[str, Any]:
    """`shopsense train`: every recommendation model on the store's events and catalogue,
    saved as a new version under <home>/models/recs/ (the `current` pointer moves last).
    `ray_workers` > 0 trains SASRec data-parallel on Ray (local, or the cluster at
    `ray_address`). `incremental` continues the serving version's SASRec when there is one
    (in this process); otherwise, or when it cannot be continued, it trains from scratch."""
    from dataclasses import replace

    from shopsense.models.interactions import interactions_from_events
    from shopsense.pipeline.recommend import save_version
    from shopsense.store import open_store

    store = open_store(settings.store_url)
    progress("stage", {"reading": settings.store_url})
    data = interactions_from_events(store.iter_events())
    products = list(store.iter_products())
    config = TrainConfig(sasrec=replace(SASRecConfig(), time_budget_s=max_minutes * 60.0),
                         ray_workers=ray_workers, ray_address=ray_address)
    warm = serving_warm_start(settings.home, products, config.sasrec) if incremental else None
    if incremental and isinstance(warm, str):
        progress("stage", {"incremental": warm})
    engine = train_all(data, products, config, progress,
                       warm if isinstance(warm, Incremental) else None)
    if isinstance(warm, str):
        engine.info["incremental_skipped"] = warm
    path = save_version(engine, settings.home)
    return {"version": engine.info["version"], "path": str(path), **{
        k: v for k, v in engine.info.items() if k != "version"}}


def serving_warm_start(home: Any, products: Sequence[Product],
                       config: SASRecConfig) -> Incremental | str:
    """The serving version's SASRec to continue, or why there is none to continue."""
    from shopsense.pipeline.recommend import load_current

    try:
        serving = load_current(home, products)
    except FileNotFoundError:
        return "no serving version yet: trained from scratch"
    previous = serving.sources.get("sasrec")
    since = serving.info.get("last_event_at")
    if not isinstance(previous, SequentialRetriever) or since is None:
        return "the serving version has no SASRec or event times: trained from scratch"
    old = previous._model().config
    if (old.dim, old.n_blocks, old.max_len, old.n_heads, old.title_term) != (
            config.dim, config.n_blocks, config.max_len, config.n_heads, config.title_term):
        return "the serving SASRec has another shape: trained from scratch"  # (an adopted
    # federated model with the title term included)
    return Incremental(previous, float(since), str(serving.info.get("version", "")))
