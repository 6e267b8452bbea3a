"""Who shops in the demo store: each shopper's latent tastes, which the events then reveal.

A shopper prefers 1–3 leaf categories, loves one or two brands in each (and dislikes some),
sits in a price band (budget / mid / premium), speaks zh or en, and mixes platforms.
Guests are shoppers without a user_id.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from shopsense.demo.taxonomy import LEAF_BY_PATH, LEAVES

BANDS = ("budget", "mid", "premium")
BAND_SHARE = (0.35, 0.45, 0.20)
BAND_CENTRE = {"budget": 0.18, "mid": 0.5, "premium": 0.82}  # price quantile they gravitate to
TIER_APPEAL = {  # band -> brand tier -> weight when picking favourite brands
    "budget": {"cheap": 3.0, "mid": 1.0, "premium": 0.25},
    "mid": {"cheap": 1.0, "mid": 2.5, "premium": 1.0},
    "premium": {"cheap": 0.25, "mid": 1.0, "premium": 3.0},
}
PLATFORMS = ("web", "app", "mini_program", "other")
ZH_USER_SHARE = 0.6


@dataclass(frozen=True, slots=True)
class Shopper:
    user_id: str | None  # None for a guest
    lang: str  # zh | en
    platforms: tuple[float, ...]  # weights over PLATFORMS
    band: str
    leaves: tuple[int, ...]  # preferred leaves (indices into LEAVES)
    leaf_weights: tuple[float, ...]
    favourites: frozenset[str]  # brand keys
    disliked: frozenset[str]
    activity: float  # expected sessions over the whole window


def _preferred_leaves(rng: random.Random) -> list[int]:
    interest = [leaf.interest for leaf in LEAVES]
    first = rng.choices(range(len(LEAVES)), weights=interest)[0]
    chosen = [first]
    for _ in range(rng.choices((0, 1, 2), weights=(0.3, 0.45, 0.25))[0]):
        top = LEAVES[chosen[0]].path.split(" > ")[0]
        comps = [LEAF_BY_PATH[p] for p in LEAVES[chosen[0]].complements]
        roll = rng.random()
        if comps and roll < 0.3:
            pick = LEAVES.index(rng.choice(comps))
        elif roll < 0.6:
            same = [i for i, leaf in enumerate(LEAVES) if leaf.path.startswith(top + " > ")]
            pick = rng.choice(same)
        else:
            pick = rng.choices(range(len(LEAVES)), weights=interest)[0]
        if pick not in chosen:
            chosen.append(pick)
    return chosen


def _brand_tastes(rng: random.Random, leaves: list[int], band: str) -> tuple[set[str], set[str]]:
    favourites: set[str] = set()
    disliked: set[str] = set()
    for leaf_idx in leaves:
        brands = LEAVES[leaf_idx].brands
        weights = [TIER_APPEAL[band][tier] * (4.0 if key in favourites else 1.0) for key, tier in brands]
        for _ in range(rng.choice((1, 1, 2))):
            favourites.add(rng.choices(brands, weights=weights)[0][0])
        others = [key for key, _ in brands if key not in favourites]
        if others and rng.random() < 0.6:
            disliked.add(rng.choice(others))
    return favourites, disliked


def make_shopper(rng: random.Random, user_id: str | None, sessions_mean: float) -> Shopper:
    """One shopper with tastes drawn from `rng`."""
    lang = "zh" if rng.random() < ZH_USER_SHARE else "en"
    band = rng.choices(BANDS, weights=BAND_SHARE)[0]
    leaves = _preferred_leaves(rng)
    favourites, disliked = _brand_tastes(rng, leaves, band)
    mini = 0.35 if lang == "zh" else 0.05
    platforms = (rng.uniform(0.1, 1.0), rng.uniform(0.2, 1.2), rng.uniform(0.0, 2 * mini), 0.02)
    return Shopper(
        user_id=user_id, lang=lang, platforms=platforms, band=band, leaves=tuple(leaves),
        leaf_weights=tuple(sorted((rng.uniform(0.5, 1.0) for _ in leaves), reverse=True)),
        favourites=frozenset(favourites), disliked=frozenset(disliked),
        activity=sessions_mean * rng.lognormvariate(0.0, 0.8) / 1.377,
    )


def make_shoppers(seed: int, n_users: int, sessions_mean: float) -> list[Shopper]:
    """`n_users` registered shoppers, user ids u00001…, same seed -> same shoppers."""
    if n_users < 1:
        raise ValueError(f"n_users must be >= 1, got {n_users}")
    rng = random.Random(f"shopsense-demo-shoppers-{seed}")
    return [make_shopper(rng, f"u{i + 1:05d}", sessions_mean) for i in range(n_users)]
