"""Where a for-you request's time goes at 1M items (the pieces of recs_million's `serving`).

    python benchmarks/recs_million_parts.py sources   # co-visit scores, top 50s, blend_parts
    python benchmarks/recs_million_parts.py request   # + SASRec (untrained: same cost), whole

`sources` builds no SASRec, so it runs unchanged against an older `shopsense` (PYTHONPATH to
an export of another commit's src) for a before / after on the same data. p50 / p99 wall and
CPU ms per call (`recs_million.timed`), one process, OMP_NUM_THREADS=1.
"""

from __future__ import annotations

import sys
from pathlib import Path

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


def request(requests: int = 60) -> None:
    from shopsense.models.blend import blend_parts
    from shopsense.models.context import RecContext, top_indices
    from shopsense.models.sasrec import SASRec, SASRecNet
    from shopsense.retrieve.sequential import SequentialRetriever

    seqs = planted_sequences(N_ITEMS, N_USERS)
    model = SASRec(loss="sampled")
    model.n_items_, model.net_ = N_ITEMS, SASRecNet(N_ITEMS, model.config)
    model.net_.eval()
    ids = [str(i) for i in range(N_ITEMS)]
    cov, info = covisit_fit(seqs, ids, {})
    print(info, flush=True)
    users = np.random.default_rng(2).permutation(N_USERS)[:requests]
    sas = SequentialRetriever(model.config)
    sas.items_, sas.categories_, sas.model_ = cov.items_, cov.categories_, model
    ctxs = [RecContext(recent_items=tuple(ids[i] for i in seqs[u][-50:].tolist()))
            for u in users]
    table, state = model.item_vectors(), model.encode([seqs[users[0]][-50:]])
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
    print(serving(model, cov, seqs, users, ids), flush=True)


if __name__ == "__main__":
    {"sources": sources, "request": request}[sys.argv[1] if len(sys.argv) > 1 else "request"]()
