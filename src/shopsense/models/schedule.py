"""Learning-rate schedule for SASRec: linear warm-up, then cosine decay fitted to the budget.

Training stops on convergence, so the number of epochs is not known in advance. The decay's
horizon is set after the first epoch, when its CPU cost is known: `schedule_epochs`, or fewer
when the CPU budget affords fewer (so the learning rate is low by the time the budget ends,
instead of stopping mid-way at the peak rate). After the horizon the rate stays at the floor.
Warm-up (linear from ~0 over `warmup_steps` optimiser steps) keeps a fresh Adam's first,
poorly estimated steps small, which matters most when training continues a serving model.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

SCHEDULES = ("none", "cosine")


class LRSchedule:
    """Sets the learning rate of every parameter group of `optimiser` before each step."""

    def __init__(self, optimiser: Any, base_lr: float, kind: str = "cosine", *,
                 warmup_steps: int = 100, floor: float = 0.05,
                 schedule_epochs: int = 12) -> None:
        if kind not in SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {SCHEDULES}, got {kind!r}")
        if base_lr <= 0 or warmup_steps < 0 or not 0.0 <= floor <= 1.0 or schedule_epochs < 1:
            raise ValueError("bad learning-rate schedule settings")
        self.groups = [g for part in getattr(optimiser, "parts", [optimiser])
                       for g in part.param_groups]
        # a group's rate relative to the base one (the item table's `item_lr_scale`)
        self.scales = [float(g.get("lr_scale", 1.0)) for g in self.groups]
        self.base_lr, self.kind, self.floor = base_lr, kind, floor
        self.warmup_steps, self.schedule_epochs = warmup_steps, schedule_epochs
        self.step_count, self.horizon = 0, math.inf  # steps; known after the first epoch
        self.settings = {"kind": kind, "peak_lr": base_lr, "horizon_epochs": schedule_epochs}

    def end_epoch(self, epoch: int, cpu_seconds: float, budget_s: float) -> None:
        """After epoch 1: the decay spans `schedule_epochs`, or what the budget affords."""
        if epoch != 1 or self.kind == "none":
            return
        per_epoch = max(cpu_seconds, 1e-9)
        epochs = min(self.schedule_epochs, max(1, int(budget_s / per_epoch)))
        self.horizon = epochs * self.step_count

    def factor(self, step: int) -> float:
        if self.kind == "none":
            return 1.0
        warm = min(1.0, (step + 1) / self.warmup_steps) if self.warmup_steps else 1.0
        done = min(1.0, step / self.horizon) if math.isfinite(self.horizon) else 0.0
        return warm * (self.floor + (1.0 - self.floor) * 0.5 * (1.0 + math.cos(math.pi * done)))

    def step(self) -> None:
        """Call before each optimiser step."""
        lr = self.base_lr * self.factor(self.step_count)
        for group, scale in zip(self.groups, self.scales, strict=True):
            group["lr"] = lr * scale
        self.step_count += 1

    @property
    def lr(self) -> float:
        return self.base_lr * self.factor(self.step_count)


class _Settings(Protocol):
    lr: float
    lr_schedule: str
    warmup_steps: int
    schedule_epochs: int
    lr_floor: float
    warm_lr_scale: float
    warm_schedule_epochs: int


def training_schedule(optimiser: Any, cfg: _Settings, warm: bool) -> LRSchedule:
    """The configured schedule (SASRecConfig); continued training (a warm start) always warms
    up and decays from a lower peak, so the serving weights are refined, not overwritten."""
    lr, kind, epochs = ((cfg.lr * cfg.warm_lr_scale, "cosine", cfg.warm_schedule_epochs)
                        if warm else (cfg.lr, cfg.lr_schedule, cfg.schedule_epochs))
    return LRSchedule(optimiser, lr, kind, warmup_steps=cfg.warmup_steps, floor=cfg.lr_floor,
                      schedule_epochs=epochs)
