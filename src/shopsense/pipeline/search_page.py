"""One search's selection and page: filters (with the honest reading plan), value-word pulls,
personal adjustments, ordering and the signals every result carries.

`select` runs once per query and filters (shopper-independent, cached by the engine);
`rank_page` runs per request (personal boosts, the page window, evidence).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from shopsense.domain import QueryReading, Result, UserProfile
from shopsense.explain.reasons import Contributions, group_parts
from shopsense.index.rowsets import difference, member, union
from shopsense.index.sells import NoExactMatch
from shopsense.rank.filters import (
    Clause,
    apply_clauses,
    category_rows,
    facets_following,
    filter_with_relaxation,
    paginate,
    sort_rows,
)
from shopsense.rank.honest import (
    ReadingPlan,
    price_summary,
    reading_plan,
    value_effect,
    value_scores,
)
from shopsense.rank.search_features import FEATURE_NAMES, QueryContext
from shopsense.retrieve.hybrid import CandidateSet
from shopsense.text.tokenize import tokenize

if TYPE_CHECKING:
    from shopsense.pipeline.search import SearchEngine


@dataclass
class Selection:
    """Rows left after filters; the ranked candidates among them with their features."""

    kept: np.ndarray
    rows: np.ndarray
    scores: np.ndarray
    features: np.ndarray
    bm25: np.ndarray
    semantic: np.ndarray
    facets: dict[str, Any]
    applied: list[Clause]
    relaxed: list[dict[str, Any]]
    soft: list[Clause]
    others: np.ndarray  # kept rows beyond the ranked candidates, and their BM25F
    others_bm25: np.ndarray
    value: np.ndarray | None = None  # per ranked row, the value-word price fit (-1 .. 1)
    others_value: np.ndarray | None = None  # the same for `others`
    value_word: str | None = None
    no_exact_match: NoExactMatch | None = None
    matched: dict[int, dict[str, list[str]]] = field(default_factory=dict)  # row -> terms
    parts: dict[int, tuple[dict[str, float], dict[str, float], dict[str, float]]] = field(
        default_factory=dict)  # j -> its contributions, rounded for display, and grouped

    def matched_terms(self, engine: SearchEngine, terms: Sequence[str], rows: np.ndarray
                      ) -> list[dict[str, list[str]]]:
        """The query terms each row matches, per field (memoised with the cached stage)."""
        todo = [r for r in rows.tolist() if r not in self.matched]
        if todo:
            found = engine.keyword.field_matches(terms, todo)
            self.matched.update(zip(todo, found, strict=True))
        return [self.matched[r] for r in rows.tolist()]

    def contributions(self, ranker: Any, js: list[int]
                      ) -> list[tuple[dict[str, float], dict[str, float], dict[str, float]]]:
        """The ranker's non-zero parts of each candidate's score, the same rounded to 6
        places, and those grouped as reasons cite them (`group_parts`); memoised with the
        cached stage, whose key names the ranker: they depend on the query's features only,
        not the shopper. Shared: read, do not change."""
        todo = [j for j in dict.fromkeys(js) if j not in self.parts]
        for j, parts in zip(todo, _contributions(ranker, self.features, todo), strict=True):
            rounded = {n: round(v, 6) for n, v in parts.items()}
            self.parts[j] = (parts, rounded, group_parts(rounded.items()))
        return [self.parts[j] for j in js]


@dataclass(frozen=True)
class Kept:
    """What a search's filters keep of its matches (`filtered`): the reading's plan, the
    matching rows, the rows kept and the clauses applied / relaxed, and which of the ranked
    candidates are kept (`keep`, a mask over the candidate rows)."""

    plan: ReadingPlan
    match_rows: np.ndarray
    kept: np.ndarray
    applied: list[Clause]
    relaxed: list[dict[str, Any]]
    keep: np.ndarray


def filtered(engine: SearchEngine, found: CandidateSet, filters: Sequence[Clause],
             reading: QueryReading | None, verdict: NoExactMatch | None = None) -> Kept:
    plan = reading_plan(reading, verdict is not None)
    match_rows = found.match_rows
    if plan.expand_category is not None:  # the reading explains the query: its category matches
        rows = category_rows(engine.table, plan.expand_category)
        match_rows = union(match_rows, rows[engine.keyword.alive_[rows]])
    kept, applied, relaxed = filter_with_relaxation([*filters, *plan.hard], engine.table,
                                                    match_rows)
    return Kept(plan, match_rows, kept, applied, relaxed,
                member(kept, found.rows))  # kept is ascending (a filtered match set)


def select(engine: SearchEngine, found: CandidateSet, features: np.ndarray, kept: Kept,
           with_facets: bool, verdict: NoExactMatch | None = None) -> Selection:
    """`features`: those of the candidates `kept` keeps (`found.rows[kept.keep]`)."""
    plan, keep = kept.plan, kept.keep
    scores = engine.ranker.score(features) if keep.any() else np.zeros(0, np.float32)
    others = difference(kept.kept, found.rows[keep])
    others_score = found.keyword.bm25_of(others)
    if plan.expand_category is not None:
        others_score = others_score + _cosines(engine, found, others)
    value = others_value = None
    if plan.value is not None and len(kept.kept):
        value = value_scores(plan.value, engine.table.price_[found.rows[keep]],
                             engine.table.price_[kept.kept])
        others_value = value_scores(plan.value, engine.table.price_[others],
                                    engine.table.price_[kept.kept])
    return Selection(kept.kept, found.rows[keep], np.asarray(scores, np.float32), features,
                     found.bm25[keep], found.semantic[keep],
                     facets_following(engine.table, kept.match_rows, kept.applied, kept.kept)
                     if with_facets else {}, kept.applied, kept.relaxed,
                     plan.soft, others, others_score, value, others_value, plan.value, verdict)


def _cosines(engine: SearchEngine, found: CandidateSet, rows: np.ndarray,
             limit: int = 5000) -> np.ndarray:
    """The query's cosine with `rows` (matches beyond the ranked candidates), to order them
    by meaning; zeros without an encoder or past `limit` rows."""
    out = np.zeros(len(rows), dtype=np.float32)
    if engine.vector is None or found.query_vector is None or not 0 < len(rows) <= limit:
        return out
    vectors = engine.vector.vectors_of([engine.keyword.item_ids_[r] for r in rows.tolist()])
    return np.asarray(vectors @ found.query_vector, dtype=np.float32)


def stage_bytes(stage: tuple[Any, Selection, Any]) -> float:
    """Approximate memory of one cached query stage (its arrays plus a fixed overhead)."""
    sel = stage[1]
    arrays = (sel.kept, sel.rows, sel.scores, sel.features, sel.bm25, sel.semantic, sel.others,
              sel.others_bm25)
    return (8192 + sum(a.nbytes for a in arrays) + 512 * len(sel.matched)
            + 1024 * len(sel.parts))  # a part: its values and their rounding


def rank_page(engine: SearchEngine, sel: Selection, ctx: QueryContext, sort: str, page: int,
               k: int, profile: UserProfile | None, now: float) -> tuple[list[Result], int]:
    scores = sel.scores.copy()
    # adjustments are relative to the spread of this query's top-20 ranker scores
    head = np.partition(scores, len(scores) - 20)[-20:] if len(scores) > 20 else scores
    scale = max(float(head.max() - head.min()), 1e-3) if len(head) > 1 else 1.0
    extra: dict[str, np.ndarray] = {}
    for clause in sel.soft:
        hit = np.isin(sel.rows, apply_clauses([clause], engine.table, sel.rows))
        extra.setdefault("intent.boost", np.zeros(len(scores), np.float32))
        extra["intent.boost"] += 0.5 * scale * clause.confidence * hit
    if sel.value is not None and len(scores):
        extra["intent.value"] = VALUE_BOOST * scale * sel.value
    personal_evidence: list[dict[str, object]] = [{} for _ in range(len(scores))]
    if profile is not None and len(scores):
        products = [engine.table.products_[r] for r in sel.rows.tolist()]
        gone = [p for p in (engine.table.get(i) for i in profile.dismissed) if p is not None]
        vectors = dismissed_vectors = None
        if engine.vector is not None and gone:  # the vectors find variants of dismissed items
            vectors = engine.vector.vectors_of([p.item_id for p in products])
            dismissed_vectors = engine.vector.vectors_of([p.item_id for p in gone])
        adj = engine.personal.adjust(profile, products, now, vectors, gone, dismissed_vectors)
        extra["personal.boost"] = adj.boost * scale
        extra["personal.dismiss_penalty"] = -adj.penalty * scale
        personal_evidence = adj.evidence
    for values in extra.values():
        scores += values
    page_rows, page_scores, total = _order_page(engine, sel, scores, sort, page, k, scale)
    return _page_results(engine, sel, ctx, page_rows, page_scores, extra,
                         personal_evidence), total


def _page_results(engine: SearchEngine, sel: Selection, ctx: QueryContext,
                  page_rows: np.ndarray, page_scores: np.ndarray,
                  extra: dict[str, np.ndarray], personal_evidence: list[dict[str, object]]
                  ) -> list[Result]:
    """The page's results with their signals and evidence: terms matched (as the shopper
    typed them) and the score's contributions on the serving ranker's own scale."""
    position = {int(r): j for j, r in enumerate(sel.rows.tolist())}
    typed = typed_words(ctx.text, ctx.corrections)
    evidence = sel.matched_terms(engine, ctx.terms, page_rows)
    js = [position.get(r) for r in page_rows.tolist()]
    ranked = [j for j in js if j is not None]
    parts = iter(sel.contributions(engine.ranker, ranked))
    # the ranked rows' signals as plain floats, gathered once (not a numpy scalar per value)
    cols = [FEATURE_NAMES.index(name) for name in SIGNAL_FEATURES]
    gathered = np.column_stack([sel.scores[ranked], sel.bm25[ranked], sel.semantic[ranked],
                                sel.features[ranked][:, cols]]).tolist() if ranked else []
    names = ("ranker", "bm25f", "semantic", *SIGNAL_FEATURES)
    signal_of = dict(zip(ranked, gathered, strict=True))
    extras = {name: v[ranked].tolist() for name, v in extra.items()}
    extra_of = {j: {name: v[i] for name, v in extras.items() if v[i] != 0}
                for i, j in enumerate(ranked)}
    results = []
    for r, score, ev, j in zip(page_rows.tolist(), page_scores.tolist(), evidence, js,
                               strict=True):
        signals = {"score": score}
        item_evidence: dict[str, Any] = {
            "matched": {f: list(dict.fromkeys(typed.get(t, t) for t in terms))
                        for f, terms in ev.items()}}
        if j is not None:
            signals.update(zip(names, signal_of[j], strict=True))
            added = extra_of[j]
            signals.update(added)
            values, rounded, grouped = next(parts)
            shares = {**values, **added}
            shown = {n: round(v, 6) for n, v in added.items()}
            contributions = item_evidence["contributions"] = Contributions({**rounded, **shown})
            if not shown.keys() & rounded.keys():  # else the sums' order differs: not ahead
                contributions.grouped = group_parts(shown.items(), dict(grouped))
            item_evidence["unexplained"] = round(score - sum(shares.values()), 6)
        else:  # a match past the ranked candidates: placed after them, by keyword score
            item_evidence["contributions"] = {}
            item_evidence["unexplained"] = round(score, 6)
        if ctx.corrections:
            item_evidence["corrections"] = ctx.corrections
        if j is not None and personal_evidence[j]:
            item_evidence["personal"] = personal_evidence[j]
        results.append(Result(engine.table.products_[r].item_id, score,
                              engine.table.products_[r], signals, evidence=item_evidence))
    return results


def _contributions(ranker: Any, features: np.ndarray, js: list[int]) -> list[dict[str, float]]:
    """Per ranked page row, the ranker's non-zero additive parts of its score (`explain`)."""
    explain = getattr(ranker, "explain", None)
    if explain is None or not js:
        return [{} for _ in js]
    if getattr(ranker, "mode_", None) == "model":  # per row (path contributions): the page's
        names, table = ranker.explain_table(features[js])  # rows, as one table
        return [{n: v for n, v in zip(names, row, strict=True) if v != 0}
                for row in table.tolist()]
    parts = explain(features)  # normalised over the query's candidates
    names = list(parts)
    table = np.column_stack([np.asarray(parts[n], np.float64)[js] for n in names]).tolist()
    return [{n: v for n, v in zip(names, row, strict=True) if v != 0} for row in table]


def typed_words(text: str, corrections: dict[str, str]) -> dict[str, str]:
    """Index term -> the word the shopper typed for it (stems and corrections undone; a
    Chinese term is already a piece of what was typed)."""
    out: dict[str, str] = {}
    for word in re.findall(r"[A-Za-z0-9][A-Za-z0-9'-]*", text):
        for term in tokenize(word):
            out.setdefault(term, word)
            out.setdefault(corrections.get(term, term), word)
    return out


def _order_page(engine: SearchEngine, sel: Selection, scores: np.ndarray, sort: str,
                page: int, k: int, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray, int]:
    """The page's rows and scores. Matches outside the ranked candidates follow them in BM25F
    order; they are only materialised when the page or the sort reaches them. With a value
    word they compete: they score the ranked rows' median plus their own value pull."""
    total = len(sel.kept)
    window = paginate(total, page, k)
    if sel.others_value is not None and len(sel.others) and len(scores):
        base = float(np.median(sel.scores)) + VALUE_BOOST * scale * sel.others_value
        all_rows = np.concatenate([sel.rows, sel.others])
        all_scores = np.concatenate([scores, base]).astype(np.float32)
        ordered, ordered_scores = sort_rows(all_rows, all_scores, engine.table, sort)
        return ordered[window], ordered_scores[window], total
    if sort == "relevance" and window.stop <= len(sel.rows):
        order = np.argsort(-scores, kind="stable")[window]
        return sel.rows[order], scores[order], total
    others = sel.others
    floor = (float(scores.min()) if len(scores) else 0.0) - 1.0
    rest = sel.others_bm25
    rest_scores = floor + rest / max(float(rest.max()), 1e-6) if len(rest) else rest
    all_rows = np.concatenate([sel.rows, others])
    all_scores = np.concatenate([scores, rest_scores]).astype(np.float32)
    ordered, ordered_scores = sort_rows(all_rows, all_scores, engine.table, sort)
    return ordered[window], ordered_scores[window], total


VALUE_BOOST = 2.0  # a value word's pull, in units of the spread of the top-20 ranker scores


def soft_boosts(engine: SearchEngine, sel: Selection, page: list[Result]
                 ) -> list[dict[str, Any]]:
    """The soft boosts applied, a value word's with its effect on this page's prices."""
    out = [c.to_dict() for c in sel.soft]
    if sel.value_word is None:
        return out
    prices = np.array([r.product.price if r.product and r.product.price is not None
                       else np.nan for r in page], dtype=np.float64)
    page_median = float(np.nanmedian(prices)) if np.isfinite(prices).any() else None
    bare = np.argsort(-sel.scores, kind="stable")[:max(len(page), 1)]
    bare_prices = engine.table.price_[sel.rows[bare]]
    bare_median = float(np.nanmedian(bare_prices)) if np.isfinite(bare_prices).any() else None
    out.append({"kind": "value", "value": sel.value_word, "source": "reading",
                "confidence": 0.85,
                "effect": value_effect(sel.value_word, price_summary(
                    engine.table.price_[sel.kept]), page_median, bare_median,
                    engine.table.currency_of_shop())})
    return out


SIGNAL_FEATURES = ("coverage", "phrase_longest", "intent.category", "intent.brand",
                   "intent.attribute", "intent.price", "popularity")
