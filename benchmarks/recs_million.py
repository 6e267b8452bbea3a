"""SASRec at 1M items: synthetic sequences with a planted structure (`benchmarks/recs.py --million`).

The catalogue is 1,000,000 items in 10,000 groups of 100; a shopper picks a group and walks it,
the next item being the following one in the group with probability 0.7, else a random item of
the same group. What it measures, in one process on one torch thread:
  - the CPU cost of sampled-softmax training steps per 1k target positions at this size (a few
    hundred steps, not a whole run), and from it the CPU-hours of one epoch over the generated
    events and the Ray workers needed to fit `epochs` epochs into an hour of wall time;
  - the validation NDCG@10 reached after the steps (1,000 shoppers) (the planted structure is
    learnable: a group's next item is predictable, popularity is not);
  - the co-visit source fitted on every shopper (`CovisitRetriever`, as `train_all` fits it):
    CPU seconds, resident memory it adds, and the part of it that is each shopper's session
    tail (kept so the first event after a retrain pairs as training would have paired it);
  - serving, p50 / p99 wall and CPU milliseconds over `requests` requests: `sasrec_top10` is one
    shopper's SASRec scores over the whole catalogue and its top 10 (numpy forward, matrix
    product, argpartition); `blend_request` is what the for-you blend source computes per
    request in `pipeline.recommend` (SASRec's and co-visits' scores over every item through the
    serving sources, `blend_parts`, the top 50 of each of the three); CPU time is what a
    loaded shared machine distorts least. The other for-you sources (content, ALS, popular) and
    the ranker are not part of it.
Resident memory (`rss_mib`) is read from /proc at each stage: after generating, after the model
and its optimiser exist, after training, after the co-visit fit, and the process's peak.
"""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
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


def rss_mib(field: str = "VmRSS") -> float:
    """This process's resident memory (VmRSS) or its peak (VmHWM), MiB, from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def percentiles(values: Sequence[float], name: str) -> dict[str, float]:
    return {f"{name}_p50": round(float(np.percentile(values, 50)), 2),
            f"{name}_p99": round(float(np.percentile(values, 99)), 2)}


def timed(call: Callable[[Any], Any], args: Sequence[Any], name: str) -> dict[str, float]:
    """p50 / p99 wall and CPU milliseconds of `call(a)` over `args`, and the mean page
    faults (minor) and system-CPU milliseconds a call (what the C allocator costs)."""
    wall, cpu = [], []
    before = resource.getrusage(resource.RUSAGE_SELF)
    for a in args:
        started, cpu_started = time.perf_counter(), time.process_time()
        call(a)
        wall.append(1000 * (time.perf_counter() - started))
        cpu.append(1000 * (time.process_time() - cpu_started))
    after = resource.getrusage(resource.RUSAGE_SELF)
    calls = max(len(args), 1)
    return {**percentiles(wall, f"{name}_ms"), **percentiles(cpu, f"{name}_cpu_ms"),
            f"{name}_minor_faults": round((after.ru_minflt - before.ru_minflt) / calls, 1),
            f"{name}_sys_ms": round(1000 * (after.ru_stime - before.ru_stime) / calls, 2)}


def train_cost(model: Any, sequences: list[np.ndarray], n_items: int, train_steps: int,
                epochs: int, rss: dict[str, float]) -> dict[str, Any]:
    """`train_steps` batches of 256 sampled-softmax steps; their cost and an epoch's."""
    from shopsense.models.parallel import LocalSync
    from shopsense.models.sasrec import SASRecNet
    from shopsense.models.sequences import next_item_pairs

    inputs, targets = next_item_pairs([s[:-1] for s in sequences], 50)
    model.n_items_, model.net_ = n_items, SASRecNet(n_items, model.config)
    model._loss_fn = model._make_loss(targets, n_items, np.random.default_rng(0))
    optimiser = model._optimiser(LocalSync())
    rss["model_and_pairs"] = rss_mib()
    rows = np.random.default_rng(1).permutation(len(inputs))[:train_steps * 256]
    cpu = time.process_time()
    model._epoch(inputs[rows], targets[rows], optimiser, np.random.default_rng(0), LocalSync())
    cpu = time.process_time() - cpu
    rss["after_steps"] = rss_mib()
    per_1k = 1000 * cpu / int((targets[rows] > 0).sum())
    epoch_cpu_h = per_1k * int((targets > 0).sum()) / 1000 / 3600
    model.net_.eval()
    model.net_.item_emb.sparse = False
    return {"steps": len(rows) // 256, "step_cpu_s": round(cpu, 1),
            "cpu_s_per_1k_positions": round(per_1k, 3),
            "epoch_cpu_s": round(epoch_cpu_h * 3600), "epoch_cpu_hours": round(epoch_cpu_h, 2),
            "ray_workers_for_epochs_in_1h": int(np.ceil(epochs * epoch_cpu_h)),
            "epochs_assumed": epochs,
            "sparse_item_updates": model.info_["sparse_item_updates"]}


def covisit_fit(sequences: list[np.ndarray], ids: list[str], rss: dict[str, float]
                ) -> tuple[Any, dict[str, Any]]:
    """The co-visit source fitted on every shopper's walk, as `train_all` fits it."""
    from shopsense.models.interactions import Interactions
    from shopsense.models.sequences import ItemIndex
    from shopsense.retrieve.covisit import CovisitRetriever

    items = ItemIndex(ids)
    data = Interactions([f"u{u}" for u in range(len(sequences))],
                        [[ids[i] for i in s.tolist()] for s in sequences])
    before, cpu = rss_mib(), time.process_time()
    source = CovisitRetriever().fit(data, items)
    cpu = time.process_time() - cpu
    rss["after_covisit"] = rss_mib()
    tails = source.sessions_
    tail_bytes = sum(sys.getsizeof(k) + sys.getsizeof(v) + 28 * len(v) for k, v in tails.items())
    tail_bytes += sys.getsizeof(tails)
    matrix = source.matrix_
    return source, {
        "covisit_fit_cpu_s": round(cpu, 1), "covisit_rss_added_mib": round(rss_mib() - before, 1),
        "covisit_pairs_mib": round((matrix.data.nbytes + matrix.indices.nbytes
                                    + matrix.indptr.nbytes) / 2 ** 20, 1),
        "covisit_session_tails": len(tails),
        "covisit_session_tails_mib": round(tail_bytes / 2 ** 20, 1)}


def serving(model: Any, covisit: Any, sequences: list[np.ndarray], users: np.ndarray,
            ids: list[str], weight: float = 2.0) -> dict[str, float]:
    """Per-request latency: SASRec's top 10, and the for-you blend source's request (SASRec's
    scores as it serves them: two-stage above `ivf_min_items`, models.sasrec_ivf)."""
    from shopsense.models.blend import BlendView, blend_parts
    from shopsense.models.context import RecContext
    from shopsense.models.sequences import top_k_excluding
    from shopsense.retrieve.sequential import SequentialRetriever

    histories = [sequences[u][-50:] for u in users]

    def sasrec_top10(history: np.ndarray) -> None:  # exact or two-stage, as it serves
        top_k_excluding(model.score_request(history)[None], 10, [history])

    sasrec = SequentialRetriever(model.config)
    sasrec.items_, sasrec.categories_, sasrec.model_ = covisit.items_, covisit.categories_, model
    view = BlendView(sasrec)

    def blend_request(history: np.ndarray) -> None:
        ctx = RecContext(recent_items=tuple(ids[i] for i in history.tolist()))
        banned = set(ctx.recent_items)
        dense = {name: np.asarray(source.score_all(ctx), np.float64)
                 for name, source in (("sasrec", sasrec), ("covisit", covisit))}
        sasrec.retrieve_scored(ctx, dense["sasrec"], 50, exclude=banned)
        covisit.retrieve_scored(ctx, dense["covisit"], 50, exclude=banned)
        view.retrieve_scored(ctx, blend_parts(dense["sasrec"], dense["covisit"], weight)[0],
                             50, exclude=banned)

    return {**timed(sasrec_top10, histories, "serve"),
            **timed(blend_request, histories, "blend_request")}


def fit_run(sequences: list[np.ndarray], n_items: int, valid_users: np.ndarray,
            budget_s: float, rss: dict[str, float], **overrides: Any
            ) -> tuple[Any, dict[str, Any]]:
    """`SASRec.fit` as training runs it (sampled softmax, sparse item updates, the 1 %
    flattening rule) for `budget_s` CPU seconds: each validation shopper's last item is held
    out; the validation curve, epochs and CPU per epoch."""
    from shopsense.models.sasrec import SASRec

    held = set(valid_users.tolist())
    train = [s[:-1] if u in held else s for u, s in enumerate(sequences)]
    valid = ([sequences[u][:-1] for u in valid_users],
             np.array([sequences[u][-1] for u in valid_users]))

    def show(row: dict[str, float]) -> None:
        print(f"  epoch {int(row['epoch'])}: valid ndcg@10 {row['valid_ndcg@10']:.4f} "
              f"({row['cpu_seconds']:.0f} CPU-s)", flush=True)

    model = SASRec(**{"loss": "sampled", "time_budget_s": budget_s, **overrides})
    model.fit(train, n_items, valid=valid, on_epoch=show)
    rss["after_fit"] = rss_mib()
    report = model.training_report(int(sum(map(len, train))))
    return model, {"fit": {k: report[k] for k in (
        "loss", "sparse_item_updates", "epochs", "best_epoch", "cpu_seconds",
        "cpu_seconds_per_epoch", "cpu_seconds_per_1k_events_epoch") if k in report},
        "fit_convergence": report.get("convergence"),
        "fit_curve": [round(r["valid_ndcg@10"], 4) for r in model.history_]}


def million(n_items: int = 1_000_000, n_users: int = 300_000, train_steps: int = 100,
            requests: int = 200, epochs: int = 3, fit_budget_s: float = 0.0
            ) -> dict[str, Any]:
    """Every figure of the module docstring; `fit_budget_s` > 0 also trains the model as
    `shopsense train` does for that many CPU seconds (`fit_run`) and serves that model."""
    from shopsense.models.sasrec import SASRec

    rss: dict[str, float] = {"start": rss_mib()}
    sequences = planted_sequences(n_items, n_users)
    rss["after_sequences"] = rss_mib()
    model = SASRec(loss="sampled")
    out: dict[str, Any] = {"items": n_items, "users": n_users,
                           "events": int(sum(map(len, sequences)))}
    out.update(train_cost(model, sequences, n_items, train_steps, epochs, rss))
    valid_users = np.random.default_rng(2).permutation(n_users)[:1000]
    histories = [sequences[u][:-1] for u in valid_users]
    truth = np.array([sequences[u][-1] for u in valid_users])
    out["valid_ndcg@10_after_steps (1,000 shoppers)"] = round(float(np.mean(
        [model._valid_ndcg(histories[i:i + 64], truth[i:i + 64])
         for i in range(0, len(histories), 64)])), 4)
    if fit_budget_s > 0:
        del model
        model, fitted = fit_run(sequences, n_items, valid_users, fit_budget_s, rss)
        out.update(fitted)
    ids = [str(i) for i in range(n_items)]
    covisit, cov = covisit_fit(sequences, ids, rss)
    out.update(cov)
    out.update(serving(model, covisit, sequences, valid_users[:requests], ids))
    rss["peak"] = rss_mib("VmHWM")
    out["rss_mib"] = rss
    return out
