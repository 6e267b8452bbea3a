"""Where the served for-you list loses to the blend, stage by stage, on a saved engine
(`shopsense eval recs --served --engine-dir DIR`), on the same shoppers (paired):

    OMP_NUM_THREADS=1 python benchmarks/served_gap.py --events E [--catalog C] --engine DIR \\
        [--users N]

For each scored shopper's request (`evaluation.served.served_requests`, as the served
evaluation asks it) the held-out item's rank

- `blend`: in the offline blend (the engine's SASRec and co-visit weight, the evaluation's
  test co-visits, every history item excluded), as `shopsense eval recs` ranks it;
- `pool_blend_order`: among the request's candidate pool (every source's top 50 and the
  blend's own top 50, servable items only, the last `history_len` items banned) in the
  blend's order: what candidate generation and the ban keep of the blend;
- `ranker`: the pool in the engine's ranker's order (the blend order when the guard kept it);
- `feedback`: then the shopper's feedback (dismissals, purchases) and the rules (none here);
- `served`: `for_you` itself (feedback, then the variety cap);
- `served_no_feedback`: `for_you` without the shopper's profile (no feedback at all);
- `served_no_cap`: `for_you` with the per-category variety cap off;
- `served_clock_time`: `for_you` with feedback decayed to the clock's time instead of the
  held-out event's (as the served evaluation did before session 10);
- `served_durable_S`: `for_you` with `durable_category_strength` = S (`--strengths`, default
  0.25; the engine's default is 1: other durables of a category just bought sink below the
  whole list, which the storefront's "bought durables do not fill for you" requires).

Prints nDCG@10 / HR@10 of each with 95 % intervals, each minus the blend (paired), the pool's
recall of the held-out item, and how many requests the pool did not serve (fewer than 2k
candidates: the thin-history path). `--json` writes the whole report.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from shopsense.evaluation.metrics import loo_metrics, summarise, target_ranks
from shopsense.evaluation.recs import _covisit, load_split
from shopsense.evaluation.served import engine_blend, served_requests, served_sample
from shopsense.models.context import RecContext
from shopsense.models.sequences import top_k_excluding
from shopsense.pipeline.recommend import RecommendationEngine
from shopsense.pipeline.recommend_pool import CandidatePool

DEPTH = 20
STAGES = ("blend", "pool_blend_order", "ranker", "feedback", "served", "served_no_feedback",
          "served_no_cap", "served_clock_time")


def blend_ranks(engine: RecommendationEngine, split: Any, chosen: np.ndarray) -> np.ndarray:
    """The offline blend's rank of each chosen shopper's test item (as `blend_report`)."""
    blend = engine_blend(engine, engine.sources["sasrec"].model_, split)  # type: ignore[attr-defined]
    scorer = blend.with_covisit(_covisit(split.items, [*split.test_histories, *split.short]))
    histories = [split.test_histories[i] for i in chosen]
    out = []
    for start in range(0, len(histories), 512):
        hist = histories[start:start + 512]
        top = top_k_excluding(np.asarray(scorer(hist), dtype=np.float64), DEPTH, hist)
        out.append(target_ranks(top, split.test_targets[chosen[start:start + 512]]))
    return np.concatenate(out)


def rank_of(target: str, ids: list[str]) -> int:
    return ids.index(target) if target in ids[:DEPTH] else -1


def stage_ranks(engine: RecommendationEngine, request: Any,
                variants: dict[str, RecommendationEngine]) -> dict[str, Any]:
    """The held-out item's rank after each stage of one request."""
    recent = engine.histories.get(request.user, [])[-engine.config.history_len:]
    ctx = RecContext(user_id=request.user, recent_items=tuple(recent), now=request.now)
    at = RecContext(now=request.now)

    def answer(source: RecommendationEngine, feedback: bool = True,
               when: RecContext | None = at) -> int:
        found = source.for_you(request.user, k=DEPTH, context=when,
                               profile=request.profile if feedback else None,
                               repurchase=request.repurchase if feedback else None)
        return rank_of(request.target, [r.item_id for r in found])

    out: dict[str, Any] = {"served": answer(engine), "served_no_feedback": answer(engine, False),
                           "served_no_cap": answer(variants["no_cap"]),
                           "served_clock_time": answer(engine, when=None)}
    out.update({f"served_{name}": answer(v) for name, v in variants.items() if name != "no_cap"})
    pool = CandidatePool.build(engine, ctx, engine.personal_names(), set(recent))
    out["in_pool"] = pool is not None and request.target in pool.ids
    if pool is None or len(pool) < 2 * DEPTH:  # the thin-history path serves it
        out.update(pool_blend_order=out["served"], ranker=out["served"],
                   feedback=out["served"], thin=True)
        return out
    if pool.parts is not None:
        blend = np.where(pool.blend_valid, pool.parts[0][np.maximum(pool.blend_at, 0)],
                         -np.inf)
        order = sorted(range(len(pool)), key=lambda i: (-blend[i], pool.ids[i]))
        out["pool_blend_order"] = rank_of(request.target, [pool.ids[i] for i in order])
    pool.rank(request.profile)
    out["ranker"] = rank_of(request.target, [pool.ids[i] for i in pool.order])
    half_life = engine.config.dismiss_half_life_days
    out["feedback"] = rank_of(request.target, [c.item_id for c in pool.finish(
        DEPTH, request.profile, None, request.repurchase, half_life, None)])
    out.setdefault("pool_blend_order", out["ranker"])
    out["thin"] = False
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=Path, required=True)
    parser.add_argument("--catalog", type=Path)
    parser.add_argument("--engine", type=Path, required=True)
    parser.add_argument("--users", type=int, default=None, help="a seeded sample (default all)")
    parser.add_argument("--json", type=Path, help="write the report here")
    parser.add_argument("--strengths", type=lambda v: [float(x) for x in v.split(",")],
                        default=[0.25], help="durable_category_strength values to compare")
    args = parser.parse_args()
    started, cpu = time.perf_counter(), time.process_time()
    data, products, split = load_split(args.events, args.catalog)
    engine = RecommendationEngine.load(args.engine, products)
    variants = {name: RecommendationEngine(engine.items, engine.sources, engine.products,
                                           engine.histories, engine.ranker,
                                           replace(engine.config, **change), engine.info)
                for name, change in [("no_cap", {"max_per_category": None}),
                                     *((f"durable_{x:g}", {"durable_category_strength": x})
                                       for x in args.strengths)]}
    stages = (*STAGES, *(f"served_{name}" for name in variants if name != "no_cap"))
    chosen = served_sample(len(split.test_users), args.users, 0)
    rows = [stage_ranks(engine, request, variants)
            for request in served_requests(engine, data, products, chosen)]
    ranks = {"blend": blend_ranks(engine, split, chosen)}
    ranks.update({s: np.asarray([r[s] for r in rows], dtype=np.int64) for s in stages[1:]})
    metrics = {s: loo_metrics(ranks[s], (10,)) for s in stages}
    report: dict[str, Any] = {
        "engine": str(args.engine), "shoppers": int(chosen.size),
        "ranker": engine.info.get("ranker", {}).get("serving"),
        "blend_weight": engine.config.blend_weight,
        "pool_recall": float(np.mean([r["in_pool"] for r in rows])),
        "thin_history_requests": int(sum(r["thin"] for r in rows)),
        "stages": {s: summarise(metrics[s]) for s in stages},
        "minus_blend": {s: summarise({m: metrics[s][m] - metrics["blend"][m]
                                      for m in metrics[s]}) for s in stages[1:]},
        "differs_from_blend_rank": {s: int((ranks[s] != ranks["blend"]).sum())
                                    for s in stages[1:]},
        "wall_s": round(time.perf_counter() - started, 1),
        "cpu_s": round(time.process_time() - cpu, 1)}
    for s in stages:
        gap = report["minus_blend"].get(s, {})
        print(f"{s:20s} ndcg@10 {report['stages'][s]['ndcg@10']:.5f} "
              f"hr@10 {report['stages'][s]['hr@10']:.5f}"
              + (f"  minus blend {gap['ndcg@10']:+.5f} {gap['ndcg@10_ci']}" if gap else ""))
    print(json.dumps({k: v for k, v in report.items() if k not in ("stages", "minus_blend")}))
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
