"""The recommendation surfaces: for you, similar, bought together, trending, next in session,
new shopper, new item. The one place that knows the order: sources -> merge -> rank -> results.

Each result carries every source's score and rank (`signals`) and what a reason can cite
(`evidence`, e.g. `because_item` = "because you viewed X"). `observe(event)` updates the
shopper's history and the online sources in memory, so the next call reflects it."""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from shopsense.domain import Candidate, Event, Product, Result, UserProfile
from shopsense.features.repurchase import RepurchaseRates
from shopsense.models.blend import BlendView, Parts, blend_parts
from shopsense.models.context import RecContext
from shopsense.models.interactions import NON_INTERACTIONS
from shopsense.models.sequences import ItemIndex
from shopsense.models.source_base import DenseSource
from shopsense.models.sparse_scores import SparseRow
from shopsense.pipeline.recommend_pool import CandidatePool, adjust, select
from shopsense.rank.recs_features import (
    ShopperView,
    add_blend_signals,
    feature_matrix,
    merge_candidates,
)
from shopsense.rank.recs_ranker import load_ranker
from shopsense.rank.rules import Rules
from shopsense.retrieve.collaborative import CollaborativeRetriever
from shopsense.retrieve.content import ContentRetriever
from shopsense.retrieve.covisit import CovisitRetriever
from shopsense.retrieve.popular import PopularRetriever, TrendingRetriever
from shopsense.retrieve.sequential import SequentialRetriever

SOURCE_KINDS: dict[str, type] = {
    "popular": PopularRetriever, "trending": TrendingRetriever, "covisit": CovisitRetriever,
    "als": CollaborativeRetriever, "content": ContentRetriever, "sasrec": SequentialRetriever,
}
PERSONAL_SOURCES = ("sasrec", "covisit", "als", "content", "bought_together", "popular")
FOCUSED_MIN_ITEMS = 2  # items in one category before the variety cap is lifted (variety_cap)


@dataclass(frozen=True)
class EngineConfig:
    candidates_per_source: int = 50
    history_len: int = 50
    rrf_k: float = 60.0  # reciprocal-rank fusion constant when no ranker is trained
    max_per_category: int | None = 4  # for-you variety cap (rank.diversity); None = off
    dismiss_half_life_days: float = 14.0
    durable_category_strength: float = 1.0  # rank.feedback; <1 lets a bought category back in
    sources: tuple[str, ...] | None = None  # for-you sources (None: PERSONAL_SOURCES)
    source_weights: dict[str, float] | None = None  # weighted fusion (unnamed sources: 1)
    blend_weight: float | None = None  # SASRec + w x co-visits as a source (None: off)


class RecommendationEngine:
    """Serving object for one trained model version (see `training.recs.train_all`)."""

    name = "recs"

    def __init__(self, items: ItemIndex, sources: Mapping[str, DenseSource],
                 products: Mapping[str, Product], histories: Mapping[str, Sequence[str]],
                 ranker: Any = None, config: EngineConfig | None = None,
                 info: Mapping[str, Any] | None = None) -> None:
        self.items = items
        self.sources = dict(sources)
        self.products = dict(products)
        self.histories: dict[str, list[str]] = {u: list(h) for u, h in histories.items()}
        self.ranker = ranker
        self.config = config or EngineConfig()
        self.info: dict[str, Any] = dict(info or {})

    # -- online updates ------------------------------------------------------------------
    def observe(self, event: Event) -> None:
        """Take one event into account at once (history + co-visits + popularity)."""
        if event.item_id and event.event_type not in NON_INTERACTIONS and event.actor:
            history = self.histories.setdefault(event.actor, [])
            history.append(event.item_id)
            del history[:-self.config.history_len]
        for source in self.sources.values():
            if hasattr(source, "observe"):
                source.observe(event)

    def observe_many(self, events: Iterable[Event]) -> None:
        for event in events:
            self.observe(event)

    def upsert(self, products: Iterable[Product]) -> None:
        self.products.update({p.item_id: p for p in products})

    def remove(self, item_ids: Iterable[str]) -> None:
        for item_id in item_ids:
            self.products.pop(item_id, None)

    def forget(self, user_id: str) -> None:
        self.histories.pop(user_id, None)

    # -- surfaces ------------------------------------------------------------------------
    def for_you(self, user_id: str | None, k: int = 10, context: RecContext | None = None,
                profile: UserProfile | None = None, exclude: Iterable[str] = (),
                rules: Rules | None = None, repurchase: RepurchaseRates | None = None,
                half_life_days: float | None = None) -> list[Result]:
        """Personal top-k: the user's history (plus the context's live items) through every
        personal source, merged and ranked; then the shopper's feedback (dismissals,
        purchases, with the shop's learned `repurchase` rates; needs `profile`), the shop's
        `rules` and a per-category variety cap, in that order, so the top k keep the cap. A
        new shopper gets trending + popular through the same feedback and rules. The list is
        a prefix of the one for any larger k (while no thin-history top-up differs)."""
        recent = [*self.histories.get(user_id or "", []), *(context.recent_items if context else ())]
        recent = recent[-self.config.history_len:]
        asked = context or RecContext()  # its category and time (`now`) hold for the request
        ctx = RecContext(user_id, tuple(recent), asked.category, asked.now)
        if not recent:
            found = self.new_shopper(k=3 * k + 10, category=ctx.category, exclude=exclude)
            ranked = [Candidate(r.item_id, float(len(found) - n), dict(r.signals),
                                dict(r.evidence)) for n, r in enumerate(found)]  # keep order
            return self._results(self._finish(ranked, k, profile, rules, repurchase,
                                              half_life_days, now=ctx.now))
        banned = {*recent, *exclude}
        half_life = half_life_days or self.config.dismiss_half_life_days
        pool = CandidatePool.build(self, ctx, self.personal_names(), banned)
        if pool is not None and len(pool) >= 2 * k:  # the same answer, less Python
            return self._results(pool.rank(profile).finish(
                k, profile, rules, repurchase, half_life, self.variety_cap(recent)))
        ranked = pool.rank(profile).ranked() if pool is not None else \
            self._ranked(ctx, self.personal_names(), None, banned, profile)
        if len(ranked) < 2 * k:  # thin history: top up with what is rising / popular
            seen = banned | {c.item_id for c in ranked}
            floor = min((c.score for c in ranked), default=0.0)
            extra = self._fused_candidates(RecContext(category=ctx.category),
                                           ("trending", "popular"), 2 * k, seen)
            for n, cand in enumerate(extra):
                cand.score = floor - 1.0 - n  # always below every personal candidate
            ranked += extra
        return self._results(self._finish(ranked, k, profile, rules, repurchase,
                                          half_life_days, self.variety_cap(recent), ctx.now))

    def variety_cap(self, recent: Sequence[str]) -> int | None:
        """The per-category cap for this shopper: none while at least half of their last 10
        items, and at least `FOCUSED_MIN_ITEMS`, sit in one category (they are shopping for
        it: capping it pushed the item they went on to want out of the list, -0.033 nDCG@10
        on the demo, benchmarks/README.md), `max_per_category` otherwise."""
        cap = self.config.max_per_category
        cats = Counter(p.category for i in recent[-10:]
                       if (p := self.products.get(i)) is not None and p.category)
        top = cats.most_common(1)[0][1] if cats else 0
        if cap is not None and top >= FOCUSED_MIN_ITEMS and 2 * top >= sum(cats.values()):
            return None
        return cap

    def _finish(self, ranked: list[Candidate], k: int, profile: UserProfile | None,
                rules: Rules | None, repurchase: RepurchaseRates | None = None,
                half_life_days: float | None = None, cap: int | str | None = "config",
                now: float | None = None) -> list[Candidate]:
        """Feedback (decayed to `now`, else the clock's time), business rules and variety, in
        that order (rank.feedback / rules / diversity); each records what it changed."""
        adjusted = adjust(self.products, ranked, profile, rules, repurchase, half_life_days or
                          self.config.dismiss_half_life_days, now or time.time(), self.config)
        return select(self.products, adjusted, k,
                      self.config.max_per_category if cap == "config" else cap)

    def next_in_session(self, session_items: Sequence[str], k: int = 10,
                        exclude: Iterable[str] = ()) -> list[Result]:
        ctx = RecContext(recent_items=tuple(session_items))
        return self._results(self._ranked(ctx, ("sasrec", "covisit", "content"), k,
                                          {*session_items, *exclude}, None))

    def similar(self, item_id: str, k: int = 10) -> list[Result]:
        """Items like this one: co-viewed, and alike in text (works for brand-new items)."""
        return self._fused(RecContext(recent_items=(item_id,)), ("covisit", "content"), k,
                           {item_id})

    def bought_together(self, item_id: str, k: int = 10) -> list[Result]:
        return self._fused(RecContext(recent_items=(item_id,)), ("bought_together",), k,
                           {item_id})

    def trending(self, category: str | None = None, k: int = 10) -> list[Result]:
        """Rising items (velocity), topped up with popular ones; optionally in a category."""
        ctx = RecContext(category=category)
        found = self._fused(ctx, ("trending",), k, set())
        seen = {r.item_id for r in found}
        return found + self._fused(ctx, ("popular",), k - len(found), seen)

    def new_shopper(self, session_items: Sequence[str] = (), k: int = 10,
                    category: str | None = None, exclude: Iterable[str] = ()) -> list[Result]:
        """Day-one shopper: items like anything already viewed (text, co-visits), topped up
        with trending and popular items."""
        ctx = RecContext(recent_items=tuple(session_items), category=category)
        banned = {*session_items, *exclude}
        found = self._fused(ctx, ("content", "covisit"), k, banned) if session_items else []
        banned |= {r.item_id for r in found}
        found += self._fused(ctx, ("trending",), k - len(found), banned)
        banned |= {r.item_id for r in found}
        return found + self._fused(ctx, ("popular",), k - len(found), banned)

    def new_item(self, item_id: str, k: int = 10) -> list[Result]:
        """Items similar to a product nobody has interacted with yet (text only)."""
        return self._fused(RecContext(recent_items=(item_id,)), ("content",), k, {item_id})

    # -- assembly ------------------------------------------------------------------------
    def personal_names(self) -> tuple[str, ...]:
        """The for-you sources: the configured ones, and the blend of SASRec and co-visits
        (`blend`) when training set its weight and SASRec is among them."""
        names = tuple(self.config.sources or PERSONAL_SOURCES)
        if self.config.blend_weight is not None and "sasrec" in names and "blend" not in names:
            return (*names, "blend")
        return names

    def candidates(self, ctx: RecContext, names: Sequence[str], banned: set[str]
                   ) -> list[Candidate]:
        """Every named source's top candidates, merged; with `blend` among the names, the
        blend's own top candidates too, and every candidate carries its blend score and
        parts (`candidate_blend`), whichever source proposed it."""
        per = self.config.candidates_per_source
        blended = "blend" in names and self.config.blend_weight is not None \
            and "sasrec" in self.sources
        dense: dict[str, np.ndarray | SparseRow] = {}
        lists: dict[str, list[Candidate]] = {}
        for n in names:
            if n not in self.sources:
                continue
            if blended and n in ("sasrec", "covisit"):
                dense[n] = self.sources[n].request_scores(ctx)
                lists[n] = self.sources[n].retrieve_scored(ctx, dense[n], per, exclude=banned)
            else:
                lists[n] = self.sources[n].retrieve(ctx, per, exclude=banned)
        parts = None
        if blended:
            parts = self.candidate_blend(ctx, dense, "covisit" in names)
            lists["blend"] = BlendView(self.sources["sasrec"]).retrieve_scored(
                ctx, parts[0], per, exclude=banned)
        merged = merge_candidates(lists)
        if parts is not None:
            add_blend_signals(merged, self.items, parts)
        return [c for c in merged if self.servable(c.item_id)]

    def candidate_blend(self, ctx: RecContext, dense: dict[str, np.ndarray | SparseRow],
                        covisit: bool) -> tuple[Parts, Parts, Parts]:
        """`models.blend.blend_parts` of this request (SASRec's and co-visits' scores over
        every item, computed once for their own lists too)."""
        for name in ("sasrec", "covisit") if covisit else ("sasrec",):
            if name in self.sources and name not in dense:
                dense[name] = self.sources[name].request_scores(ctx)
        return blend_parts(dense["sasrec"], dense.get("covisit") if covisit else None,
                           float(self.config.blend_weight or 0.0))

    def servable(self, item_id: str) -> bool:
        """False only for an item this engine's catalogue marks unavailable."""
        product = self.products.get(item_id)
        return product is None or product.available

    def _fused(self, ctx: RecContext, names: Sequence[str], k: int, banned: set[str]
               ) -> list[Result]:
        return self._results(self._fused_candidates(ctx, names, k, banned))

    def _fused_candidates(self, ctx: RecContext, names: Sequence[str], k: int | None,
                          banned: set[str]) -> list[Candidate]:
        if k is not None and k <= 0:
            return []
        cands = self.candidates(ctx, names, banned)
        weights = self.config.source_weights or {}
        for c in cands:
            c.score = sum(weights.get(n, 1.0) / (self.config.rrf_k + c.signals[f"{n}.rank"])
                          for n in names if f"{n}.rank" in c.signals)
            c.signals["fusion"] = c.score
        return sorted(cands, key=lambda c: (-c.score, c.item_id))[:k]

    def _ranked(self, ctx: RecContext, names: Sequence[str], k: int | None, banned: set[str],
                profile: UserProfile | None) -> list[Candidate]:
        """Candidates best first (all of them when `k` is None)."""
        if self.ranker is None:
            return self._fused_candidates(ctx, names, k, banned)
        cands = self.candidates(ctx, names, banned)
        if not cands:
            return []
        shopper = ShopperView.build(ctx.recent_items, self.products, profile)
        x = feature_matrix(cands, self.ranker_sources, shopper, self.products,
                           self.popularity_of(c.item_id for c in cands), ctx.now or time.time())
        scores = self.ranker.score(x)
        contrib = np.asarray(self.ranker.contributions(x))
        tops = np.argsort(-np.abs(contrib), axis=1, kind="stable")[:, :3]
        values = np.take_along_axis(contrib, tops, axis=1).round(4).tolist()
        names = np.asarray(self.ranker.feature_names, dtype=object)[tops].tolist()
        for c, s, keys, row in zip(cands, scores.tolist(), names, values, strict=True):
            c.score = s
            c.signals["ranker"] = s
            c.evidence["ranker_top_features"] = dict(zip(keys, row, strict=True))
        return sorted(cands, key=lambda c: (-c.score, c.item_id))[:k]

    def popularity_of(self, item_ids: Iterable[str]) -> dict[str, float]:
        """Current decayed popularity (online updates included) of some items."""
        popular = self.sources.get("popular")
        if not isinstance(popular, PopularRetriever) or popular.scores_ is None:
            return {}
        return {i: float(popular.scores_[self.items.index(i)]) for i in item_ids
                if i in self.items}

    @property
    def ranker_sources(self) -> list[str]:
        return list(self.info.get("ranker_sources", PERSONAL_SOURCES))

    def _results(self, cands: Sequence[Candidate]) -> list[Result]:
        return [Result(item_id=c.item_id, score=float(c.score), product=self.products.get(c.item_id),
                       signals=dict(c.signals), evidence=dict(c.evidence)) for c in cands]

    # -- persistence ---------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.items.save(directory / "items.json")
        kinds = {}
        for name, source in self.sources.items():
            source.save(directory / "sources" / name)
            kinds[name] = json.loads((directory / "sources" / name / "config.json")
                                     .read_text())["kind"]
        if self.ranker is not None:
            self.ranker.save(directory / "ranker")
        (directory / "histories.json").write_text(json.dumps(self.histories, ensure_ascii=False))
        (directory / "engine.json").write_text(json.dumps(
            {"config": asdict(self.config), "sources": kinds, "info": self.info},
            ensure_ascii=False, indent=2, default=str))

    @classmethod
    def load(cls, directory: Path, products: Iterable[Product] = ()) -> RecommendationEngine:
        meta = json.loads((directory / "engine.json").read_text())
        sources = {name: SOURCE_KINDS[kind].load(directory / "sources" / name)
                   for name, kind in meta["sources"].items()}
        ranker = load_ranker(directory / "ranker") if (directory / "ranker").exists() else None
        histories = json.loads((directory / "histories.json").read_text())
        return cls(ItemIndex.load(directory / "items.json"), sources,
                   {p.item_id: p for p in products}, histories, ranker,
                   EngineConfig(**meta["config"]), meta["info"])


# -- versioned artefacts under <home>/models/recs/ ---------------------------------------------
def models_root(home: Path) -> Path:
    return Path(home) / "models" / "recs"


def save_version(engine: RecommendationEngine, home: Path) -> Path:
    """Write a new version directory, then point `current` at it atomically."""
    root = models_root(home)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + f"-{os.getpid()}"
    version, n = stamp, 1
    while (root / version).exists():  # two versions in one second of one process
        version, n = f"{stamp}-{n}", n + 1
    engine.info["version"] = version
    engine.save(root / version)
    tmp = root / f".current.{os.getpid()}"
    tmp.write_text(version)
    os.replace(tmp, root / "current")
    return root / version


def load_current(home: Path, products: Iterable[Product] = ()) -> RecommendationEngine:
    root = models_root(home)
    pointer = root / "current"
    if not pointer.exists():
        raise FileNotFoundError(f"no trained recommendation model under {root}; "
                                "run `shopsense train` first")
    return RecommendationEngine.load(root / pointer.read_text().strip(), products)


def recommend_surface(settings: Any, surface: str, *, user: str | None = None,
                      item: str | None = None, category: str | None = None,
                      session_items: Sequence[str] = (), k: int = 10) -> list[Result]:
    """Load the current engine for a home and answer one surface (raw user ids are
    pseudonymised first, as the store keeps them)."""
    from shopsense.store import open_store

    engine = load_current(settings.home, open_store(settings.store_url).iter_products())
    if surface == "for-you":
        actor = None
        if user:
            from shopsense.ids import Pseudonymizer

            actor = Pseudonymizer.from_home(settings.home).user(user)
        return engine.for_you(actor, k, RecContext(recent_items=tuple(session_items)))
    if surface in ("similar", "bought-together", "new-item"):
        if not item:
            raise ValueError(f"--item is required for {surface}")
        call = {"similar": engine.similar, "bought-together": engine.bought_together,
                "new-item": engine.new_item}[surface]
        return call(item, k)
    if surface == "trending":
        return engine.trending(category, k)
    if surface == "next":
        return engine.next_in_session(list(session_items), k)
    if surface == "new-shopper":
        return engine.new_shopper(list(session_items), k, category)
    raise ValueError(f"unknown surface {surface!r}; one of for-you, similar, bought-together, "
                     "trending, next, new-shopper, new-item")
