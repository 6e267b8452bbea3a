"""Incremental SASRec on Beauty (`benchmarks/recs.py --parts incremental`).

30 % of the shoppers' last two training events and 5 % of the shoppers arrive after the
previous version, which is trained on the rest (and cached under benchmarks/.data, so variants
can be re-run without training it again). The new version then either continues the previous
one on the changed shoppers' sequences plus a replay sample of the others (models.incremental;
continued training warms up and decays from `lr x warm_lr_scale`), validated and promoted on
the changed shoppers' held-out events or on everyone's, or is trained from scratch on all
events. Test NDCG@10 / HR@10 on every shopper and on the changed ones, epochs, CPU-seconds.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BEAUTY = ROOT / ".." / "shared" / "data" / "amazon-beauty-p5-titles"
CACHE = ROOT / "benchmarks" / ".data" / "incremental-previous"

# name: (SASRec overrides, replay share, validate on "changed" shoppers or "all")
VARIANTS: dict[str, tuple[dict[str, Any], float, str]] = {
    "incremental (lr x0.25 warm-up + cosine 4 epochs, replay 0.5, valid all)":
        ({"warm_lr_scale": 0.25, "warm_schedule_epochs": 4}, 0.5, "all"),
    "incremental (lr x0.25 warm-up + cosine 4 epochs, replay 0.2, valid changed)":
        ({"warm_lr_scale": 0.25, "warm_schedule_epochs": 4}, 0.2, "changed"),
    "incremental (lr x0.5 warm-up + cosine 3 epochs, full replay, valid all)":
        ({"warm_lr_scale": 0.5, "warm_schedule_epochs": 3}, 1.0, "all"),
    "incremental (lr x1 warm-up + cosine 4 epochs, replay 0.5, valid all)":
        ({"warm_lr_scale": 1.0, "warm_schedule_epochs": 4}, 0.5, "all"),
}


def incremental(max_minutes: float, late_share: float = 0.3, new_share: float = 0.05,
                seed: int = 0, variants: Sequence[str] | None = None,
                scratch: bool = True) -> dict[str, Any]:
    """Previous version on the early events; the new one continued (each variant) vs from
    scratch."""
    from shopsense.evaluation.recs import leave_one_out, ranking_metrics
    from shopsense.models.incremental import WarmStart, incremental_sequences
    from shopsense.models.interactions import load_interactions
    from shopsense.models.sasrec import SASRec

    data = load_interactions(BEAUTY / "sequential_data.txt")
    split = leave_one_out(data)
    n_items = len(split.items)
    titles = beauty_titles(split.items.ids)
    rng = np.random.default_rng(seed)
    draw = rng.random(len(split.train))
    late, new = draw < late_share, draw > 1 - new_share  # shoppers with events since
    changed = late | new
    early = [s[:0] if n else s[:-2] if lt else s
             for s, lt, n in zip(split.train, late, new, strict=True)]
    budget = {"time_budget_s": max_minutes * 60}
    valid = (split.valid_histories, split.valid_targets)
    latest = np.array([changed[u] for u, seq in enumerate(data.sequences) if len(seq) >= 3])
    fresh_valid = ([h for h, k in zip(valid[0], latest, strict=True) if k], valid[1][latest])
    out: dict[str, Any] = {"late_share": late_share, "new_shopper_share": new_share}
    previous = _previous(early, n_items, valid, titles, budget)

    def continued(name: str) -> SASRec:
        overrides, replay, check = VARIANTS[name]
        return SASRec(**budget, **overrides).fit(
            incremental_sequences(split.train, changed, replay, seed), n_items,
            valid=valid if check == "all" else fresh_valid, item_init=titles,
            warm_start=WarmStart(previous, np.arange(n_items)))

    runs: dict[str, Any] = {"previous (early events only)": lambda: previous}
    for name in variants if variants is not None else VARIANTS:
        runs[name] = lambda name=name: continued(name)
    if scratch:
        runs["from scratch"] = lambda: SASRec(**budget).fit(split.train, n_items, valid=valid,
                                                            item_init=titles)
    for name, fit in runs.items():
        model = fit()
        test = ranking_metrics(model.score, split.test_histories, split.test_targets, n_items)
        fresh = ranking_metrics(model.score, [h for h, k in zip(split.test_histories, latest,
                                                                strict=True) if k],
                                split.test_targets[latest], n_items)
        out[name] = {"ndcg@10": round(test["ndcg@10"], 5), "hr@10": round(test["hr@10"], 5),
                     "changed_shoppers_ndcg@10": round(fresh["ndcg@10"], 5),
                     **model.training_report(sum(map(len, split.train)))}
        print(json.dumps({name: out[name]}), flush=True)
    return out


def beauty_titles(item_ids: Sequence[str]) -> np.ndarray:
    """Beauty's title vectors (64-d) in `item_ids` order, cached under benchmarks/.data (USE
    encoding of 12k titles costs minutes of CPU on the shared machine)."""
    from shopsense.models.interactions import load_catalog
    from shopsense.models.text_init import title_vectors

    digest = hashlib.sha1("\n".join(item_ids).encode()).hexdigest()[:12]
    path = CACHE.parent / f"beauty-titles-{digest}.npy"
    if path.exists():
        return np.load(path)
    vectors = title_vectors(load_catalog(BEAUTY / "items_with_titles.derived.csv"), item_ids, 64)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def _previous(early: list[np.ndarray], n_items: int, valid: Any, titles: np.ndarray,
              budget: dict[str, float]) -> Any:
    """The serving version trained on the early events (cached: it is deterministic)."""
    from shopsense.models.sasrec import SASRec

    if (CACHE / "weights.pt").exists():
        model = SASRec.load(CACHE)
        info = json.loads((CACHE / "info.json").read_text())
        model.info_, model.history_ = info["info"], info["history"]
        return model
    model = SASRec(**budget).fit(early, n_items, valid=valid, item_init=titles)
    model.save(CACHE)
    (CACHE / "info.json").write_text(json.dumps({"info": model.info_,
                                                 "history": model.history_}))
    return model
