"""What should a shopper's own feedback do to a candidate list?

- A dismissed item never returns for that shopper.
- Its close variants (same brand + same category path, or embedding neighbours given by the
  `neighbours` callback) sink by a strength that halves every `half_life_days` since the
  dismissal (times the neighbour similarity).
- With `replenish_strength` > 0, a consumable the shopper bought is lifted that share of the
  way to the top once it is due again (0.8-3 learned repurchase intervals after the purchase).
- A purchased durable is not re-recommended for `durable_cooldown_days`, and other durables
  of the same category sink with strength `durable_category_strength` (1: just below the
  list at first, so two air conditioners bought do not fill "for you" with more; for-you
  passes its engine's `durable_category_strength`, 1 by default) halving
  every `purchase_half_life_days`; consumables stay (the product
  attribute `consumable` decides, else the per-category repurchase rate learned from events).

Sinking is scale-free: strength s moves a score s of the way from where it is to just below
the lowest score in the list (s = 1 puts it last); lifting mirrors it towards the top. Each
change is recorded on the candidate: `signals["dismiss_penalty"]` / `signals["purchase_penalty"]`
(the score change, <= 0) or `signals["replenish_boost"]` (>= 0), with
`evidence["dismissed_item"]` / `evidence["purchased_item"]` / `evidence["replenish_item"]`
naming the cause.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import numpy as np

from shopsense.domain import Candidate, Product, UserProfile
from shopsense.features.frame import DAY, normalise_category
from shopsense.features.repurchase import RepurchaseRates, consumable_attribute

Neighbours = Callable[[str], Iterable[tuple[str, float]]]
Cause = tuple[float, str, str]  # (strength in [0, 1], causing item, how it matched)


def apply_feedback(candidates: list[Candidate], profile: UserProfile,
                   products: Mapping[str, Product], now: float, *,
                   half_life_days: float = 14.0, neighbours: Neighbours | None = None,
                   repurchase: RepurchaseRates | None = None,
                   durable_cooldown_days: float = 180.0,
                   durable_category_strength: float = 1.0,
                   purchase_half_life_days: float = 30.0,
                   replenish_strength: float = 0.0) -> list[Candidate]:
    """`candidates` with feedback applied, best score first (stable). The candidates it
    changes are copies (the inputs are never modified); the others are passed on as they are."""
    if half_life_days <= 0 or purchase_half_life_days <= 0 or durable_cooldown_days < 0:
        raise ValueError("half-lives must be > 0 and durable_cooldown_days >= 0")
    if not (0 <= durable_category_strength <= 1 and 0 <= replenish_strength <= 1):
        raise ValueError("durable_category_strength and replenish_strength must be in [0, 1]")
    rates = repurchase if repurchase is not None else RepurchaseRates()
    dismissed, purchased = profile.dismissed, profile.purchased
    kept = [c for c in candidates if c.item_id not in dismissed and not (
        c.item_id in purchased  # the cooldown's own test, first: most were never bought
        and _in_cooldown(c.item_id, profile, products, rates, now, durable_cooldown_days))]
    if not kept:
        return []
    ids = {c.item_id for c in kept}
    dismiss = _dismiss_causes(profile, products, now, half_life_days, neighbours, ids)
    bought = _purchase_causes(profile, products, rates, now, purchase_half_life_days,
                              durable_category_strength, ids)
    due = _replenish_causes(profile, products, rates, now, replenish_strength, ids)
    floor = min(c.score for c in kept) - 1e-6
    ceiling = max(c.score for c in kept) + 1e-6
    changed = {item_id for causes in (dismiss, bought, due) for item_id, cause in causes.items()
               if cause[0] > 0}
    for n, cand in enumerate(kept):
        if cand.item_id in changed:
            kept[n] = _copy(cand)
            _apply_causes(kept[n], floor, ceiling, dismiss, bought, due)
    return sorted(kept, key=lambda c: -c.score)


def _apply_causes(cand: Candidate, floor: float, ceiling: float, dismiss: dict[str, Cause],
                  bought: dict[str, Cause], due: dict[str, Cause]) -> None:
    """Sink (towards `floor`) or lift (towards `ceiling`) one candidate by its causes."""
    for causes, signal, key in ((dismiss, "dismiss_penalty", "dismissed_item"),
                                (bought, "purchase_penalty", "purchased_item"),
                                (due, "replenish_boost", "replenish_item")):
        cause = causes.get(cand.item_id)
        if cause is None or cause[0] <= 0:
            continue
        target = ceiling if signal == "replenish_boost" else floor
        delta = cause[0] * (target - cand.score)
        cand.score += delta
        cand.signals[signal] = cand.signals.get(signal, 0.0) + delta
        cand.evidence[key] = cause[1]
        cand.evidence[f"{signal}_match"] = cause[2]


def _copy(c: Candidate) -> Candidate:
    return Candidate(c.item_id, c.score, dict(c.signals), dict(c.evidence))


def _decay(age_s: float, half_life_days: float) -> float:
    return 0.5 ** (max(age_s, 0.0) / DAY / half_life_days)


def _variant_key(product: Product | None) -> tuple[str, str] | None:
    if product is None or not product.brand or not product.category:
        return None
    return (product.brand.strip().lower(), normalise_category(product.category))


def _keep_strongest(causes: dict[str, Cause], item_id: str, cause: Cause) -> None:
    if cause[0] > causes.get(item_id, (0.0, "", ""))[0]:
        causes[item_id] = cause


def _dismiss_causes(profile: UserProfile, products: Mapping[str, Product], now: float,
                    half_life_days: float, neighbours: Neighbours | None,
                    candidate_ids: set[str]) -> dict[str, Cause]:
    if not profile.dismissed:
        return {}
    wanted = {key for item_id in profile.dismissed
              if (key := _variant_key(products.get(item_id))) is not None}
    brands = {brand for brand, _ in wanted}  # a cheap first test of each candidate
    by_key: dict[tuple[str, str], list[str]] = {}
    for item_id in candidate_ids if wanted else ():
        product = products.get(item_id)
        if product is None or product.brand.strip().lower() not in brands:
            continue
        key = _variant_key(product)
        if key in wanted:
            by_key.setdefault(key, []).append(item_id)
    causes: dict[str, Cause] = {}
    for dismissed, when in profile.dismissed.items():
        strength = _decay(now - when, half_life_days)
        key = _variant_key(products.get(dismissed))
        for item_id in by_key.get(key, []) if key is not None else []:
            _keep_strongest(causes, item_id, (strength, dismissed, "same_brand_category"))
        for item_id, similarity in neighbours(dismissed) if neighbours is not None else ():
            if item_id in candidate_ids and item_id != dismissed:
                sim = min(max(float(similarity), 0.0), 1.0)
                _keep_strongest(causes, item_id, (strength * sim, dismissed, "embedding_neighbour"))
    return causes


def is_consumable(product: Product | None, rates: RepurchaseRates) -> bool:
    """The `consumable` attribute when present, else the learned category repurchase rate."""
    if product is None:
        return False
    own = consumable_attribute(product)
    return own if own is not None else rates.is_consumable(product)


def _in_cooldown(item_id: str, profile: UserProfile, products: Mapping[str, Product],
                 rates: RepurchaseRates, now: float, cooldown_days: float) -> bool:
    when = profile.purchased.get(item_id)
    if when is None or is_consumable(products.get(item_id), rates):
        return False
    return (now - when) < cooldown_days * DAY


def _purchase_causes(profile: UserProfile, products: Mapping[str, Product],
                     rates: RepurchaseRates, now: float, half_life_days: float,
                     strength: float, candidate_ids: set[str]) -> dict[str, Cause]:
    """Durables bought lately sink other durables of the same category path."""
    if strength <= 0 or not profile.purchased:
        return {}
    durables: dict[str, str] = {}  # the durables bought: their category paths
    for bought in profile.purchased:
        product = products.get(bought)
        if product is not None and product.category and not is_consumable(product, rates):
            durables[bought] = normalise_category(product.category)
    wanted = set(durables.values())
    by_category: dict[str, list[str]] = {}
    for item_id in candidate_ids if wanted else ():
        product = products.get(item_id)
        if product is None or not product.category:
            continue
        category = normalise_category(product.category)
        if category in wanted and not is_consumable(product, rates):
            by_category.setdefault(category, []).append(item_id)
    causes: dict[str, Cause] = {}
    for bought, category in durables.items():
        when = profile.purchased[bought]
        cause = (strength * _decay(now - when, half_life_days), bought, "same_category_durable")
        for item_id in by_category.get(category, []):
            if item_id != bought:
                _keep_strongest(causes, item_id, cause)
    return causes


def _replenish_causes(profile: UserProfile, products: Mapping[str, Product],
                      rates: RepurchaseRates, now: float, strength: float,
                      candidate_ids: set[str]) -> dict[str, Cause]:
    """Consumables the shopper bought that are due again: last bought at least 0.8 and at most
    3 of the category's learned repurchase intervals ago."""
    if strength <= 0:
        return {}
    causes: dict[str, Cause] = {}
    for item_id in candidate_ids & set(profile.purchased):
        product = products.get(item_id)
        if product is None or not is_consumable(product, rates):
            continue
        interval = rates.interval_for(product.category)
        if interval is None or interval <= 0:
            continue
        cycles = (now - profile.purchased[item_id]) / DAY / interval
        if 0.8 <= cycles <= 3.0:
            causes[item_id] = (strength, item_id, f"due_after_{interval:.0f}_days")
    return causes


def vector_neighbours(vectors: Mapping[str, np.ndarray], *, k: int = 20,
                      min_similarity: float = 0.6) -> Neighbours:
    """A `neighbours` callback over item vectors (each (dim,)): the `k` most cosine-similar
    items at or above `min_similarity`, by exact search over all of them."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    ids = list(vectors)
    if not ids:
        return lambda item_id: []
    matrix = np.vstack([np.asarray(vectors[i], dtype=np.float32) for i in ids])
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    row = {item_id: n for n, item_id in enumerate(ids)}

    def neighbours(item_id: str) -> list[tuple[str, float]]:
        n = row.get(item_id)
        if n is None:
            return []
        sims = matrix @ matrix[n]
        sims[n] = -np.inf
        top = np.argsort(-sims, kind="stable")[:k]
        return [(ids[j], float(sims[j])) for j in top if sims[j] >= min_similarity]
    return neighbours
