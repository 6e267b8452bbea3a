"""Served-path evaluation: the leave-one-out protocol of `evaluation.recs`, answered by the code
a `/v1/recommend` request runs.

`train_all` (every candidate source, the learned ranker, SASRec early-stopped on shoppers the
ranker is not chosen on) is fitted on everything but each scored shopper's last interaction,
exactly as `shopsense train` fits a shop; the engine then replays the events it held out for
its own validation, so each shopper's history reaches up to the held-out test event. Each
test shopper's list comes from `RecommendationEngine.for_you` with the shopper's profile built
from their events before the test event (feedback: dismissals, purchases with the learned
repurchase rates, decayed to the held-out event's time, not the clock's), the shop's rules when
given, and the per-category variety cap, at the depth of the largest k. The blend is scored in the same run on the same SASRec weights, so
`served` and `blend` differ only in what serving adds around the model.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from shopsense.domain import Event, Product, UserProfile
from shopsense.evaluation.metrics import loo_metrics, summarise
from shopsense.evaluation.recs import (
    LeaveOneOut,
    _covisit,
    blend_over,
    blend_report,
    load_split,
    ranking_per_user,
)
from shopsense.features.profile import build_profile
from shopsense.features.repurchase import RepurchaseRates, learn_repurchase_rates
from shopsense.models.blend import SequenceBlend
from shopsense.models.context import RecContext
from shopsense.models.interactions import Interactions
from shopsense.models.sasrec import SASRecConfig
from shopsense.pipeline.recommend import RecommendationEngine
from shopsense.rank.rules import Rules
from shopsense.training.recs import TrainConfig, holdout_split, train_all

BAR = 0.002  # the acceptance: served nDCG@10 >= blend nDCG@10 - 0.002


def evaluate_served(events: Path, catalog: Path | None = None, *, k: int = 10,
                    model_options: dict[str, Any] | None = None,
                    on_epoch: Callable[[dict[str, float]], None] | None = None,
                    ranker_users: int = 3000, rules: Rules | None = None,
                    engine_dir: Path | None = None, served_users: int | None = None,
                    seed: int = 0) -> dict[str, Any]:
    """`evaluation.recs.evaluate_recs` plus a `served` block scored through `for_you`.
    `engine_dir`: the trained engine is saved there, or loaded from there when it holds one
    (so a change to what serves is re-scored without training again). `served_users`: score
    the served path on that many shoppers drawn with `seed` (every figure it is compared with
    is then taken on the same shoppers); None: all of them."""
    data, products, split = load_split(events, catalog)
    started = time.perf_counter()
    if engine_dir is not None and (engine_dir / "engine.json").exists():
        engine = RecommendationEngine.load(engine_dir, products)
    else:
        engine = train_served(data, split, products, model_options, on_epoch, ranker_users)
        if engine_dir is not None:
            engine.save(engine_dir)
    sasrec = engine.sources.get("sasrec")
    if sasrec is None:
        raise ValueError("the trained engine has no sequential model to blend")
    blend = engine_blend(engine, sasrec.model_, split)  # type: ignore[attr-defined]
    blend_users: dict[str, np.ndarray] = {}
    report = blend_report(events, catalog, data, products, split, blend, k,
                          time.perf_counter() - started, blend_users)
    report["protocol"] += "; served: the /v1/recommend path (sources, ranker, feedback, " \
                          "rules, variety cap) with history up to the held-out event"
    ks = sorted({k, 10, 20})
    chosen = served_sample(len(split.test_users), served_users, seed)
    hidden = any(not p.available for p in products)  # else blend_servable is the blend
    baselines = {"blend": _rows(blend_users, chosen), "blend_servable": _rows(
        servable_blend(blend, split, products, ks) if hidden else blend_users, chosen)}
    report["blend_servable"] = {**summarise(baselines["blend_servable"]),
                                "model": "the blend over the items serving may show (the "
                                         "catalogue's available ones)"}
    if served_users is not None:
        report["blend_on_served_users"] = summarise(baselines["blend"])
    report.update(served_blocks(engine, data, products, ks, chosen, rules, baselines))
    report["bar"] = acceptance(report)
    return report


def engine_blend(engine: RecommendationEngine, model: Any, split: LeaveOneOut
                 ) -> SequenceBlend:
    """The blend on the served engine's SASRec at the engine's own co-visit weight, which
    `train_all` chose on shoppers whose last events SASRec did not train on. Not refitted on
    the split's validation targets: the served SASRec trained on most of them (only each
    scored shopper's test event is held out), so they favour SASRec alone (beauty-18k:
    valid nDCG@10 0.137 at weight 0, the weight that refit chose, against 0.064 on truly
    held-out targets). An engine without a weight: fitted on the validation targets."""
    weight = engine.config.blend_weight
    if weight is None:
        return blend_over(model, split)
    return SequenceBlend(model, _covisit(split.items, split.train), split.items,
                         weight=float(weight))


def served_sample(n_users: int, wanted: int | None, seed: int) -> np.ndarray:
    """Positions (in test order) of the shoppers the served path scores: all, or a seeded
    sample of `wanted` kept in test order."""
    if wanted is None or wanted >= n_users:
        return np.arange(n_users)
    if wanted < 1:
        raise ValueError(f"served_users must be >= 1, got {wanted}")
    return np.sort(np.random.default_rng(seed).choice(n_users, size=wanted, replace=False))


def _rows(per_user: dict[str, np.ndarray], chosen: np.ndarray) -> dict[str, np.ndarray]:
    return {name: values[chosen] for name, values in per_user.items()}


def served_blocks(engine: RecommendationEngine, data: Interactions,
                  products: Sequence[Product], ks: Sequence[int], chosen: np.ndarray,
                  rules: Rules | None, baselines: dict[str, dict[str, np.ndarray]]
                  ) -> dict[str, Any]:
    """`served` (today's stock) against both blends, and, when some product is out of stock,
    `served_stock_at_event`: the same path with every product servable, as the plain blend
    ranks them (stock when the held-out event happened is unknown, and the held-out item
    itself was evidently on sale then)."""
    out: dict[str, Any] = {}
    variants = [("served", products)]
    if any(not p.available for p in products):
        variants.append(("served_stock_at_event",
                         [replace(p, available=True) for p in products]))
    for name, catalogue in variants:
        scoring = time.perf_counter()
        if catalogue is not products:
            engine.upsert(catalogue)
        ranks, shown = served_ranks(engine, data, catalogue, max(ks), rules, chosen)
        users = loo_metrics(ranks, ks)
        for base, values in baselines.items():  # same shoppers, same order: paired
            out[f"{name}_minus_{base}"] = summarise({m: users[m] - values[m] for m in users})
        out[name] = {**summarise(users), "users": int(chosen.size),
                     "coverage@10": round(len(shown) / max(len(engine.items), 1), 5),
                     "eval_seconds": round(time.perf_counter() - scoring, 1)}
    if len(variants) > 1:
        engine.upsert(products)
        out["served_stock_at_event"]["model"] = "for_you with every product servable"
    out["served"].update({"model": "for_you: every source + ranker + feedback + rules + "
                                   "variety cap",
                          "ranker": engine.info.get("ranker", {}),
                          "sources": sorted(engine.sources)})
    return out


def acceptance(report: dict[str, Any]) -> dict[str, Any]:
    """The issue's bar (served nDCG@10 >= blend - 0.002), stated plainly against the blend and
    like for like where stock differs: today's stock on both sides (`blend_servable`), and
    stock as at the held-out event on both sides (`served_stock_at_event` vs `blend`)."""
    pairs = [("plain", "served", "blend", "served_minus_blend"),
             ("like_for_like_stock_now", "served", "blend_servable",
              "served_minus_blend_servable")]
    if "served_stock_at_event" in report:
        pairs.append(("like_for_like_stock_at_event", "served_stock_at_event", "blend",
                      "served_stock_at_event_minus_blend"))
    sampled = "blend_on_served_users" in report
    out: dict[str, Any] = {"rule": f"served ndcg@10 >= blend ndcg@10 - {BAR}",
                           "same_users": "every comparison is paired on the served shoppers"}
    for label, served, base, gap in pairs:
        gap_value = report[gap]["ndcg@10"]
        out[label] = {"served": served, "versus": base,
                      "served_ndcg@10": report[served]["ndcg@10"],
                      "gap": gap_value, "gap_ci": report[gap]["ndcg@10_ci"],
                      "met": gap_value >= -BAR}
        if not sampled:
            out[label]["versus_ndcg@10"] = report[base]["ndcg@10"]
    return out


def servable_blend(blend: Any, split: LeaveOneOut, products: Sequence[Product],
                   ks: Sequence[int]) -> dict[str, np.ndarray]:
    """Per-user metrics of the blend ranking only items serving may show: the served path
    never shows an unavailable product, while the plain blend ranks them (a held-out purchase
    of an item out of stock now is a hit the served path cannot have)."""
    hidden = np.array([not p.available for p in products if p.item_id in split.items],
                      dtype=bool)
    rows = np.array([split.items.index(p.item_id) for p in products
                     if p.item_id in split.items], dtype=np.int64)[hidden]
    test_covisit = _covisit(split.items, [*split.test_histories, *split.short])
    scorer = blend.with_covisit(test_covisit)

    def score(histories: Sequence[np.ndarray]) -> np.ndarray:
        out = np.asarray(scorer(histories), dtype=np.float64)
        out[:, rows] = -np.inf
        return out

    per_user, _ = ranking_per_user(score, split.test_histories, split.test_targets, ks)
    return per_user


def train_served(data: Interactions, split: LeaveOneOut, products: Sequence[Product],
                 model_options: dict[str, Any] | None,
                 on_epoch: Callable[[dict[str, float]], None] | None,
                 ranker_users: int) -> RecommendationEngine:
    """The serving engine fitted on everything but each scored shopper's last interaction."""
    train, _ = holdout_split(data)
    sasrec = SASRecConfig(**{**asdict(SASRecConfig()), **(model_options or {})})
    config = TrainConfig(sasrec=sasrec, ranker_users=ranker_users)

    def progress(stage: str, info: dict[str, Any]) -> None:
        if stage == "sasrec.epoch" and on_epoch is not None:
            on_epoch(info)

    return train_all(train, products, config, progress, items=split.items)


def interaction_events(data: Interactions) -> list[list[Event]]:
    """Each user's interactions as events (a plain `user item …` file: views one second
    apart)."""
    out: list[list[Event]] = []
    for u, (user, seq) in enumerate(zip(data.users, data.sequences, strict=True)):
        stamps = data.timestamps[u] if data.timestamps is not None else range(len(seq))
        kinds = data.kinds[u] if data.kinds is not None else ["view"] * len(seq)
        sessions = data.sessions[u] if data.sessions is not None else [None] * len(seq)
        out.append([Event(f"{u}-{n}", kind, float(stamp), user_id=user, session_id=session,
                          item_id=item)
                    for n, (item, stamp, kind, session) in enumerate(
                        zip(seq, stamps, kinds, sessions, strict=True))])
    return out


def served_ranks(engine: RecommendationEngine, data: Interactions,
                 products: Sequence[Product], depth: int, rules: Rules | None = None,
                 chosen: np.ndarray | None = None) -> tuple[np.ndarray, set[str]]:
    """0-based rank of each scored shopper's held-out item in their served list (-1: not
    in it) and the items shown in any top 10. `chosen`: positions among the scored shoppers
    (test order) to score; None: all."""
    ranks: list[int] = []
    shown: set[str] = set()
    for request in served_requests(engine, data, products, chosen):
        found = [r.item_id for r in engine.for_you(
            request.user, k=depth, context=RecContext(now=request.now), profile=request.profile,
            rules=rules, repurchase=request.repurchase)]
        shown.update(found[:10])
        ranks.append(found.index(request.target) if request.target in found else -1)
    return np.asarray(ranks, dtype=np.int64), shown


@dataclass(frozen=True)
class ServedRequest:
    """One scored shopper's for-you request as the served evaluation asks it."""

    user: str
    target: str  # the held-out item
    profile: UserProfile  # from the shopper's events before the held-out one
    repurchase: RepurchaseRates
    now: float  # the held-out event's time: feedback decays to it, not to the clock's


def served_requests(engine: RecommendationEngine, data: Interactions,
                    products: Sequence[Product], chosen: np.ndarray | None = None
                    ) -> Iterator[ServedRequest]:
    """Each scored shopper's request (shoppers with 3 or more interactions, in test order;
    `chosen`: positions among them), yielded while `SharedScores` serves that shopper's
    batched SASRec / content scores, so `for_you` (or any part of it) called with it scores
    as the served evaluation does."""
    catalogue = {p.item_id: p for p in products}
    events = interaction_events(data)
    history = [e for evs in events for e in (evs[:-1] if len(evs) >= 3 else evs)]
    repurchase = learn_repurchase_rates(history, catalogue)
    scored = [(user, mine) for user, mine in zip(data.users, events, strict=True)
              if len(mine) >= 3]
    picked = scored if chosen is None else [scored[i] for i in chosen]
    shared = SharedScores(engine)
    for n, (user, mine) in enumerate(picked):
        if n % SHARED_BATCH == 0:
            shared.fill([user for user, _ in picked[n:n + SHARED_BATCH]])
        target = mine[-1]
        profile = build_profile(user, mine[:-1], catalogue, now=target.timestamp)
        with shared:
            yield ServedRequest(user, str(target.item_id), profile, repurchase,
                                target.timestamp)


SHARED_BATCH = 256  # shoppers whose SASRec / content scores are computed together


class SharedScores:
    """The scores of a batch of shoppers from the sources that batch well (SASRec: one
    forward pass; content: one matrix product), handed to `for_you` by those sources'
    `score_all` for exactly those shoppers' requests (keyed by the recent items `for_you`
    asks with; any other request scores as usual). Used as `with shared:` around each
    request, so the engine is untouched outside it. Equal to per-request scoring within
    float32 rounding."""

    BATCHED = ("sasrec", "content")

    def __init__(self, engine: RecommendationEngine) -> None:
        self.engine = engine
        self.sources = {n: s for n, s in engine.sources.items() if n in self.BATCHED}
        self.table: dict[str, dict[tuple[str, ...], np.ndarray]] = {}

    def fill(self, users: Sequence[str]) -> None:
        """Score these shoppers' current histories (as `for_you` will read them)."""
        keep = self.engine.config.history_len
        recents = list(dict.fromkeys(tuple(self.engine.histories.get(u, [])[-keep:])
                                     for u in users))
        contexts = [RecContext(recent_items=r) for r in recents]
        self.table = {name: dict(zip(recents, source.score_many(contexts), strict=True))
                      for name, source in self.sources.items()}

    def __enter__(self) -> SharedScores:
        for name, source in self.sources.items():
            source.score_all = self._lookup(name, type(source).score_all.__get__(source))
        return self

    def __exit__(self, *exc: object) -> None:
        for source in self.sources.values():
            vars(source).pop("score_all", None)

    def _lookup(self, name: str, score_all: Callable[[RecContext], np.ndarray]
                ) -> Callable[[RecContext], np.ndarray]:
        table = self.table.get(name, {})

        def score(context: RecContext) -> np.ndarray:
            found = table.get(context.recent_items) if context.category is None else None
            return found if found is not None else score_all(context)
        return score
