"""How varied is a result list? Maximal marginal relevance (MMR) with a similarity callback,
and hard per-category (and per-brand) caps, in one greedy pass.

At each free position the pass picks the candidate maximising
    lambda * relevance - (1 - lambda) * max similarity to the items already placed,
where relevance is the score min-max scaled to [0, 1], among candidates whose category has
not reached `max_per_category` and whose brand has not reached `max_per_brand` (items with no
category / brand are never capped on it). With `backfill=True` a position no capped candidate can fill
takes the best remaining one anyway (so the list stays `k` long); with `backfill=False` caps
hold strictly. Candidates carrying `evidence["pinned_position"]` (set by `rank.rules`) stay at
that position and count towards caps. The redundancy each pick paid is recorded as
`signals["mmr.redundancy"]` when a similarity is given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from shopsense.domain import Candidate, Product
from shopsense.features.frame import category_prefixes, normalise_category

Similarity = Callable[[str, str], float]


def category_key(product: Product | None, level: int | None) -> str:
    """The category a cap counts by: the full path, or its first `level` levels."""
    if product is None or not product.category:
        return ""
    if level is None:
        return normalise_category(product.category)
    prefixes = category_prefixes(product.category, level)
    return prefixes[-1] if prefixes else ""


class _Caps:
    """Per-key counts for each cap (category, brand) over the list being built."""

    def __init__(self, products: Mapping[str, Product], level: int | None,
                 max_per_category: int | None, max_per_brand: int | None) -> None:
        self.rules: list[tuple[Callable[[Product | None], str], int]] = []
        if max_per_category is not None:
            self.rules.append((lambda p: _prefixed("c:", category_key(p, level)),
                               max_per_category))
        if max_per_brand is not None:
            self.rules.append((brand_key, max_per_brand))
        self.products = products
        self.counts: dict[str, int] = {}

    def keys(self, item_id: str) -> list[tuple[str, int]]:
        product = self.products.get(item_id)
        return [(key(product), cap) for key, cap in self.rules]

    def fits(self, keys: list[tuple[str, int]]) -> bool:
        return all(not key or self.counts.get(key, 0) < cap for key, cap in keys)

    def add(self, keys: list[tuple[str, int]]) -> None:
        for key, _ in keys:
            self.counts[key] = self.counts.get(key, 0) + 1


def brand_key(product: Product | None) -> str:
    """The brand a cap counts by ("" - never capped - when unknown)."""
    return _prefixed("b:", product.brand.strip().lower() if product is not None else "")


def _prefixed(kind: str, key: str) -> str:
    return kind + key if key else ""


def diversify(candidates: list[Candidate], products: Mapping[str, Product], *, k: int,
              similarity: Similarity | None = None, lambda_: float = 0.7,
              max_per_category: int | None = None, level: int | None = None,
              max_per_brand: int | None = None, backfill: bool = True) -> list[Candidate]:
    """Up to `k` candidates re-ordered for variety (see the module docstring)."""
    if k < 1 or not 0.0 <= lambda_ <= 1.0:
        raise ValueError("k must be >= 1 and lambda_ in [0, 1]")
    if any(cap is not None and cap < 1 for cap in (max_per_category, max_per_brand)):
        raise ValueError("max_per_category and max_per_brand must be >= 1")
    pinned = {int(c.evidence["pinned_position"]): c for c in candidates
              if "pinned_position" in c.evidence}
    pool = [c for c in candidates if "pinned_position" not in c.evidence]  # copied when placed
    relevance = _scaled([c.score for c in pool])
    caps = _Caps(products, level, max_per_category, max_per_brand)
    keys = [caps.keys(c.item_id) for c in pool]
    for c in pinned.values():
        caps.add(caps.keys(c.item_id))
    if similarity is None and not pinned:
        return [_copy(c) for c in _capped_greedy(pool, relevance, keys, caps, k, backfill)]
    out: list[Candidate] = []
    free = list(range(len(pool)))
    redundancy = np.zeros(len(pool))
    for position in range(k):
        if position in pinned:
            placed = pinned.pop(position)
        else:
            value = lambda_ * relevance - (1.0 - lambda_) * redundancy
            pick = _pick(free, value, keys, caps, backfill)
            if pick is None:
                if not pinned:
                    break
                continue
            free.remove(pick)
            caps.add(keys[pick])
            placed = _copy(pool[pick])
            if similarity is not None:
                placed.signals["mmr.redundancy"] = float(redundancy[pick])
        out.append(placed)
        if similarity is not None:
            for i in free:
                redundancy[i] = max(redundancy[i], similarity(pool[i].item_id, placed.item_id))
    out.extend(c for _, c in sorted(pinned.items()) if len(out) < k)
    return out


def _copy(c: Candidate) -> Candidate:
    return Candidate(c.item_id, c.score, dict(c.signals), dict(c.evidence))


def _capped_greedy(pool: list[Candidate], relevance: np.ndarray,
                   keys: list[list[tuple[str, int]]], caps: _Caps, k: int,
                   backfill: bool) -> list[Candidate]:
    """The greedy loop without redundancy, in one pass: values never change, and caps only
    tighten, so an item that does not fit when its turn comes never fits later; positions
    left when no item fits take the best skipped ones (the backfill), as the loop would."""
    out: list[Candidate] = []
    skipped: list[int] = []
    for i in np.argsort(-relevance, kind="stable").tolist():
        if len(out) == k:
            break
        if caps.fits(keys[i]):
            caps.add(keys[i])
            out.append(pool[i])
        else:
            skipped.append(i)
    if backfill:
        out.extend(pool[i] for i in skipped[:k - len(out)])
    return out


def _pick(free: list[int], value: np.ndarray, keys: list[list[tuple[str, int]]], caps: _Caps,
          backfill: bool) -> int | None:
    """The free index of highest value within its caps (first on ties)."""
    best: int | None = None
    fallback: int | None = None
    for i in free:
        if (best is None or value[i] > value[best]) and caps.fits(keys[i]):
            best = i
        if fallback is None or value[i] > value[fallback]:
            fallback = i
    return best if best is not None else (fallback if backfill else None)


def _scaled(scores: list[float]) -> np.ndarray:
    arr = np.asarray(scores, dtype=np.float64)
    if arr.size == 0:
        return arr
    span = float(arr.max() - arr.min())
    return (arr - arr.min()) / span if span > 0 else np.ones_like(arr)


def mmr(candidates: list[Candidate], similarity: Similarity, k: int,
        lambda_: float = 0.7) -> list[Candidate]:
    """Plain maximal marginal relevance (no caps)."""
    return diversify(candidates, {}, k=k, similarity=similarity, lambda_=lambda_)


def cap_per_category(candidates: list[Candidate], products: Mapping[str, Product], *,
                     max_per_category: int, k: int | None = None, level: int | None = None,
                     max_per_brand: int | None = None,
                     backfill: bool = False) -> list[Candidate]:
    """Keep the score order but at most `max_per_category` items per category (and at most
    `max_per_brand` per brand when given)."""
    return diversify(candidates, products, k=k or max(len(candidates), 1), lambda_=1.0,
                     max_per_category=max_per_category, level=level,
                     max_per_brand=max_per_brand, backfill=backfill)


def attribute_similarity(products: Mapping[str, Product]) -> Similarity:
    """1 for the same item; else 0.5 for the same brand + 0.5 for the same category path
    (0.25 when only the top-level category matches)."""
    keys: dict[str, tuple[str, str, str] | None] = {}

    def key(item_id: str) -> tuple[str, str, str] | None:
        if item_id not in keys:
            p = products.get(item_id)
            keys[item_id] = None if p is None else (
                p.brand.strip().lower(), normalise_category(p.category), p.top_category)
        return keys[item_id]

    def sim(a: str, b: str) -> float:
        if a == b:
            return 1.0
        ka, kb = key(a), key(b)
        if ka is None or kb is None:
            return 0.0
        brand = 0.5 if ka[0] and ka[0] == kb[0] else 0.0
        if ka[1] and ka[1] == kb[1]:
            return brand + 0.5
        return brand + (0.25 if ka[2] and ka[2] == kb[2] else 0.0)
    return sim
