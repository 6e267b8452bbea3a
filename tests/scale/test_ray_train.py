"""Data-parallel SASRec on Ray (local mode, 2 workers, gloo all-reduce): the workers end with
bit-identical weights, and the model beats popularity on a slice of Amazon Beauty 5-core
(leave-one-out, full ranking, history excluded)."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ray", reason="ray (scale extra) not installed")

from shopsense.models.sasrec import SASRecConfig
from shopsense.models.sequences import top_k_excluding
from shopsense.scale.ray_train import fit_sasrec_data_parallel

pytestmark = [pytest.mark.slow, pytest.mark.long]
USERS = 8000
MIN_COUNT = 10


def _beauty_slice(path: Path) -> list[np.ndarray]:
    """The first USERS shoppers' sequences, kept to items bought MIN_COUNT+ times in the slice
    (so the slice is dense enough to learn from), re-indexed densely from 0; sequences left
    with fewer than 4 items are dropped."""
    with path.open() as fh:
        raw = [line.split()[1:] for line, _ in zip(fh, range(USERS), strict=False)]
    counts = Counter(i for items in raw for i in items)
    index: dict[str, int] = {}
    sequences = []
    for items in raw:
        kept = [i for i in items if counts[i] >= MIN_COUNT]
        if len(kept) >= 4:
            sequences.append(np.asarray([index.setdefault(i, len(index)) for i in kept],
                                        dtype=np.int64))
    return sequences


def _ndcg_at_10(scores: np.ndarray, histories: list[np.ndarray], targets: np.ndarray) -> float:
    top = top_k_excluding(scores, 10, histories)
    hits = top == targets[:, None]
    return float(np.mean(hits.any(axis=1) / np.log2(hits.argmax(axis=1) + 2)))


def test_two_workers_agree_bit_for_bit_and_beat_popularity(shared_data: Path) -> None:
    path = shared_data / "amazon-5core-s3rec" / "Beauty.txt"
    if not path.exists():
        pytest.skip(f"{path} is missing")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    import ray

    sequences = _beauty_slice(path)
    n_items = 1 + max(int(s.max()) for s in sequences)
    train = [s[:-2] for s in sequences]  # 5-core: every sequence has 5+ items
    valid = (train, np.asarray([s[-2] for s in sequences]))
    # 64 rows a worker: the all-reduced step averages 128, the single-process tests' batch
    config = SASRecConfig(dim=64, dropout=0.2, batch_size=64, max_epochs=12, patience=3,
                          bf16=False, time_budget_s=300.0)
    try:
        model = fit_sasrec_data_parallel(train, n_items, config, valid=valid, workers=2)
    finally:
        ray.shutdown()
    digests = model.info_["digests"]
    assert len(digests) == 2 and digests[0] == digests[1]
    assert model.best_epoch_ >= 1 and len(model.history_) >= model.best_epoch_

    histories = [s[:-1] for s in sequences]
    targets = np.asarray([s[-1] for s in sequences])
    sasrec = _ndcg_at_10(model.score(histories), histories, targets)
    counts = np.bincount(np.concatenate(histories), minlength=n_items).astype(np.float64)
    popular = _ndcg_at_10(np.tile(counts, (len(histories), 1)), histories, targets)
    print(f"\nBeauty first {USERS} users: SASRec 2 Ray workers NDCG@10 {sasrec:.4f}, "
          f"popularity {popular:.4f}, best epoch {model.best_epoch_}")
    assert sasrec > popular


def test_bad_worker_counts_and_threads_are_refused() -> None:
    with pytest.raises(ValueError, match="workers must be >= 1"):
        fit_sasrec_data_parallel([np.arange(3)], 3, workers=0)
    with pytest.raises(ValueError, match="one torch thread each"):
        fit_sasrec_data_parallel([np.arange(3)], 3, SASRecConfig(threads=2), workers=2)


def test_training_stays_in_process_unless_ray_workers_are_asked_for() -> None:
    from shopsense.retrieve.sequential import fit_in_process
    from shopsense.training.recs import TrainConfig, sasrec_trainer

    assert sasrec_trainer(TrainConfig()) is fit_in_process
    on_ray = sasrec_trainer(TrainConfig(ray_workers=2, ray_address="ray://head:10001"))
    assert on_ray.func is fit_sasrec_data_parallel  # type: ignore[attr-defined]
    assert on_ray.keywords == {"workers": 2, "address": "ray://head:10001"}  # type: ignore[attr-defined]
