"""DP-SGD: the accountant's budget, clipping, and the noise it takes to meet it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from shopsense.federated.dp import DPSettings, PrivateTrainer, default_delta
from shopsense.federated.recs import Holdout, LocalSASRec, fed_config


def _sequences(n: int = 120, n_items: int = 30, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        start = int(rng.integers(0, n_items - 6))
        out.append(np.arange(start, start + 6) % n_items)
    return out


def test_sasrec_dp_spends_at_most_its_budget_and_says_user_level() -> None:
    holdout = Holdout.of(_sequences())
    model = LocalSASRec(30, fed_config(dim=16, max_len=8), total_epochs=2,
                        dp=DPSettings(epsilon=4.0, batch_size=16))
    model.fit_round(holdout.train, epochs=2)
    spent = model.privacy()
    assert spent is not None
    assert 0 < spent["epsilon"] <= 4.0 + 1e-6
    assert spent["epsilon"] > 3.0  # the plan spends (nearly) all of it
    assert spent["delta"] == pytest.approx(default_delta(len(holdout.train)))
    assert spent["unit"] == "user" and spent["accountant"].startswith("rdp")


def test_smaller_epsilon_needs_more_noise() -> None:
    def noise(epsilon: float) -> float:
        net = torch.nn.Linear(3, 1)
        return PrivateTrainer(net, torch.optim.SGD(net.parameters(), lr=0.1),
                              DPSettings(epsilon), n_samples=1000, total_steps=100
                              ).noise_multiplier

    assert noise(1.0) > noise(4.0) > noise(8.0) > 0


def test_one_sample_cannot_move_the_model_more_than_the_clip_plus_noise() -> None:
    """With noise ~0 (huge epsilon) one step moves the weights by at most lr * clip."""
    net = torch.nn.Linear(4, 1, bias=False)
    torch.nn.init.zeros_(net.weight)
    trainer = PrivateTrainer(net, torch.optim.SGD(net.parameters(), lr=1.0),
                             DPSettings(1e6, max_grad_norm=0.5, batch_size=1), n_samples=1,
                             total_steps=1)
    x, y = torch.full((1, 4), 100.0), torch.ones(1)

    def loss(forward, params, xi, yi):
        return ((forward(xi.unsqueeze(0)).reshape(()) - yi) ** 2)

    trainer.step(loss, x, y)
    assert float(net.weight.norm()) <= 0.5 * 1.01


def test_bad_budgets_are_refused() -> None:
    with pytest.raises(ValueError):
        DPSettings(epsilon=0)
    with pytest.raises(ValueError):
        DPSettings(epsilon=1, max_grad_norm=0)
