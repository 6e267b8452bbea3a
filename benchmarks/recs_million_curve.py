"""Why does SASRec not learn the 1M-item planted walks in its first epoch? Validation curves.

A run at 1M items costs ~200 CPU-s an epoch, so the settings are compared on a scaled copy of
the same structure first: `--items N` items and N x 0.3 shoppers keep the events per item
(~3 an epoch: what makes the 1M table hard) and the group size; the item table takes sparse
updates (SparseAdam) at every size, as it does at 1M. Each setting is one `SASRec.fit` as
training runs it (sampled softmax, the flattening rule, a CPU budget), 1,000 shoppers' last
items held out; every epoch's validation NDCG@10 is printed and the results go to JSON.

    python benchmarks/recs_million_curve.py --items 100000 --budget 240 \\
        --setting sparse_item_lr_scale=1 --setting base
    python benchmarks/recs_million_curve.py --items 1000000 --budget 2700 --save DIR \\
        --out benchmarks/results/recs_million_curve.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from recs_million import fit_run, planted_sequences, rss_mib


def parse_setting(text: str) -> dict[str, Any]:
    """'base' or 'name=value,name=value' (SASRecConfig fields; numbers as numbers)."""
    if text == "base":
        return {}
    out: dict[str, Any] = {}
    for part in text.split(","):
        name, value = part.split("=", 1)
        out[name.strip()] = json.loads(value) if value[:1].isdigit() or value[:1] in "-." \
            else value
    return out


def run(items: int, budget_s: float, settings: list[str], users: int | None = None,
        save: Path | None = None) -> list[dict[str, Any]]:
    users = users or int(items * 0.3)
    sequences = planted_sequences(items, users)
    valid_users = np.random.default_rng(2).permutation(users)[:1000]
    results = []
    for text in settings:
        overrides = {"sparse_items_above": 0, **parse_setting(text)}
        print(f"{items:,} items, {users:,} shoppers, {sum(map(len, sequences)):,} events: "
              f"{text} ({overrides})", flush=True)
        cpu, wall = time.process_time(), time.perf_counter()
        rss: dict[str, float] = {}
        model, fitted = fit_run(sequences, items, valid_users, budget_s, rss, **overrides)
        if save is not None:  # the last setting's model, for benchmarks/recs_million_parts.py
            model.save(save)
        results.append({"items": items, "users": users, "setting": text,
                        "overrides": overrides, **fitted,
                        "process_cpu_s": round(time.process_time() - cpu, 1),
                        "wall_s": round(time.perf_counter() - wall, 1),
                        "peak_rss_mib": rss_mib("VmHWM")})
        print(json.dumps(results[-1]), flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=None)
    parser.add_argument("--budget", type=float, default=240.0, help="CPU-s per setting")
    parser.add_argument("--setting", action="append", default=None)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--save", type=Path, default=None, help="save the trained model here")
    args = parser.parse_args()
    results = run(args.items, args.budget, args.setting or ["base"], args.users, args.save)
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
