"""Where a for-you request's time goes at 1M items (the pieces of recs_million's `serving`).

    python benchmarks/recs_million_parts.py sources   # co-visit scores, top 50s, blend_parts
    python benchmarks/recs_million_parts.py recall MODEL_DIR   # that recall only
    python benchmarks/recs_million_parts.py compare OLD_SRC [MODEL_DIR]
        # whole blend requests (exact SASRec): this checkout's blend_parts and top_indices
        # against OLD_SRC's (an export of another commit's src), in one process, rounds
        # interleaved; first checks that both give the same parts and top 50s bit for bit
    python benchmarks/recs_million_parts.py request [MODEL_DIR]
        # + SASRec: exact against two-stage scores (models.sasrec_ivf), whole requests, and
        # the two-stage top 10 / 50's recall of the exact one at several probe counts;
        # MODEL_DIR: a trained 1M model (recs_million_curve.py --save), else an untrained
        # one (latency does not depend on the weights; recall does)
    python benchmarks/recs_million_parts.py scan [MODEL_DIR|-] [CANDIDATES]
        # whole blend requests as pipeline.recommend serves them (`request_scores`): exact
        # against the quantised scan + exact re-scoring (models.sasrec_scan), interleaved,
        # and the scanned blend's recall of the exact blend's top 10 / 50
    python benchmarks/recs_million_parts.py threshold
        # SASRec's share of a request, exact against scanned, at 25k-1M items

`sources` builds no SASRec, so it runs unchanged against an older `shopsense` (PYTHONPATH to
an export of another commit's src) for a before / after on the same data. p50 / p99 wall and
CPU ms per call (`recs_million.timed`), one process, OMP_NUM_THREADS=1.
"""

from __future__ import annotations

import copy
import json
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from recs_million import covisit_fit, planted_sequences, serving, timed

N_ITEMS, N_USERS = 1_000_000, 300_000


def sources(requests: int = 100) -> None:
    from shopsense.models.blend import blend_parts
    from shopsense.models.context import RecContext, top_indices

    seqs = planted_sequences(N_ITEMS, N_USERS)
    ids = [str(i) for i in range(N_ITEMS)]
    cov, info = covisit_fit(seqs, ids, {})
    print(info, flush=True)
    users = np.random.default_rng(2).permutation(N_USERS)[:requests]
    ctxs = [RecContext(recent_items=tuple(ids[i] for i in seqs[u][-50:].tolist()))
            for u in users]
    s = np.random.default_rng(0).normal(size=N_ITEMS)
    print(timed(lambda c: cov.score_all(c), ctxs, "covisit_score_all"))
    cv = cov.score_all(ctxs[0])
    print(timed(lambda c: top_indices(s, 50, set()), ctxs, "top50_dense"))
    print(timed(lambda c: top_indices(cv, 50, set()), ctxs, "top50_covisit"))
    print(timed(lambda c: blend_parts(s, cv, 2.0), ctxs, "blend_parts"))


def _exact(model_dir: str | None) -> Any:
    """The 1M model scored exactly: trained (MODEL_DIR) or untrained (latency only)."""
    from shopsense.models.sasrec import SASRec, SASRecNet

    if model_dir:
        model = SASRec.load(Path(model_dir))
    else:
        model = SASRec(loss="sampled")
        model.n_items_, model.net_ = N_ITEMS, SASRecNet(N_ITEMS, model.config)
        model.net_.eval()
    model.config = replace(model.config, ivf_min_items=0, scan_min_items=0)
    return model


def _models(model_dir: str | None) -> tuple[Any, Any, float]:
    """(two-stage model, the same network scored exactly, CPU-s to build the partition)."""
    from shopsense.models.sasrec import SASRec, SASRecNet

    if model_dir:
        model = SASRec.load(Path(model_dir))
        model.config = replace(model.config, ivf_min_items=1)  # two-stage (opt-in)
        model._ivf_ = None  # rebuilt below, timed
    else:
        model = SASRec(loss="sampled", ivf_min_items=1)
        model.n_items_, model.net_ = N_ITEMS, SASRecNet(N_ITEMS, model.config)
        model.net_.eval()
    cpu = time.process_time()
    model._two_stage()
    built = time.process_time() - cpu
    exact = SASRec(replace(model.config, ivf_min_items=0, scan_min_items=0))
    exact.n_items_, exact.net_ = model.n_items_, model.net_
    return model, exact, built


def recall(model: Any, exact: Any, histories: list[np.ndarray], probes: tuple[int, ...]
           ) -> dict[str, float]:
    """Mean share of the exact top 10 / 50 (history items excluded) that two-stage scores
    at each probe count also put in their top 10 / 50."""
    from shopsense.models.sequences import top_k_excluding

    partition = model._two_stage()[0]
    default, out = partition.n_probe, {}
    want = {k: top_k_excluding(exact.score(histories), k, histories) for k in (10, 50)}
    for probe in probes:
        partition.n_probe = probe
        got = np.stack([model.score_request(h) for h in histories])
        for k in (10, 50):
            top = top_k_excluding(got, k, histories)
            out[f"recall@{k}_probe{probe}"] = round(float(np.mean(
                [np.isin(w, g).mean() for w, g in zip(want[k], top, strict=True)])), 4)
    partition.n_probe = default
    return out


def request(requests: int = 60, model_dir: str | None = None) -> None:
    from shopsense.models.blend import blend_parts
    from shopsense.models.context import RecContext, top_indices
    from shopsense.retrieve.sequential import SequentialRetriever

    seqs = planted_sequences(N_ITEMS, N_USERS)
    model, exact, built = _models(model_dir)
    partition = model._two_stage()[0]
    print({"partition_build_cpu_s": round(built, 1), "lists": len(partition.centroids),
           "n_probe": partition.n_probe}, flush=True)
    ids = [str(i) for i in range(N_ITEMS)]
    cov, info = covisit_fit(seqs, ids, {})
    print(info, flush=True)
    users = np.random.default_rng(2).permutation(N_USERS)[:requests]
    histories = [seqs[u][-50:] for u in users]
    print(recall(model, exact, histories[:40], (32, 64, 128, 256)), flush=True)
    sas = SequentialRetriever(model.config)
    sas.items_, sas.categories_, sas.model_ = cov.items_, cov.categories_, model
    ctxs = [RecContext(recent_items=tuple(ids[i] for i in h.tolist())) for h in histories]
    table, state = model.item_vectors(), model.encode([histories[0]])
    s, cv = sas.score_all(ctxs[0]), cov.score_all(ctxs[0])
    for name, call in (("encode", lambda c: model.encode([sas.recent_indices(c)])),
                       ("matmul", lambda c: state @ table.T),
                       ("sasrec_score_all", lambda c: sas.score_all(c)),
                       ("covisit_score_all", lambda c: cov.score_all(c)),
                       ("top_indices", lambda c: top_indices(s, 50, set())),
                       ("blend_parts", lambda c: blend_parts(s, cv, 2.0)),
                       ("sas_retrieve_scored",
                        lambda c: sas.retrieve_scored(c, s, 50, exclude=set(c.recent_items)))):
        print(timed(call, ctxs, name), flush=True)
    for label, scored in (("exact", exact), ("two_stage", model)):
        print(json.dumps({label: serving(scored, cov, seqs, users, ids)}), flush=True)


def _old_modules(old_src: str) -> dict[str, Any]:
    """blend_parts and top_indices of another commit's src (exported to `old_src`)."""
    import importlib.util

    out = {}
    for name, module in (("blend_parts", "blend"), ("top_indices", "context")):
        spec = importlib.util.spec_from_file_location(
            f"old_{module}", Path(old_src) / "shopsense" / "models" / f"{module}.py")
        loaded = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        sys.modules[spec.name] = loaded  # type: ignore[union-attr]
        spec.loader.exec_module(loaded)  # type: ignore[union-attr]
        out[name] = getattr(loaded, name)
    return out


def compare(old_src: str, model_dir: str | None, requests: int = 100, rounds: int = 3) -> None:
    import shopsense.models.blend as blend
    import shopsense.models.context as context
    import shopsense.models.source_base as source_base
    from shopsense.models.context import RecContext
    from shopsense.retrieve.sequential import SequentialRetriever

    seqs = planted_sequences(N_ITEMS, N_USERS)
    exact = _exact(model_dir)
    ids = [str(i) for i in range(N_ITEMS)]
    cov, _ = covisit_fit(seqs, ids, {})
    users = np.random.default_rng(2).permutation(N_USERS)[:requests]
    variants = {"before": _old_modules(old_src),
                "after": {"blend_parts": blend.blend_parts, "top_indices": context.top_indices}}
    sas = SequentialRetriever(exact.config)
    sas.items_, sas.categories_, sas.model_ = cov.items_, cov.categories_, exact
    same = True
    for u in users[:30]:
        ctx = RecContext(recent_items=tuple(ids[i] for i in seqs[u][-50:].tolist()))
        s, cv, ban = sas.score_all(ctx), cov.score_all(ctx), set(seqs[u][-50:].tolist())
        parts = [v["blend_parts"](s, cv, 2.0) for v in variants.values()]
        same &= all(np.array_equal(a, b) for a, b in zip(*parts, strict=True))
        for vector in (s, cv, parts[0][0]):
            tops = [v["top_indices"](vector, 50, ban) for v in variants.values()]
            same &= bool(np.array_equal(*tops))
    print({"bit_equal_parts_and_top50s (30 shoppers)": bool(same)}, flush=True)
    for round_no in range(rounds):
        for label, calls in variants.items():
            blend.blend_parts = calls["blend_parts"]  # serving imports it per call
            source_base.top_indices = calls["top_indices"]
            print(json.dumps({"round": round_no + 1, label: serving(exact, cov, seqs, users,
                                                                    ids)}), flush=True)
    blend.blend_parts = variants["after"]["blend_parts"]
    source_base.top_indices = variants["after"]["top_indices"]


def recall_only(model_dir: str, shoppers: int = 200) -> None:
    seqs = planted_sequences(N_ITEMS, N_USERS)
    model, exact, built = _models(model_dir)
    users = np.random.default_rng(2).permutation(N_USERS)[:shoppers]
    print({"partition_build_cpu_s": round(built, 1), "shoppers": shoppers,
           **recall(model, exact, [seqs[u][-50:] for u in users], (64, 128, 256, 512))},
          flush=True)


def served_request(model: Any, covisit: Any, ids: list[str], weight: float = 2.0,
                   per: int = 50) -> Callable[[np.ndarray], tuple[Any, ...]]:
    """One for-you blend request as `pipeline.recommend` serves it (`request_scores` of
    SASRec and co-visits, their top `per`, `blend_parts`, the blend's top `per`): dense
    vectors below SASRec's `scan_min_items`, `SparseRow`s above (models.sasrec_scan)."""
    from shopsense.models.blend import BlendView, blend_parts
    from shopsense.models.context import RecContext
    from shopsense.retrieve.sequential import SequentialRetriever

    sasrec = SequentialRetriever(model.config)
    sasrec.items_, sasrec.categories_, sasrec.model_ = covisit.items_, covisit.categories_, model
    view = BlendView(sasrec)

    def call(history: np.ndarray) -> tuple[Any, ...]:
        ctx = RecContext(recent_items=tuple(ids[i] for i in history.tolist()))
        banned = set(ctx.recent_items)
        scores = {"sasrec": sasrec.request_scores(ctx), "covisit": covisit.request_scores(ctx)}
        sasrec.top_scored(ctx, scores["sasrec"], per, exclude=banned)
        covisit.top_scored(ctx, scores["covisit"], per, exclude=banned)
        parts = blend_parts(scores["sasrec"], scores["covisit"], weight)
        return parts, view.top_scored(ctx, parts[0], per, exclude=banned)[0]
    return call


def scan_quality(exact: Callable, scanned: Callable, histories: list[np.ndarray]
                 ) -> dict[str, float]:
    """Recall@10 / @50 of the exact blend's top 10 / 50 (history items excluded) in the
    scanned request's, the estimated normaliser's error (scanned - exact log-normaliser,
    mean and largest |.|), and the largest deviation of (scanned - exact) blend scores
    from that one shift over the scanned request's top 50 (0: no order change)."""
    from shopsense.models.context import top_indices

    recall: dict[int, list[float]] = {10: [], 50: []}
    errors, spread = [], 0.0
    for history in histories:
        (blend, logp, _), _ = exact(history)
        (sblend, slogp, _), top = scanned(history)
        banned = set(history.tolist())
        for k in recall:
            want = top_indices(blend, k, banned)
            recall[k].append(float(np.isin(want, sblend.top(k, banned)).mean()))
        at = np.asarray(top, dtype=np.int64)
        errors.append(exact_norm_error(logp, slogp))
        spread = max(spread, float(np.ptp(blend[at] - sblend[at])) if at.size else 0.0)
    return {"blend_recall@10": round(float(np.mean(recall[10])), 4),
            "blend_recall@50": round(float(np.mean(recall[50])), 4),
            "blend_recall@10_min": round(float(np.min(recall[10])), 2),
            "normaliser_error_mean": float(np.mean(errors)),
            "normaliser_error_max_abs": float(np.max(np.abs(errors))),
            "top50_shift_spread": spread, "shoppers": len(histories)}


def exact_norm_error(logp: np.ndarray, slogp: Any) -> float:
    """scanned - exact log-normaliser: exact logp - scanned logp of any item (the same
    logit less each normaliser)."""
    i = int(slogp.index[0])
    return float(logp[i] - slogp[i])


def scan(model_dir: str | None, requests: int = 100, rounds: int = 3, quality: int = 200,
         candidates: int | None = None) -> None:
    """Exact against quantised-scan blend requests at 1M items, in one process: quality
    on `quality` shoppers, then `rounds` rounds of `requests` whole requests each,
    exact and scanned interleaved."""
    seqs = planted_sequences(N_ITEMS, N_USERS)
    exact = _exact(model_dir)
    assert exact._scanned() is None
    scanned = copy.copy(exact)
    scanned.config = replace(exact.config, scan_min_items=1,
                             scan_candidates=candidates or exact.config.scan_candidates)
    scanned._scan_ = None
    cpu = time.process_time()
    scanned._scanned()
    print({"scan_build_cpu_s": round(time.process_time() - cpu, 1),
           "candidates": scanned.config.scan_candidates, "trained": bool(model_dir)},
          flush=True)
    ids = [str(i) for i in range(N_ITEMS)]
    cov, _ = covisit_fit(seqs, ids, {})
    users = np.random.default_rng(2).permutation(N_USERS)
    calls = {"exact": served_request(exact, cov, ids), "scan": served_request(scanned, cov, ids)}
    print(json.dumps(scan_quality(calls["exact"], calls["scan"],
                                  [seqs[u][-50:] for u in users[-quality:]])), flush=True)
    histories = [seqs[u][-50:] for u in users[:requests]]
    for round_no in range(rounds):
        for label, call in calls.items():
            print(json.dumps({"round": round_no + 1, label: timed(
                call, histories, "blend_request")}), flush=True)


def threshold(sizes: tuple[int, ...] = (25_000, 50_000, 100_000, 200_000, 500_000, 1_000_000),
              requests: int = 100) -> None:
    """SASRec's share of a blend request (scores, their top 50, the blend without
    co-visits, its top 50) exact against scanned at several catalogue sizes, untrained
    tables (latency only): where the scan starts to pay."""
    from shopsense.models.sasrec import SASRec, SASRecNet

    rng = np.random.default_rng(0)
    for n in sizes:
        model = SASRec(loss="sampled", scan_min_items=0)
        model.n_items_, model.net_ = n, SASRecNet(n, model.config)
        model.net_.eval()
        scanned = copy.copy(model)
        scanned.config = replace(model.config, scan_min_items=1)
        scanned._scanned()
        histories = [rng.integers(0, n, 12) for _ in range(requests)]
        out = {"items": n}
        for _ in range(2):
            for label, m in (("exact", model), ("scan", scanned)):
                out.update(timed(_sasrec_part(m), histories, f"{label}"))
        print(json.dumps(out), flush=True)


def _sasrec_part(model: Any) -> Callable[[np.ndarray], Any]:
    from shopsense.models.blend import blend_parts
    from shopsense.models.context import top_indices
    from shopsense.models.sparse_scores import SparseRow

    def call(history: np.ndarray) -> None:
        scores = model.request_scores(history)
        blend = blend_parts(scores, None, 2.0)[0]
        banned = set(history.tolist())
        for row in (scores, blend):
            row.top(50, banned) if isinstance(row, SparseRow) else top_indices(row, 50, banned)
    return call


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "request"
    if mode == "sources":
        sources()
    elif mode == "compare":
        compare(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
    elif mode == "scan":
        scan(sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] != "-" else None,
             candidates=int(sys.argv[3]) if len(sys.argv) > 3 else None)
    elif mode == "threshold":
        threshold()
    elif mode == "recall":
        recall_only(sys.argv[2])
    else:
        request(model_dir=sys.argv[2] if len(sys.argv) > 2 else None)
