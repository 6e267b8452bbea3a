"""The untrained title neighbour on `shopsense eval recs`'s leave-one-out split of a data set.

Items ranked by the cosine of their title vector (models/text_init.py, at SASRec's default
width) with the history's last item, history items excluded: the start a title-term SASRec
has before any training (docs/FEDERATED.md, "A title term"), scored on the same test and
validation cases as `eval recs`, with 95 % bootstrap intervals.

    python benchmarks/federated_title_reference.py \\
        --events ../shared/data/amazon-beauty-p5-titles/sequential_data.txt \\
        --catalog ../shared/data/amazon-beauty-p5-titles/items_with_titles.derived.csv
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    from shopsense.evaluation.recs import load_split, ranking_per_user, scored
    from shopsense.models.sasrec import SASRecConfig
    from shopsense.models.text_init import title_vectors

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=Path, required=True)
    parser.add_argument("--catalog", type=Path, required=True)
    parser.add_argument("--dim", type=int, default=SASRecConfig().dim)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _, products, split = load_split(args.events, args.catalog)
    vectors = title_vectors(products, split.items.ids, args.dim)
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)

    def score(histories: list[np.ndarray]) -> np.ndarray:
        return unit[[int(h[-1]) for h in histories]] @ unit.T

    out = {name: scored(*ranking_per_user(score, hist, targets, (10, 20)), len(split.items))
           for name, hist, targets in (("test", split.test_histories, split.test_targets),
                                       ("valid", split.valid_histories, split.valid_targets))}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
