"""CPU time of the served-path evaluation per shopper: `evaluation.served.served_ranks` on the
first N scored shoppers of a saved engine (`shopsense eval recs --served --engine-dir DIR`).

    OMP_NUM_THREADS=1 python benchmarks/served_speed.py --events E --catalog C --engine DIR \\
        --users 800

Prints wall and process CPU seconds and nDCG@10 of those shoppers; run it with N and with 1
(loading and the shop-wide set-up) and take the difference over N - 1 shoppers. To compare
two versions of the code, run it under each (PYTHONPATH) a minute apart and `--save` the
ranks to check that they agree.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from shopsense.evaluation.metrics import ndcg_from_ranks
from shopsense.evaluation.recs import load_split
from shopsense.evaluation.served import served_ranks
from shopsense.pipeline.recommend import RecommendationEngine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=Path, required=True)
    parser.add_argument("--catalog", type=Path)
    parser.add_argument("--engine", type=Path, required=True)
    parser.add_argument("--users", type=int, default=400)
    parser.add_argument("--save", type=Path, help="write the ranks here (.npy)")
    args = parser.parse_args()
    data, products, split = load_split(args.events, args.catalog)
    engine = RecommendationEngine.load(args.engine, products)
    chosen = np.arange(min(args.users, len(split.test_users)))
    wall, cpu = time.perf_counter(), time.process_time()
    ranks, _ = served_ranks(engine, data, products, 20, None, chosen)
    print(f"shoppers {chosen.size}  wall {time.perf_counter() - wall:.1f} s  "
          f"cpu {time.process_time() - cpu:.1f} s  "
          f"ndcg@10 {float(ndcg_from_ranks(ranks, 10).mean()):.5f}")
    if args.save is not None:
        np.save(args.save, ranks)


if __name__ == "__main__":
    main()
