"""The learning-rate schedule (models.schedule) and how SASRec uses it."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from shopsense.domain import Event
from shopsense.models.incremental import WarmStart
from shopsense.models.interactions import interactions_from_events
from shopsense.models.sasrec import SASRec
from shopsense.models.sasrec_loss import SplitAdam
from shopsense.models.schedule import LRSchedule
from shopsense.models.sequences import ItemIndex


def _optimiser() -> torch.optim.Optimizer:
    return torch.optim.Adam([torch.nn.Parameter(torch.zeros(3))], lr=1.0)


def test_warm_up_rises_linearly_then_cosine_decays_to_the_floor_at_the_horizon() -> None:
    opt = _optimiser()
    schedule = LRSchedule(opt, 0.01, "cosine", warmup_steps=10, floor=0.1, schedule_epochs=4)
    seen = []
    for _ in range(50):  # epoch 1: 50 steps, horizon unknown: warm-up, then the peak
        schedule.step()
        seen.append(opt.param_groups[0]["lr"])
    assert seen[0] == pytest.approx(0.001) and seen[4] == pytest.approx(0.005)
    assert seen[9:] == pytest.approx([0.01] * 41)
    schedule.end_epoch(1, cpu_seconds=10.0, budget_s=1000.0)  # 4 epochs = 200 steps
    assert schedule.horizon == 200
    lrs = []
    for _ in range(250):
        schedule.step()
        lrs.append(opt.param_groups[0]["lr"])
    assert all(a >= b for a, b in itertools.pairwise(lrs))  # never rises again
    half = 0.01 * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 125 / 200)))
    assert lrs[75] == pytest.approx(half)  # step 125 of 200
    assert lrs[150:] == pytest.approx([0.001] * 100)  # the floor after the horizon


def test_a_short_budget_shortens_the_horizon() -> None:
    schedule = LRSchedule(_optimiser(), 0.01, "cosine", warmup_steps=0, schedule_epochs=12)
    for _ in range(100):
        schedule.step()
    schedule.end_epoch(1, cpu_seconds=300.0, budget_s=900.0)  # the budget affords 3 epochs
    assert schedule.horizon == 300
    schedule.end_epoch(2, cpu_seconds=600.0, budget_s=900.0)  # only epoch 1 sets it
    assert schedule.horizon == 300


def test_no_schedule_keeps_the_rate_and_every_part_of_a_split_optimiser_follows() -> None:
    opt = _optimiser()
    flat = LRSchedule(opt, 0.003, "none")
    for _ in range(20):
        flat.step()
    flat.end_epoch(1, 1.0, 10.0)
    flat.step()
    assert opt.param_groups[0]["lr"] == 0.003 and flat.lr == 0.003
    table = torch.nn.Parameter(torch.zeros(4, 2))
    split = SplitAdam([table, torch.nn.Parameter(torch.zeros(2))], table, lr=1.0)
    LRSchedule(split, 0.002, "cosine", warmup_steps=2).step()
    assert [g["lr"] for part in split.parts for g in part.param_groups] == [0.001, 0.001]


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="lr_schedule"):
        LRSchedule(_optimiser(), 0.01, "step")
    for bad in ({"warmup_steps": -1}, {"floor": 1.5}, {"schedule_epochs": 0}):
        with pytest.raises(ValueError, match="schedule"):
            LRSchedule(_optimiser(), 0.01, "cosine", **bad)


def _walks(events: list[Event]) -> tuple[list[np.ndarray], int]:
    data = interactions_from_events(events)
    items = ItemIndex(data.item_ids())
    return [items.encode(s) for s in data.sequences], len(items)


def test_sasrec_with_the_schedule_learns_and_records_the_rate(events: list[Event]) -> None:
    sequences, n_items = _walks(events)
    train = [s[:-1] for s in sequences]
    valid = (train, np.array([s[-1] for s in sequences]))
    model = SASRec(dim=16, max_len=10, max_epochs=30, patience=5, batch_size=32, dropout=0.1,
                   lr=1e-2, loss="full", seed=0, lr_schedule="cosine", warmup_steps=5,
                   schedule_epochs=10)
    model.fit(train, n_items, valid=valid)
    assert model.info_["lr_schedule"] == {"kind": "cosine", "peak_lr": 1e-2,
                                          "horizon_epochs": 10}
    rates = [row["lr"] for row in model.history_]
    assert all(a >= b for a, b in itertools.pairwise(rates)) and rates[-1] < 1e-2
    top = np.argsort(-model.score(train), axis=1)[:, :3]
    assert np.mean([valid[1][i] in top[i] for i in range(len(train))]) > 0.6


def test_continued_training_warms_up_from_a_lower_peak(events: list[Event]) -> None:
    sequences, n_items = _walks(events)
    base = SASRec(dim=16, max_len=10, max_epochs=3, batch_size=32, loss="full").fit(
        sequences, n_items)
    assert base.info_["lr_schedule"]["kind"] == "none"
    warm = SASRec(dim=16, max_len=10, max_epochs=2, batch_size=32, loss="full", lr=4e-3,
                  warm_lr_scale=0.5, warm_schedule_epochs=3)
    warm.fit(sequences, n_items, warm_start=WarmStart(base, np.arange(n_items)))
    assert warm.info_["lr_schedule"] == {"kind": "cosine", "peak_lr": 2e-3,
                                         "horizon_epochs": 3}
    assert max(row["lr"] for row in warm.history_) <= 2e-3
