"""Does the demo shop carry learnable signal? Next-item hit rate of simple recommenders.

For every registered shopper, the last item they interacted with (view, click, cart,
purchase) that they had not touched before is held out; each recommender ranks items from
the earlier events only. A demo where popularity wins would be useless for recommender work.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/demo_signal.py [--seed 7]

Prints a table and writes benchmarks/results/demo_signal.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from collections import Counter, defaultdict
from itertools import pairwise
from pathlib import Path

from shopsense.demo import generate_demo
from shopsense.demo.generate import GENERATOR_VERSION

ITEM_EVENTS = {"view": 1.0, "click": 1.0, "cart": 3.0, "purchase": 5.0}
K = 10


def load(folder: Path) -> tuple[dict[str, dict], list[dict]]:
    products = {}
    for line in (folder / "products.jsonl").open(encoding="utf-8"):
        row = json.loads(line)
        products[row["item_id"]] = row
    events = [json.loads(line) for line in (folder / "events.jsonl").open(encoding="utf-8")]
    return products, events


def split(events: list[dict]) -> tuple[dict[str, list[dict]], dict[str, str]]:
    """Per user: history before the held-out item, and the held-out item."""
    by_user: dict[str, list[dict]] = defaultdict(list)
    for e in events:
        if e["user_id"] and e["event_type"] in ITEM_EVENTS:
            by_user[e["user_id"]].append(e)
    history, target = {}, {}
    for user, evs in by_user.items():
        for cut in range(len(evs) - 1, 0, -1):
            seen = {e["item_id"] for e in evs[:cut]}
            if evs[cut]["item_id"] not in seen:
                history[user], target[user] = evs[:cut], evs[cut]["item_id"]
                break
    return history, target


def evaluate(name: str, rank, history, target) -> dict[str, float]:
    hits, mrr = 0, 0.0
    for user, item in target.items():
        top = rank(history[user])
        if item in top:
            hits += 1
            mrr += 1 / (top.index(item) + 1)
    n = len(target)
    return {"recommender": name, "hit_rate@10": round(hits / n, 4), "mrr@10": round(mrr / n, 4), "users": n}


def build(products, history):
    train = [e for evs in history.values() for e in evs]
    pop = Counter()
    for e in train:
        pop[e["item_id"]] += ITEM_EVENTS[e["event_type"]]
    popular = [i for i, _ in pop.most_common()]
    by_cat: dict[str, list[str]] = defaultdict(list)
    for item in popular:
        by_cat[products[item]["category"]].append(item)
    covisit: dict[str, Counter] = defaultdict(Counter)
    for evs in history.values():
        items = [e["item_id"] for e in evs]
        for a, b in pairwise(items):
            if a != b:
                covisit[a][b] += 1

    def popularity(evs):
        seen = {e["item_id"] for e in evs}
        return [i for i in popular if i not in seen][:K]

    def category_popular(evs):
        seen = {e["item_id"] for e in evs}
        weights = Counter()
        for n, e in enumerate(evs):
            weights[products[e["item_id"]]["category"]] += ITEM_EVENTS[e["event_type"]] * (1 + n / len(evs))
        scored = Counter()
        total = sum(weights.values())
        for cat, w in weights.items():
            for r, item in enumerate(by_cat[cat][:60]):
                if item not in seen:
                    scored[item] += (w / total) / (r + 3)
        return [i for i, _ in scored.most_common(K)]

    def next_item(evs):
        seen = {e["item_id"] for e in evs}
        out = [i for i, _ in covisit[evs[-1]["item_id"]].most_common() if i not in seen][:K]
        for i in category_popular(evs):
            if len(out) >= K:
                break
            if i not in out:
                out.append(i)
        return out

    return {"popularity": popularity, "category_popular": category_popular, "covisit+category": next_item}


def profile(products: dict[str, dict], events: list[dict]) -> dict[str, float]:
    """Headline figures of the generated behaviour (what docs/DEMO.md quotes)."""
    kinds = Counter(e["event_type"] for e in events)
    sessions: dict[str, set] = defaultdict(set)
    for e in events:
        sessions[e["session_id"]].add(e["user_id"])
    bought = Counter((e["user_id"], e["item_id"]) for e in events
                     if e["event_type"] == "purchase" and e["user_id"])

    def repeat(consumable: bool) -> float:
        pairs = [n for (_, i), n in bought.items() if products[i]["attributes"]["consumable"] is consumable]
        return round(sum(n > 1 for n in pairs) / max(1, len(pairs)), 4)

    return {
        "events": len(events), **{f"n_{k}": v for k, v in sorted(kinds.items())},
        "sessions": len(sessions),
        "users": len({e["user_id"] for e in events if e["user_id"]}),
        "view_to_cart": round(kinds["cart"] / (kinds["view"] + kinds["click"]), 4),
        "cart_to_purchase": round(kinds["purchase"] / kinds["cart"], 4),
        "anonymous_event_share": round(sum(e["user_id"] is None for e in events) / len(events), 4),
        "guest_session_share": round(sum(s == {None} for s in sessions.values()) / len(sessions), 4),
        "mid_session_logins": sum(len(s) == 2 for s in sessions.values()),
        "consumable_repeat_share": repeat(True), "durable_repeat_share": repeat(False),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0, c0 = time.perf_counter(), time.process_time()
        generate_demo(Path(tmp), seed=args.seed)
        gen_s, gen_cpu = time.perf_counter() - t0, time.process_time() - c0
        products, events = load(Path(tmp))
    history, target = split(events)
    rows = [evaluate(name, fn, history, target) for name, fn in build(products, history).items()]
    figures = profile(products, events)
    print(f"demo seed {args.seed}: {len(products)} products, {len(events)} events, generated in "
          f"{gen_s:.1f} s wall / {gen_cpu:.1f} s CPU")
    for key, value in figures.items():
        print(f"  {key:<24}{value}")
    print(f"{'recommender':<20}{'HR@10':>8}{'MRR@10':>8}{'users':>7}")
    for row in rows:
        print(f"{row['recommender']:<20}{row['hit_rate@10']:>8.4f}{row['mrr@10']:>8.4f}{row['users']:>7}")
    out = Path(__file__).resolve().parent / "results" / "demo_signal.json"
    out.write_text(json.dumps({"command": f"OMP_NUM_THREADS=1 .venv/bin/python benchmarks/demo_signal.py "
                                          f"--seed {args.seed}",
                               "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                                           "python": platform.python_version(), "threads": 1},
                               "demo_generator_version": GENERATOR_VERSION,
                               "seed": args.seed, "generate_wall_s": round(gen_s, 2),
                               "generate_cpu_s": round(gen_cpu, 2), "profile": figures,
                               "results": rows}, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
