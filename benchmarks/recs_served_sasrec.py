"""SASRec alone, scored on the test items, from an engine saved by `shopsense eval recs --served
--engine-dir DIR` (its SASRec is trained on all but each shopper's last event).

    python benchmarks/recs_served_sasrec.py EVENTS ENGINE_DIR
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from shopsense.evaluation.recs import leave_one_out, ranking_metrics
from shopsense.models.interactions import load_interactions
from shopsense.models.sasrec import SASRec


def served_sasrec(events: Path, engine: Path) -> dict[str, Any]:
    """Test NDCG / HR of the saved engine's SASRec alone and how it was trained."""
    started = time.process_time()
    split = leave_one_out(load_interactions(events))
    ids = json.loads((engine / "sources" / "sasrec" / "items.json").read_text())
    if sorted(ids) != sorted(split.items.ids):
        raise SystemExit("the engine was not trained on these events' items")
    model = SASRec.load(engine / "sources" / "sasrec" / "model")
    position = {item: n for n, item in enumerate(ids)}
    to_model = np.array([position[item] for item in split.items.ids])

    def score(histories: Sequence[np.ndarray]) -> np.ndarray:
        return model.score([to_model[h] for h in histories])[:, to_model]

    test = ranking_metrics(score, split.test_histories, split.test_targets, len(split.items))
    info = json.loads((engine / "engine.json").read_text())["info"]["sasrec"]
    return {"test": {k: round(v, 5) for k, v in test.items()},
            "cpu_seconds": round(time.process_time() - started, 1),
            "convergence": {k: v for k, v in info.get("convergence", {}).items()
                            if k != "curve"},
            "training": {k: v for k, v in info.items()
                         if k not in ("convergence", "lr_schedule")}}


if __name__ == "__main__":
    print(json.dumps(served_sasrec(Path(sys.argv[1]), Path(sys.argv[2]))))
