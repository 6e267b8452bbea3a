"""Online comparisons replayed on the demo's simulated shoppers: how many sessions do an A/B
test and a team-draft interleaving need to tell two live rankers apart, and how often does
each cry wolf when both arms are the same (A/A)?

Each arm is a configuration of the live recommendation engine (`ARMS`): `served` (every source
and the learned ranker, as `/v1/recommend`), `fusion` (the same sources, reciprocal-rank
fusion instead of the ranker), `popular` (trending + popular, no personalisation) and
`shuffled` (the served items in a random order: the same set, so only the order differs). Each
shopper's list from each arm is computed once through the engine; sessions then draw a
shopper and the shopper's clicks from the known click model (`demo.clicks`), so the true
clicks per session of every arm are known. A/B: each session is a new visitor (tastes drawn
from the demo's shoppers; 150-1,200 shoppers repeated over thousands of sessions would make
sessions of one shopper a correlated cluster), assigned by a hash of the visitor and the run,
half each; the outcome is the visit's clicks. Interleaving:
team-draft of the two arms' lists, one credit per session. Both read the always-valid p-value
after every session (`evaluation.experiments`).
"""

from __future__ import annotations

import copy
import hashlib
import random
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from shopsense.demo.clicks import ClickModel, ShopperTaste
from shopsense.evaluation.experiments import ab_p, first_detection, interleaving_p
from shopsense.pipeline.interleave import credit, team_draft
from shopsense.pipeline.shop import Shop
from shopsense.rank.rules import Rules


def _served(engine: Any) -> Any:
    return engine


def _fusion(engine: Any) -> Any:
    variant = copy.copy(engine)  # shares sources and histories; only the ranker differs
    variant.ranker = None
    return variant


ARMS: dict[str, Callable[[Any], Any]] = {"served": _served, "fusion": _fusion,
                                         "popular": _served, "shuffled": _served}


def arm_lists(shop: Shop, tastes: Sequence[ShopperTaste], arm: str, k: int) -> list[list[str]]:
    """Each shopper's list from one arm (the engine's for-you path with feedback and rules)."""
    if arm not in ARMS:
        raise ValueError(f"unknown arm {arm!r}; one of {', '.join(ARMS)}")
    engine = shop.models.recs
    if engine is None:
        raise ValueError("no recommendation model loaded")
    engine = ARMS[arm](engine)
    out = []
    for taste in tastes:
        actor = None if arm == "popular" else shop.actor(taste.user_id)
        results = engine.for_you(actor, k=k, profile=shop.profile_of(actor), rules=Rules(),
                                 repurchase=shop.models.repurchase)
        items = [r.item_id for r in results]
        if arm == "shuffled":  # the same items in an order unrelated to the shopper
            random.Random(f"shuffle:{taste.user_id}").shuffle(items)
        out.append(items)
    return out


class Replay:
    """Sessions of shoppers facing two arms' fixed lists, clicking by the known model."""

    def __init__(self, model: ClickModel, tastes: Sequence[ShopperTaste],
                 lists: tuple[list[list[str]], list[list[str]]], k: int) -> None:
        self.tastes, self.lists, self.k = list(tastes), lists, k
        self.chance = [{i: model.click_chance(t, i, 0) for lst in (lists[0][s], lists[1][s])
                        for i in lst} for s, t in enumerate(self.tastes)]
        self.truth = [float(np.mean([model.expected_clicks(t, lst[s])
                                     for s, t in enumerate(self.tastes)])) for lst in lists]

    def clicks(self, shopper: int, items: Sequence[str], rng: random.Random) -> list[int]:
        chance = self.chance[shopper]
        return [p for p, i in enumerate(items)
                if rng.random() < chance[i] / (1.0 + p) ** 0.8]

    def interleaving(self, sessions: int, seed: int) -> np.ndarray:
        rng = random.Random(seed)
        credits = []
        for _ in range(sessions):
            s = rng.randrange(len(self.tastes))
            shown, teams = team_draft(self.lists[0][s], self.lists[1][s], self.k, rng)
            credits.append(credit(teams, self.clicks(s, shown, rng)))
        return interleaving_p(credits)

    def ab(self, sessions: int, seed: int) -> np.ndarray:
        rng = random.Random(seed)
        arms, outcomes = [], []
        for n in range(sessions):
            s = rng.randrange(len(self.tastes))
            arm = _sticky(f"visitor-{n}", seed)
            arms.append(arm)
            outcomes.append(len(self.clicks(s, self.lists[arm][s], rng)))
        return ab_p(arms, outcomes)


def _sticky(user_id: str, seed: int) -> int:
    digest = hashlib.blake2b(f"{seed}:{user_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % 2


def sessions_to_detect(replay: Replay, *, sessions: int, runs: int, alpha: float = 0.05,
                       seed: int = 0) -> dict[str, Any]:
    """Per method: the share of runs with a significant result within `sessions`, and the
    median (and 90th percentile) sessions until it came."""
    out: dict[str, Any] = {"true_clicks_per_session": [round(t, 5) for t in replay.truth],
                           "sessions": sessions, "runs": runs, "alpha": alpha}
    for method in ("interleaving", "ab"):
        firsts = [first_detection(getattr(replay, method)(sessions, seed + r), alpha)
                  for r in range(runs)]
        found = [f for f in firsts if f is not None]
        out[method] = {"detected_share": round(len(found) / runs, 4),
                       "median_sessions": int(np.median(found)) if found else None,
                       "p90_sessions": int(np.quantile(found, 0.9)) if found else None}
    return out


def compare_arms(shop: Shop, tastes: Sequence[ShopperTaste], arm_a: str, arm_b: str, *,
                 sessions: int, runs: int, k: int = 10, seed: int = 0) -> dict[str, Any]:
    """`sessions_to_detect` for arms A and B, and for A against itself (A/A)."""
    model = ClickModel(shop.products.values())
    lists_a, lists_b = arm_lists(shop, tastes, arm_a, k), arm_lists(shop, tastes, arm_b, k)
    return {"arms": [arm_a, arm_b], "k": k, "shoppers": len(tastes),
            "a_vs_b": sessions_to_detect(Replay(model, tastes, (lists_a, lists_b), k),
                                         sessions=sessions, runs=runs, seed=seed),
            "a_vs_a": sessions_to_detect(Replay(model, tastes, (lists_a, lists_a), k),
                                         sessions=sessions, runs=runs, seed=seed + 10_000)}
