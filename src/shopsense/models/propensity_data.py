"""Training rows for purchase propensity: rolling cutoffs, point-in-time features, labels.

At each cutoff t the rows are the shoppers active in [t - lookback, t); features use events
before t only, the label is "bought within [t, t + horizon)". General rows have the
GENERAL_FEATURES; category rows are (shopper, category) pairs with GENERAL_FEATURES +
CATEGORY_FEATURES and the label "bought something in that category". For category rows every
category the shopper touched in the lookback is kept, and each untouched category is kept with
probability p = min(1, negatives_per_user / n_untouched) and weight 1/p, so weighted fits stay
unbiased (calibrated) for the whole shopper x category population.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from shopsense.features.behaviour import (
    CATEGORY_FEATURES,
    GENERAL_FEATURES,
    PURCHASE,
    active_codes,
    category_features,
    general_features,
    purchase_labels,
)
from shopsense.features.frame import DAY, EventFrame, category_prefixes


@dataclass(slots=True)
class Rows:
    """A training / evaluation matrix. X (n, d), y (n,) bool, weight (n,), cutoff (n,),
    codes (n,) shopper codes, group (n,) index of the row's category (-1 for general rows)."""

    X: np.ndarray
    y: np.ndarray
    weight: np.ndarray
    cutoff: np.ndarray
    codes: np.ndarray
    group: np.ndarray

    @property
    def n_positive(self) -> float:
        return float(self.weight[self.y].sum())

    @classmethod
    def stack(cls, parts: list[Rows], n_features: int) -> Rows:
        if not parts:
            return cls(np.zeros((0, n_features)), np.zeros(0, dtype=bool), np.zeros(0),
                       np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in
                     ("X", "y", "weight", "cutoff", "codes", "group")))


def general_rows(frame: EventFrame, cutoffs: list[float], horizon_days: float,
                 lookback_days: float) -> Rows:
    parts = []
    for t in cutoffs:
        codes = active_codes(frame, t, lookback_days)
        if codes.size == 0:
            continue
        parts.append(Rows(general_features(frame, t, codes),
                          purchase_labels(frame, t, t + horizon_days * DAY, codes),
                          np.ones(codes.size), np.full(codes.size, t), codes,
                          np.full(codes.size, -1)))
    return Rows.stack(parts, len(GENERAL_FEATURES))


def category_vocabulary(frame: EventFrame, before: float, *, max_level: int,
                        max_categories: int) -> list[str]:
    """The most bought category paths (levels 1..max_level) before `before`."""
    n = frame.before(before)
    bought = frame.item[:n][(frame.etype[:n] == PURCHASE) & (frame.item[:n] >= 0)]
    per_item = Counter(bought.tolist())
    counts: Counter[str] = Counter()
    for item, k in per_item.items():
        for path in category_prefixes(frame.item_category[item], max_level):
            counts[path] += k
    return [path for path, _ in counts.most_common(max_categories)]


def category_rows(frame: EventFrame, cutoffs: list[float], horizon_days: float,
                  lookback_days: float, vocabulary: list[str], negatives_per_user: int,
                  seed: int) -> Rows:
    rng = np.random.default_rng(seed)
    masks = [frame.category_item_mask(c) for c in vocabulary]
    parts = []
    for t in cutoffs:
        codes = active_codes(frame, t, lookback_days)
        if codes.size == 0 or not vocabulary:
            continue
        general = general_features(frame, t, codes)
        touched = _touched(frame, t, lookback_days, codes, masks)
        untouched = np.maximum(len(vocabulary) - touched.sum(axis=1), 1)
        keep_prob = np.minimum(1.0, negatives_per_user / untouched)
        for j, category in enumerate(vocabulary):
            keep = touched[:, j] | (rng.random(codes.size) < keep_prob)
            if not keep.any():
                continue
            sub = codes[keep]
            weight = np.where(touched[keep, j], 1.0, 1.0 / keep_prob[keep])
            X = np.hstack([general[keep], category_features(frame, t, sub, category, masks[j])])
            y = purchase_labels(frame, t, t + horizon_days * DAY, sub, masks[j])
            parts.append(Rows(X, y, weight, np.full(sub.size, t), sub, np.full(sub.size, j)))
    return Rows.stack(parts, len(GENERAL_FEATURES) + len(CATEGORY_FEATURES))


def _touched(frame: EventFrame, cutoff: float, lookback_days: float, codes: np.ndarray,
             masks: list[np.ndarray]) -> np.ndarray:
    """(len(codes), n_categories) bool: shopper had an item event in the category lately."""
    window = frame.window(cutoff - lookback_days * DAY, cutoff)
    actor, item = frame.actor[window], frame.item[window]
    has_item = item >= 0
    actor, item = actor[has_item], item[has_item]
    out = np.zeros((codes.size, len(masks)), dtype=bool)
    for j, mask in enumerate(masks):
        hits = np.bincount(actor[mask[item]], minlength=frame.n_actors + 1)
        out[:, j] = hits[codes] > 0
    return out


def population_rates(frame: EventFrame, cutoffs: list[float], horizon_days: float,
                     lookback_days: float) -> tuple[float, float]:
    """(new, dormant) purchase rates within the horizon, pooled over `cutoffs` (add-one
    smoothed): new = shoppers first seen in [t, t + horizon); dormant = shoppers with history
    before t but none in the lookback. The models are trained on active shoppers only, so
    these two rates stand in for them."""
    counts = np.zeros((2, 2))  # [new, dormant] x [buyers, shoppers]
    first_seen = np.full(frame.n_actors, np.inf)
    np.minimum.at(first_seen, frame.actor, frame.ts)
    for t in cutoffs:
        stop = t + horizon_days * DAY
        new = np.flatnonzero((first_seen >= t) & (first_seen < stop))
        seen = np.flatnonzero(first_seen < t)
        dormant = np.setdiff1d(seen, active_codes(frame, t, lookback_days))
        for row, codes in enumerate((new, dormant)):
            counts[row] += (purchase_labels(frame, t, stop, codes).sum(), codes.size)
    rates = (counts[:, 0] + 1.0) / (counts[:, 1] + 2.0)
    return float(rates[0]), float(rates[1])
