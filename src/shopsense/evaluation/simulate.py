"""Replay the demo's simulated shoppers against the live recommendation path.

Each session: a registered demo shopper (latent tastes from `shoppers_truth.jsonl`) gets a
for-you answer through `pipeline.surfaces.recommend_actor` (exploring as the settings say),
the list is logged as an impression with its request id and propensities
(`store.impressions`), the shopper clicks by the known click model (`demo.clicks`), and each
click is recorded as an event tied to the request (so the next answer reflects it). Besides
what happened, the report gives the true expected clicks per list of the served, greedy and
uniform-shuffle policies for the same shoppers: the known answer off-policy estimates
(`evaluation.counterfactual`) are checked against.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

import numpy as np

from shopsense.demo.clicks import CLICK_SCALE, ClickModel, ShopperTaste, examination
from shopsense.pipeline.explore import Exploration
from shopsense.pipeline.shop import Shop
from shopsense.pipeline.surfaces import recommend_actor
from shopsense.rank.rules import Rules
from shopsense.store.impressions import ImpressionRecord, impressions_of


def load_tastes(path: Path) -> list[ShopperTaste]:
    if not path.exists():
        raise FileNotFoundError(f"no shopper tastes at {path} (written by `shopsense demo "
                                "generate` / `demo run`)")
    with path.open(encoding="utf-8") as f:
        return [ShopperTaste.from_truth(json.loads(line)) for line in f if line.strip()]


def simulate_sessions(shop: Shop, tastes: list[ShopperTaste], *, sessions: int, k: int = 10,
                      seed: int = 0) -> dict[str, Any]:
    """Run `sessions` for-you sessions; returns what was shown, clicked and truly expected."""
    if sessions < 1 or not tastes:
        raise ValueError("need at least one session and one shopper")
    rng = random.Random(seed)
    model, repo = ClickModel(shop.products.values()), impressions_of(shop.store)
    pool = shop.settings.recs.explore_pool
    truth = {"served": [], "greedy": [], "uniform": []}
    clicks, policy, started = 0, "greedy", time.time()
    for n in range(sessions):
        taste = rng.choice(tastes)
        actor = shop.actor(taste.user_id)
        greedy = [r["item_id"] for r in recommend_actor(
            shop, actor, k=max(k, pool), rules=Rules(), exploration=Exploration())["results"]]
        answer = recommend_actor(shop, actor, k=k, rules=Rules())
        shown = [r["item_id"] for r in answer["results"]]
        if not shown:
            continue
        policy, stamp = answer["policy"], started + n * 1e-3
        clicked = model.clicks(taste, shown, rng)
        repo.add([ImpressionRecord(answer["request_id"], stamp, actor or "", "for_you",
                                   tuple(shown), tuple(r["propensity"] for r in answer["results"]),
                                   policy, clicks=frozenset(clicked))])
        if clicked:
            shop.record_events([{"event_id": f"sim-{answer['request_id']}-{p}",
                                 "event_type": "click", "user_id": taste.user_id,
                                 "item_id": shown[p], "timestamp": stamp} for p in clicked])
        clicks += len(clicked)
        truth["served"].append(model.expected_clicks(taste, shown))
        truth["greedy"].append(model.expected_clicks(taste, greedy[:k]))
        truth["uniform"].append(_uniform_value(model, taste, greedy[:max(pool, k)], k))
    lists = len(truth["served"])
    return {"sessions": sessions, "lists": lists, "clicks": clicks, "policy": policy,
            "clicks_per_list": round(clicks / max(lists, 1), 5),
            "true_expected_clicks_per_list": {name: round(float(np.mean(v)), 5) if v else 0.0
                                              for name, v in truth.items()},
            "seconds": round(time.time() - started, 1)}


def _uniform_value(model: ClickModel, taste: ShopperTaste, pool: list[str], k: int) -> float:
    """Expected clicks when the first k positions show a uniform shuffle of the pool."""
    if not pool:
        return 0.0
    mean = float(np.mean([model.attraction(taste, i) for i in pool]))
    return sum(examination(p) * CLICK_SCALE * mean for p in range(min(k, len(pool))))


CART_AFTER_CLICK = 0.35  # a clicked item goes to the cart with this chance x its attraction
BUY_AFTER_CART = 0.5


def simulate_experiment(shop: Shop, tastes: list[ShopperTaste], experiment_id: str, *,
                        sessions: int, k: int = 10, seed: int = 0) -> dict[str, Any]:
    """Replay sessions against a running for-you experiment through the serving code: each
    session a demo shopper (the visitor: assigned by the experiment's sticky hash) gets an
    answer from `recommend_actor` (their arm's configuration, or both arms interleaved),
    reports the impression with the answer's experiment tag the way the storefront does
    (`analytics.impressions.record_impressions`), clicks by the known click model, and may
    add a clicked item to the cart (chance `CART_AFTER_CLICK` x its attraction) and buy it
    (`BUY_AFTER_CART`, value = its price); events go through `Shop.record_events` with the
    answer's request id, so `shopsense experiments report` reads them like live traffic."""
    from shopsense.analytics.impressions import attribute_clicks, record_impressions
    from shopsense.pipeline.experiments import registry_of

    record = registry_of(shop).repo.get(experiment_id)
    if record is None:
        raise ValueError(f"no experiment {experiment_id!r}")
    if record.status != "running" or record.surface != "for_you":
        raise ValueError("simulate needs a running for_you experiment "
                         f"({record.id} is {record.status} on {record.surface})")
    if sessions < 1 or not tastes:
        raise ValueError("need at least one session and one shopper")
    rng = random.Random(seed)
    model, repo = ClickModel(shop.products.values()), impressions_of(shop.store)
    counts = {"lists": 0, "in_experiment": 0, "clicks": 0, "carts": 0, "purchases": 0}
    started = time.time()
    for _ in range(sessions):
        taste = rng.choice(tastes)
        answer = recommend_actor(shop, shop.actor(taste.user_id), k=k, rules=Rules(),
                                 exploration=Exploration())
        shown = [r["item_id"] for r in answer["results"]]
        if not shown:
            continue
        tag = (answer.get("experiment") or {}).get("tag")
        record_impressions(shop, repo, [{"request_id": answer["request_id"],
                                         "surface": "for_you", "user_id": taste.user_id,
                                         "items": shown, "policy": answer["policy"],
                                         "arm": tag}])
        events = _session_events(model, taste, shown, answer["request_id"], rng, shop)
        if events:
            shop.record_events([{k: v for k, v in e.items() if k != "request_id"}
                                for e in events])  # as /v1/events: the id ties, not stored
            attribute_clicks(repo, events)
        counts["lists"] += 1
        counts["in_experiment"] += tag is not None
        for e in events:
            key = {"click": "clicks", "cart": "carts", "purchase": "purchases"}[e["event_type"]]
            counts[key] += 1
    return {"experiment": record.id, "kind": record.kind, "sessions": sessions, **counts,
            "seconds": round(time.time() - started, 1)}


def _session_events(model: ClickModel, taste: ShopperTaste, shown: list[str], request_id: str,
                    rng: random.Random, shop: Shop) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    now = time.time()
    for p in model.clicks(taste, shown, rng):
        item = shown[p]
        base = {"user_id": taste.user_id, "item_id": item, "timestamp": now,
                "request_id": request_id}
        rows.append({**base, "event_id": f"sim-{request_id}-{p}", "event_type": "click"})
        if rng.random() < CART_AFTER_CLICK * model.attraction(taste, item):
            rows.append({**base, "event_id": f"sim-{request_id}-{p}-c", "event_type": "cart"})
            if rng.random() < BUY_AFTER_CART:
                product = shop.products.get(item)
                rows.append({**base, "event_id": f"sim-{request_id}-{p}-b",
                             "event_type": "purchase",
                             "value": float(product.price) if product and product.price else 0.0})
    return rows
