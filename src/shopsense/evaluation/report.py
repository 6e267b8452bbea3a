"""`shopsense eval report`: one evaluation a shop can believe, on its own logged data.

- search: judgments mined from the logs (a search followed, in the same session, by a click
  = gain 1, a cart = 2, a purchase = 3), split by query into train / held-out; shopsense vs
  plain BM25 in the same run, with bootstrap CIs over queries;
- recommendations: leave-one-out by time, full ranking, vs popularity; beyond accuracy
  (catalogue coverage, intra-list category diversity, novelty) of the serving engine;
- query understanding: does the understood category match the category of what the shopper
  then engaged with (CI over queries);
- propensity: AUC, Brier, ECE and the reliability curve on a later time window, vs baselines;
- counterfactual: IPS / SNIPS / DR with intervals on the logged exploring lists
  (`store.impressions`); a note saying what is missing when there are none.
Writes report.json and report.html (plots inline) into the output folder.
"""

from __future__ import annotations

import base64
import io
import json
import math
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from shopsense.domain import Event, Product
from shopsense.evaluation.metrics import bootstrap_ci
from shopsense.evaluation.search import (
    JudgedQuery,
    evaluate_search,
    sample_queries,
    split_queries,
)
from shopsense.store.base import Store

GAINS = {"click": 1.0, "view": 1.0, "cart": 2.0, "purchase": 3.0}


def logged_judgments(events: Sequence[Event]) -> list[JudgedQuery]:
    """Implicit judgments: what each session engaged with after a search, until the next one."""
    by_session: dict[str, list[Event]] = defaultdict(list)
    for e in events:
        by_session[e.session_id or e.actor].append(e)
    merged: dict[str, dict[str, float]] = defaultdict(dict)
    for session in by_session.values():
        query = None
        for e in sorted(session, key=lambda x: x.timestamp):
            if e.event_type == "search" and e.query:
                query = e.query.strip()
            elif query and e.item_id and e.event_type in GAINS:
                gains = merged[query]
                gains[e.item_id] = max(gains.get(e.item_id, 0.0), GAINS[e.event_type])
    return [JudgedQuery(f"logq{i}", q, g) for i, (q, g) in enumerate(sorted(merged.items())) if g]


def understanding_on_logs(understander: Any, judged: Sequence[JudgedQuery],
                          products: dict[str, Product], limit: int = 400) -> dict[str, Any]:
    top_hits, full_hits = [], []
    for q in judged[:limit]:
        engaged = [products[i].category for i, g in q.gains.items() if g >= 2 and i in products]
        if not engaged:
            continue
        target = Counter(engaged).most_common(1)[0][0]
        slot = understander.understand(q.query).category
        predicted = str(slot.value) if slot is not None else ""
        full_hits.append(float(bool(predicted) and (target == predicted
                                                   or target.startswith(predicted + " > "))))
        top_hits.append(float(predicted.split(">")[0].strip() == target.split(">")[0].strip()))
    return {"queries": len(full_hits),
            "category_accuracy": float(np.mean(full_hits)) if full_hits else 0.0,
            "category_accuracy_ci95": list(bootstrap_ci(full_hits)),
            "top_category_accuracy": float(np.mean(top_hits)) if top_hits else 0.0,
            "method": "understood category vs category of the item carted/bought after the query"}


def beyond_accuracy(recs: Any, users: Sequence[str], products: dict[str, Product],
                    popularity: Counter[str], k: int = 10) -> dict[str, Any]:
    total = sum(popularity.values()) or 1
    shown: set[str] = set()
    diversity, novelty = [], []
    for user in users:
        items = [r.item_id for r in recs.for_you(user, k=k)]
        shown.update(items)
        cats = [products[i].category for i in items if i in products]
        pairs = [(a, b) for n, a in enumerate(cats) for b in cats[n + 1:]]
        if pairs:
            diversity.append(sum(a != b for a, b in pairs) / len(pairs))
        novelty += [-math.log2(max(popularity.get(i, 0), 1) / total) for i in items]
    return {"users": len(users), f"coverage@{k}": len(shown) / max(len(products), 1),
            "intra_list_diversity": float(np.mean(diversity)) if diversity else 0.0,
            "novelty_bits": float(np.mean(novelty)) if novelty else 0.0}


def _plot(report: dict[str, Any]) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    images = []
    bars = []
    if "search" in report and "ndcg@10" in report["search"]:
        bars.append(("search nDCG@10", report["search"]["ndcg@10"],
                     report["search"]["baseline_bm25"]["ndcg@10"], "BM25"))
    if "recs" in report and "blend" in report["recs"]:
        bars.append(("recs NDCG@10", report["recs"]["blend"]["ndcg@10"],
                     report["recs"]["baseline_popularity"]["ndcg@10"], "popularity"))
    if bars:
        fig, ax = plt.subplots(figsize=(6, 3))
        xs = np.arange(len(bars))
        ax.bar(xs - 0.2, [b[1] for b in bars], 0.4, label="shopsense")
        ax.bar(xs + 0.2, [b[2] for b in bars], 0.4, label="baseline")
        ax.set_xticks(xs, [f"{b[0]}\n(vs {b[3]})" for b in bars])
        ax.legend()
        images.append(_png(fig))
    curve = report.get("propensity", {}).get("models", {})
    if curve:
        fig, ax = plt.subplots(figsize=(4, 4))
        ax.plot([0, 1], [0, 1], "k--", lw=1)
        for name, block in curve.items():
            points = (block.get("general") or {}).get("reliability") or []
            if points:
                ax.plot([p["mean_predicted"] for p in points], [p["observed_rate"] for p in points],
                        "o-", label=name)
        ax.set_xlabel("predicted")
        ax.set_ylabel("observed")
        ax.legend()
        images.append(_png(fig))
    return images


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=90)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def write_report(report: dict[str, Any], out: Path) -> dict[str, str]:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False,
                                                default=str))
    images = "".join(f'<img src="data:image/png;base64,{img}">' for img in _plot(report))
    body = json.dumps(report, indent=2, ensure_ascii=False, default=str)
    (out / "report.html").write_text(
        "<!doctype html><meta charset=utf-8><title>shopsense evaluation</title>"
        "<h1>shopsense evaluation report</h1>"
        f"<p>Generated {time.strftime('%Y-%m-%d %H:%M:%S')}.</p>{images}"
        f"<pre>{body.replace('<', '&lt;')}</pre>", encoding="utf-8")
    return {"json": str(out / "report.json"), "html": str(out / "report.html")}


def build_report(shop: Any, *, sasrec_cpu_seconds: float = 120.0, seed: int = 0,
                 sections: Sequence[str] = ("search", "understand", "recs", "propensity",
                                            "beyond", "counterfactual")) -> dict[str, Any]:
    """Evaluate every component on the shop's own data (see the module docstring)."""
    from shopsense.evaluation.propensity import evaluate_propensity
    from shopsense.evaluation.recs import evaluate_recs
    from shopsense.ingest.public import write_jsonl
    from shopsense.text.encoders import make_encoder

    products = dict(shop.products)
    events = list(shop.store.iter_events())
    report: dict[str, Any] = {"generated_at": time.time(), "products": len(products),
                              "events": len(events)}
    judged = logged_judgments(events)
    if "search" in sections and len(judged) >= 20:
        train, held = split_queries(judged, 0.5, seed)
        train, held = sample_queries(train, 1000, seed), sample_queries(held, 400, seed)
        report["search"] = evaluate_search(list(products.values()), held, train,
                                           encoder=make_encoder(shop.settings.search.encoder),
                                           cache_dir=shop.settings.home / "cache" / "embeddings")
        report["search"]["judgments"] = "mined from logged searches and what followed them"
    if "understand" in sections and shop.models.understander is not None:
        report["understand"] = understanding_on_logs(shop.models.understander, judged, products)
    if "recs" in sections:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "events.jsonl"
            write_jsonl(({"user_id": e.actor, "item_id": e.item_id, "event_type": e.event_type,
                          "timestamp": e.timestamp} for e in events if e.item_id), path)
            catalog = Path(tmp) / "products.jsonl"
            write_jsonl(({"item_id": p.item_id, "title": p.title} for p in products.values()),
                        catalog)
            report["recs"] = evaluate_recs(path, catalog,
                                           model_options={"time_budget_s": sasrec_cpu_seconds})
    if "propensity" in sections:
        report["propensity"] = evaluate_propensity(events, products, seed=seed)
    if "beyond" in sections and shop.models.recs is not None:
        users = sorted({e.actor for e in events if e.user_id})[:300]
        popularity = Counter(e.item_id for e in events if e.item_id)
        report["beyond_accuracy"] = beyond_accuracy(shop.models.recs, users, products, popularity)
    if "counterfactual" in sections:
        report["counterfactual"] = counterfactual_section(shop.store, seed)
    return report


def counterfactual_section(store: Store, seed: int = 0) -> dict[str, Any]:
    """IPS / SNIPS / DR estimates of the greedy, uniform and logging policies on the store's
    own exploring lists (`store.impressions`), per surface; says why when there are none."""
    from shopsense.evaluation.counterfactual import counterfactual_report
    from shopsense.store.impressions import impressions_of

    records = list(impressions_of(store).iter())
    estimates = counterfactual_report(records, seed=seed) if records else {}
    if not estimates:
        return {"lists": len(records), "estimates": {},
                "note": "no exploring lists logged: set recs.explore_epsilon > 0 (on in the "
                        "demo) and report impressions (/v1/impressions)"}
    return {"lists": len(records), "estimates": estimates,
            "value": "expected clicks per list (first 10 positions); item-position model",
            "policies": {"logging": "as served", "greedy": "exploration off",
                         "uniform": "a uniform shuffle of the same pool"}}
