"""SASRec at 1M items: synthetic sequences with a planted structure (`benchmarks/recs.py --million`).

The catalogue is 1,000,000 items in 10,000 groups of 100; a shopper picks a group and walks it,
the next item being the following one in the group with probability 0.7, else a random item of
the same group. What it measures, in one process on one torch thread:
  - the CPU cost of sampled-softmax training steps per 1k target positions at this size (a few
    hundred steps, not a whole run), and from it the CPU-hours of one epoch over the generated
    events and the Ray workers needed to fit `epochs` epochs into an hour of wall time;
  - the validation NDCG@10 reached after the steps (1,000 shoppers) (the planted structure is learnable: a
    group's next item is predictable, popularity is not);
  - serving: one shopper's scores over the whole catalogue and its top 10 (numpy forward,
    matrix product, argpartition), p50 / p99 wall and CPU milliseconds over `requests`
    requests (CPU time is what a loaded shared machine distorts least).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np


def planted_sequences(n_items: int, n_users: int, group: int = 100, follow: float = 0.7,
                      seed: int = 0) -> list[np.ndarray]:
    """Walks inside item groups: next = following item of the group (p=`follow`) or random."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(5, 16, n_users)
    starts = rng.integers(0, n_items, n_users)
    out = []
    for start, length in zip(starts.tolist(), lengths.tolist(), strict=True):
        base, pos = start - start % group, start % group
        steps = np.where(rng.random(length) < follow, 1, rng.integers(1, group, length))
        out.append(base + (pos + np.cumsum(steps) - steps[0]) % group)
    return out


def million(n_items: int = 1_000_000, n_users: int = 300_000, train_steps: int = 100,
            requests: int = 200, epochs: int = 3) -> dict[str, Any]:

    from shopsense.models.parallel import LocalSync
    from shopsense.models.sasrec import SASRec, SASRecNet
    from shopsense.models.sequences import next_item_pairs, top_k_excluding

    sequences = planted_sequences(n_items, n_users)
    events = int(sum(map(len, sequences)))
    inputs, targets = next_item_pairs([s[:-1] for s in sequences], 50)
    model = SASRec(loss="sampled")
    model.n_items_, model.net_ = n_items, SASRecNet(n_items, model.config)
    model._loss_fn = model._make_loss(targets, n_items, np.random.default_rng(0))
    optimiser = model._optimiser(LocalSync())
    rows = np.random.default_rng(1).permutation(len(inputs))[:train_steps * 256]
    cpu = time.process_time()
    model._epoch(inputs[rows], targets[rows], optimiser, np.random.default_rng(0), LocalSync())
    cpu = time.process_time() - cpu
    positions = int((targets[rows] > 0).sum())
    per_1k = 1000 * cpu / positions
    epoch_cpu_h = per_1k * int((targets > 0).sum()) / 1000 / 3600
    valid_users = np.random.default_rng(2).permutation(n_users)[:1000]
    histories = [sequences[u][:-1] for u in valid_users]
    truth = np.array([sequences[u][-1] for u in valid_users])
    model.net_.eval()
    valid = float(np.mean([model._valid_ndcg(histories[i:i + 64], truth[i:i + 64])
                           for i in range(0, len(histories), 64)]))
    latencies, cpu_ms = [], []
    table = model.item_vectors()
    for u in valid_users[:requests]:
        started, cpu_started = time.perf_counter(), time.process_time()
        state = model.encode([sequences[u][-50:]])
        top_k_excluding(state @ table.T, 10, [sequences[u][-50:]])
        latencies.append(1000 * (time.perf_counter() - started))
        cpu_ms.append(1000 * (time.process_time() - cpu_started))
    return {"items": n_items, "users": n_users, "events": events,
            "steps": len(rows) // 256, "cpu_s_per_1k_positions": round(per_1k, 3),
            "epoch_cpu_hours": round(epoch_cpu_h, 2),
            "ray_workers_for_epochs_in_1h": int(np.ceil(epochs * epoch_cpu_h)),
            "epochs_assumed": epochs,
            "sparse_item_updates": model.info_["sparse_item_updates"],
            "valid_ndcg@10_after_steps (1,000 shoppers)": round(valid, 4),
            "serve_cpu_ms_p50": round(float(np.percentile(cpu_ms, 50)), 2),
            "serve_cpu_ms_p99": round(float(np.percentile(cpu_ms, 99)), 2),
            "serve_ms_p50": round(float(np.percentile(latencies, 50)), 2),
            "serve_ms_p99": round(float(np.percentile(latencies, 99)), 2)}
