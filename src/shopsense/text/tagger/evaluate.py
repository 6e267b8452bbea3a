"""Train-and-score runs of the tagger on CoNLL-style files (what `shopsense eval understand` runs).

Answers: entity-level (exact span) precision / recall / F1 for brand (HPPX), product type
(HCCX) and both together, for a model trained on one file and scored on another.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from shopsense.text.tagger.conll import entity_scores, read_conll
from shopsense.text.tagger.crf import CrfTagger

REPORTED = {"brand": "HPPX", "product_type": "HCCX"}


def evaluate_files(train: str | Path, test: str | Path, *, c1: float = 0.05, c2: float = 0.02,
                   max_iterations: int = 100, seed: int = 0,
                   model_dir: str | Path | None = None) -> dict[str, Any]:
    """Train a `CrfTagger` on `train`, tag `test`, score brand / product-type spans.

    Returns {"brand", "product_type", "overall"} (each {"precision", "recall", "f1"}),
    "all_types" (micro over every type in `test`) and "per_type", plus sizes and timings. The model is written to `model_dir` (a temporary folder when None).
    """
    train_set, test_set = read_conll(train), read_conll(test)
    if not train_set or not test_set:
        raise ValueError("train and test files must each hold at least one text")
    with tempfile.TemporaryDirectory(prefix="shopsense-tagger-") as scratch:
        directory = Path(model_dir) if model_dir else Path(scratch)
        started = time.perf_counter()
        tagger = CrfTagger(c1=c1, c2=c2, max_iterations=max_iterations, seed=seed)
        tagger.fit(train_set, directory)
        train_seconds = time.perf_counter() - started
        started = time.perf_counter()
        predicted = [tagger.predict_labels(s.chars) for s in test_set]
        tag_seconds = time.perf_counter() - started
    scores = entity_scores([s.labels for s in test_set], predicted, list(REPORTED.values()))
    result: dict[str, Any] = {name: _rounded(scores[tag]) for name, tag in REPORTED.items()}
    result["overall"] = _rounded(scores["overall"])
    # every type in the test file (Taobao: + model numbers XH and MISC), as papers on this
    # data score it; micro-averaged, with each type on its own
    types = sorted({label[2:] for s in test_set for label in s.labels if label[:2] in ("B-", "I-")})
    every = entity_scores([s.labels for s in test_set], predicted, types)
    result["all_types"] = _rounded(every["overall"])
    result["per_type"] = {t: _rounded(every[t]) for t in types}
    result.update({"n_train": len(train_set), "n_test": len(test_set), "model": "crf",
                   "train_seconds": round(train_seconds, 1),
                   "tag_ms_per_text": round(1000 * tag_seconds / len(test_set), 3)})
    return result


def _rounded(prf: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in prf.items()}
