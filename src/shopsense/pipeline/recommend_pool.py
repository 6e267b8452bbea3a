"""A for-you request's candidates as arrays, with Candidate objects only where they are needed.

`RecommendationEngine._ranked` followed by `_finish` builds a `Candidate` (signals, evidence)
for each of ~300 source proposals, merges them into ~200, and runs feedback, rules and the
variety cap over all of them, although one answer shows 24. This module gives the same
answer with less per-candidate Python:

- every source's top items stay index / score arrays; the ranker's feature rows are built
  from them (`rank.recs_features.feature_rows`, the columns `feature_matrix` reads from the
  signals), and every candidate is scored;
- feedback, rules and the variety cap run over bare candidates (item id and ranker score:
  all that any of their decisions reads; they only add signals and evidence of their own);
- full `Candidate`s (signals in the merge's order, evidence from each proposing source's
  `evidence_many`, the ranker's top features) are built for the answer's items only, with
  what those stages recorded on them after their own.

`tests/recs/test_for_you_pool.py` compares the answers with the per-candidate path's on
every shopper of a demo home, with rules (boosts, buries, pins, exclusions) and categories.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from shopsense.domain import Candidate, Product, UserProfile
from shopsense.features.repurchase import RepurchaseRates
from shopsense.models.blend import BlendView
from shopsense.models.context import RecContext
from shopsense.models.source_base import DenseSource
from shopsense.models.sparse_scores import SparseRow
from shopsense.rank.diversity import diversify
from shopsense.rank.feedback import apply_feedback
from shopsense.rank.recs_features import BLEND_PARTS, ShopperView, feature_rows
from shopsense.rank.rules import Rules, apply_rules
from shopsense.retrieve.popular import PopularRetriever

ROW = "_pool_row"  # marks a bare candidate with its row until the answer is built


class CandidatePool:
    """One request's merged, servable candidates in the merge's order, ranked."""

    def __init__(self, engine: Any, ctx: RecContext, sources: dict[str, DenseSource],
                 found: dict[str, tuple[list[int], list[str], list[float]]],
                 parts: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> None:
        self.engine, self.ctx, self.sources, self.found = engine, ctx, sources, found
        self.names = list(found)  # the merge's order: the blend's list comes last
        order = dict.fromkeys(i for name in self.names for i in found[name][1])
        self.ids = [i for i in order if engine.servable(i)]
        self.pos = {item_id: n for n, item_id in enumerate(self.ids)}
        self.where = {name: {item_id: r for r, item_id in enumerate(found[name][1])}
                      for name in self.names}
        self.parts = parts  # the blend's scores and parts over every item
        self.blend_at = np.asarray([engine.items.get(i) for i in self.ids], dtype=np.int64)
        if parts is not None:  # candidates with their own blend score (add_blend_signals)
            safe = np.maximum(self.blend_at, 0)
            self.blend_valid = (self.blend_at >= 0) & np.isfinite(parts[0][safe])
        self.scores = np.zeros(0)
        self.order: list[int] = []
        self.contributions = np.zeros((0, 0))

    @classmethod
    def build(cls, engine: Any, ctx: RecContext, names: Sequence[str], banned: set[str]
              ) -> CandidatePool | None:
        """`engine.candidates(ctx, names, banned)` as arrays; None where this path does not
        apply (no ranker, or a source whose name is not its key): the per-candidate path
        serves those."""
        sources = {n: engine.sources[n] for n in names if n in engine.sources}
        if engine.ranker is None or any(s.name != n for n, s in sources.items()):
            return None
        per = engine.config.candidates_per_source
        blended = "blend" in names and engine.config.blend_weight is not None \
            and "sasrec" in engine.sources
        dense: dict[str, np.ndarray | SparseRow] = {}
        found = {}
        for n, source in sources.items():
            if blended and n in ("sasrec", "covisit"):
                dense[n] = source.request_scores(ctx)
                found[n] = source.top_scored(ctx, dense[n], per, exclude=banned)
            else:
                found[n] = source.top(ctx, per, banned)
        if not blended:
            return cls(engine, ctx, sources, found)
        parts = engine.candidate_blend(ctx, dense, "covisit" in names)
        sources["blend"] = BlendView(engine.sources["sasrec"])
        found["blend"] = sources["blend"].top_scored(ctx, parts[0], per, exclude=banned)
        return cls(engine, ctx, sources, found, parts)

    def __len__(self) -> int:
        return len(self.ids)

    def rank(self, profile: UserProfile | None) -> CandidatePool:
        """Score every candidate with the engine's ranker; order them as `_ranked` does."""
        engine, n = self.engine, len(self.ids)
        sources = engine.ranker_sources
        scores = np.zeros((n, len(sources)))
        ranks = np.full((n, len(sources)), np.nan)
        for j, name in enumerate(sources):
            if name not in self.found:
                continue
            _, listed, values = self.found[name]
            at = np.fromiter((self.pos.get(i, -1) for i in listed), np.int64, len(listed))
            kept = np.flatnonzero(at >= 0)  # the source's ranks (0-based) of servable items
            scores[at[kept], j] = np.asarray(values, dtype=np.float64)[kept]
            ranks[at[kept], j] = kept + 1.0
        blend = np.zeros((n, len(BLEND_PARTS) if "blend" in sources else 0))
        if self.parts is not None and "blend" in sources:
            at = np.where(self.blend_valid, self.blend_at, 0)
            for j, part in enumerate(self.parts[1:]):
                blend[:, j] = np.where(self.blend_valid, part[at], 0.0)
            j = sources.index("blend")
            scores[:, j] = np.where(self.blend_valid, self.parts[0][at], scores[:, j])
        context = getattr(engine.ranker, "reads_context", True)
        shopper = ShopperView.build(self.ctx.recent_items, engine.products, profile) \
            if context else None
        x = feature_rows(scores, ranks, blend, self.ids, sources, shopper, engine.products,
                         popularity_at(engine, self.blend_at) if context else None,
                         self.ctx.now or time.time())
        self.scores = np.asarray(engine.ranker.score(x), dtype=np.float64)
        self.contributions = np.asarray(engine.ranker.contributions(x))
        listed = self.scores.tolist()
        self.order = sorted(range(n), key=lambda i: (-listed[i], self.ids[i]))
        return self

    def candidates(self, rows: Sequence[int]) -> list[Candidate]:
        """Candidates of these rows (in this order) exactly as `_ranked` makes them."""
        evidence: dict[str, dict[str, dict[str, Any]]] = {}
        for name in self.names:
            wanted = [r for r in rows if self.ids[r] in self.where[name]]
            if wanted:
                index = self.found[name][0]
                at = [self.where[name][self.ids[r]] for r in wanted]
                got = self.sources[name].evidence_many(self.ctx, [index[a] for a in at])
                evidence[name] = {self.ids[r]: ev for r, ev in zip(wanted, got, strict=True)}
        contrib = self.contributions[list(rows)]  # the ranker's 3 largest parts, as _ranked
        tops = np.argsort(-np.abs(contrib), axis=1, kind="stable")[:, :3]
        names = np.asarray(self.engine.ranker.feature_names, dtype=object)[tops].tolist()
        values = np.take_along_axis(contrib, tops, axis=1).round(4).tolist()
        scores = self.scores[list(rows)].tolist()
        blended = self._blend_signals(rows)
        out = []
        for n, r in enumerate(rows):
            item_id, score = self.ids[r], scores[n]
            cand = Candidate(item_id, score)
            for name in self.names:
                at = self.where[name].get(item_id)
                if at is None:
                    continue
                cand.signals[name] = self.found[name][2][at]
                cand.signals[f"{name}.rank"] = float(at + 1)
                for key, value in evidence[name][item_id].items():
                    cand.evidence.setdefault(key, value)
            if blended[n] is not None:
                cand.signals.update(blended[n])
            cand.signals["ranker"] = score
            cand.evidence["ranker_top_features"] = dict(zip(names[n], values[n], strict=True))
            out.append(cand)
        return out

    def _blend_signals(self, rows: Sequence[int]) -> list[dict[str, float] | None]:
        """Each row's own blend score and parts as signals (None where it has none)."""
        if self.parts is None:
            return [None] * len(rows)
        valid = self.blend_valid[list(rows)]
        at = np.where(valid, self.blend_at[list(rows)], 0)
        blend, logp, share = (part[at].tolist() for part in self.parts)
        return [{"blend": blend[n], "sasrec.logp": logp[n], "covisit.share": share[n]}
                if ok else None for n, ok in enumerate(valid.tolist())]

    def ranked(self) -> list[Candidate]:
        """Every candidate, best first: what `_ranked(..., k=None)` returns."""
        return self.candidates(self.order)

    def finish(self, k: int, profile: UserProfile | None, rules: Rules | None,
               repurchase: RepurchaseRates | None, half_life_days: float, cap: int | None
               ) -> list[Candidate]:
        """`adjust` and `select` over `ranked()`, run over bare candidates (id and score:
        what every decision of feedback, rules and variety reads), then the answer's items
        get their signals and evidence, with what those stages recorded after them."""
        listed = self.scores.tolist()
        bare = [Candidate(self.ids[r], listed[r], {}, {ROW: r}) for r in self.order]
        answer = select(self.engine.products, adjust(
            self.engine.products, bare, profile, rules, repurchase, half_life_days,
            self.ctx.now or time.time(), self.engine.config), k, cap)
        rows = [c.evidence[ROW] for c in answer if ROW in c.evidence]
        full = dict(zip(rows, self.candidates(rows), strict=True))
        out = []
        for cand in answer:
            row = cand.evidence.pop(ROW, None)  # None: a pin the rules made (not a candidate)
            base = full.get(row) if row is not None else None
            out.append(cand if base is None else Candidate(
                cand.item_id, cand.score, {**base.signals, **cand.signals},
                {**base.evidence, **cand.evidence}))
        return out


def adjust(products: Mapping[str, Product], ranked: list[Candidate],
           profile: UserProfile | None, rules: Rules | None,
           repurchase: RepurchaseRates | None, half_life_days: float, now: float,
           config: Any = None) -> list[Candidate]:
    """The shopper's feedback, then the rules (`rank.feedback`, `rank.rules`); `config`: the
    engine's (`durable_category_strength`: how far other durables of a category the shopper
    bought sink; `apply_feedback`'s 1 when None)."""
    if profile is not None and ranked:
        ranked = apply_feedback(ranked, profile, products, now, half_life_days=half_life_days,
                                repurchase=repurchase, durable_category_strength=getattr(
                                    config, "durable_category_strength", 1.0))
    if rules is not None:
        ranked = apply_rules(ranked, rules, products)
    return ranked


def select(products: Mapping[str, Product], adjusted: list[Candidate], k: int,
           cap: int | None) -> list[Candidate]:
    """The top k under the per-category variety cap (`rank.diversity`), or the top k."""
    if cap is not None and adjusted:
        return diversify(adjusted, products, k=k, lambda_=1.0, max_per_category=cap)
    return adjusted[:k]


def popularity_at(engine: Any, indices: np.ndarray) -> np.ndarray:
    """`engine.popularity_of` as float64 (n,) of items given by the engine's indices (-1, an
    item it does not know, gets 0)."""
    popular = engine.sources.get("popular")
    if not isinstance(popular, PopularRetriever) or popular.scores_ is None:
        return np.zeros(len(indices))
    known = indices >= 0
    return np.where(known, popular.scores_[np.where(known, indices, 0)], 0.0).astype(
        np.float64)
