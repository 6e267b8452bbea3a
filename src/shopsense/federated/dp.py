"""DP-SGD: per-sample gradients (torch.func), clipping and noise by Opacus's DPOptimizer, and
Opacus's RDP accountant for the (epsilon, delta) spent.

A "sample" is whatever the caller stacks along the first axis: for SASRec one row per shopper
(their whole sequence), so the guarantee is user-level within one client's data; for the
propensity scorer one (shopper, cutoff) row, so it is record-level (see docs/PRIVACY.md).
Shoppers are drawn by Poisson sampling at `sample_rate` each step, as the accountant assumes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import torch
from opacus.accountants import RDPAccountant
from opacus.accountants.utils import get_noise_multiplier
from opacus.optimizers import DPOptimizer
from torch import nn
from torch.func import functional_call, grad, vmap


@dataclass(frozen=True)
class DPSettings:
    """Target budget for one training (all rounds of one client, or one central fit)."""

    epsilon: float
    delta: float = 0.0  # 0: 1 / n^1.1 of the samples it protects
    max_grad_norm: float = 1.0
    batch_size: int = 64  # expected (Poisson) batch
    unit: str = "user"  # what one sample is: "user" (SASRec) or "record" (propensity)

    def __post_init__(self) -> None:
        if self.epsilon <= 0:
            raise ValueError(f"epsilon must be > 0, got {self.epsilon}")
        if self.max_grad_norm <= 0 or self.batch_size < 1:
            raise ValueError("max_grad_norm must be > 0 and batch_size >= 1")


def default_delta(n_samples: int) -> float:
    return 1.0 / max(n_samples, 2) ** 1.1


class PrivateTrainer:
    """Drives DP-SGD steps for one model over `n_samples` samples and `total_steps` steps;
    the noise multiplier is calibrated so the whole plan spends `settings.epsilon`."""

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer, settings: DPSettings,
                 n_samples: int, total_steps: int) -> None:
        if n_samples < 1 or total_steps < 1:
            raise ValueError("DP-SGD needs samples and at least one step")
        self.model, self.settings = model, settings
        self.delta = settings.delta or default_delta(n_samples)
        self.sample_rate = min(1.0, settings.batch_size / n_samples)
        self.noise_multiplier = get_noise_multiplier(
            target_epsilon=settings.epsilon, target_delta=self.delta,
            sample_rate=self.sample_rate, steps=total_steps, accountant="rdp")
        self.optimizer = DPOptimizer(optimizer, noise_multiplier=self.noise_multiplier,
                                     max_grad_norm=settings.max_grad_norm,
                                     expected_batch_size=max(1, round(self.sample_rate
                                                                      * n_samples)))
        self.accountant = RDPAccountant()
        self.steps = 0

    def poisson_batch(self, n_samples: int, generator: torch.Generator) -> torch.Tensor:
        """Indices of this step's samples (each drawn with probability sample_rate)."""
        keep = torch.rand(n_samples, generator=generator) < self.sample_rate
        return torch.nonzero(keep).flatten()

    def step(self, sample_loss: Callable[..., torch.Tensor], *batch: torch.Tensor) -> float:
        """One noisy step on `batch` (tensors stacked on axis 0); returns the mean loss of a
        few samples. `sample_loss(forward, params, *sample)` is the loss of one sample."""
        params = {k: v.detach() for k, v in self.model.named_parameters() if v.requires_grad}

        def loss_of(p: dict[str, torch.Tensor], *sample: torch.Tensor) -> torch.Tensor:
            return sample_loss(lambda *x: functional_call(self.model, p, x), p, *sample)

        n = int(batch[0].shape[0]) if batch else 0
        if n:
            per_sample = vmap(grad(loss_of), in_dims=(None, *([0] * len(batch))),
                              randomness="different")(params, *batch)
            with torch.no_grad():
                losses = [float(loss_of(params, *(b[i] for b in batch))) for i in
                          range(min(n, 4))]
        else:  # an empty Poisson draw still adds the noise (and counts as a step)
            per_sample = {k: torch.zeros((1, *v.shape)) for k, v in params.items()}
            losses = []
        for name, p in self.model.named_parameters():
            if name in per_sample:
                p.grad_sample = per_sample[name]
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.accountant.step(noise_multiplier=self.noise_multiplier,
                             sample_rate=self.sample_rate)
        self.steps += 1
        return sum(losses) / len(losses) if losses else 0.0

    def spent(self) -> dict[str, Any]:
        """The accountant's budget so far, for the model card."""
        epsilon = self.accountant.get_epsilon(self.delta) if self.steps else 0.0
        return {"epsilon": round(float(epsilon), 4), "delta": self.delta,
                "target_epsilon": self.settings.epsilon, "accountant": "rdp (opacus)",
                "noise_multiplier": round(float(self.noise_multiplier), 4),
                "sample_rate": round(self.sample_rate, 6), "steps": self.steps,
                **{k: v for k, v in asdict(self.settings).items()
                   if k in ("max_grad_norm", "batch_size", "unit")}}
