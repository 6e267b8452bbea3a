"""The scanned request's log-softmax normaliser at 1M items (models/sasrec_scan.py): its error
against the exact one for several sizes of the uniform item sample, and its CPU per request.

    python benchmarks/recs_million_normaliser.py MODEL_DIR   # recs_million_curve.py --save

200 shoppers (those `recs_million_parts.py scan` measures recall on); prints the share of the
exact normaliser's mass that the 2,048 candidates hold, then per sample size the mean, largest
and 99th-percentile |error| of log Z and the CPU ms of the estimate.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from recs_million import planted_sequences

N_ITEMS, N_USERS = 1_000_000, 300_000


def main(model_dir: str, sizes: tuple[int, ...] = (8192, 32768, 131072)) -> None:
    from shopsense.models.sasrec import SASRec
    from shopsense.models.sasrec_scan import QuantisedScan

    model = SASRec.load(Path(model_dir))
    table = np.ascontiguousarray(model.item_vectors(), dtype=np.float32)
    seqs = planted_sequences(N_ITEMS, N_USERS)
    users = np.random.default_rng(2).permutation(N_USERS)[-200:]
    states = model.encode([seqs[u][-50:] for u in users])
    base = QuantisedScan.build(table, model.config.scan_candidates)
    rows = []
    for state in states:
        exact = (table @ state).astype(np.float64)
        top = exact.max()
        mass = np.exp(exact - top)
        row = base.request(state, table)
        share = float(np.exp(row.values - top).sum() / mass.sum())
        rows.append((state, row.index, row.values, top + np.log(mass.sum()), share))
    shares = [r[4] for r in rows]
    print({"candidates_share_of_Z_min": round(min(shares), 3),
           "candidates_share_of_Z_median": round(float(np.median(shares)), 3)}, flush=True)
    for size in sizes:
        drawn = np.sort(np.random.default_rng(0).choice(N_ITEMS, size, replace=False))
        scan = QuantisedScan(base.index, drawn, np.ascontiguousarray(table[drawn]),
                             base.candidates)
        cpu = time.process_time()
        errors = np.array([scan.normaliser(s, i, v, N_ITEMS) - z for s, i, v, z, _ in rows])
        cpu_ms = 1000 * (time.process_time() - cpu) / len(rows)
        print({"sample": size, "error_mean": round(float(errors.mean()), 4),
               "error_max_abs": round(float(np.abs(errors).max()), 4),
               "error_p99_abs": round(float(np.percentile(np.abs(errors), 99)), 4),
               "cpu_ms": round(cpu_ms, 2)}, flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
