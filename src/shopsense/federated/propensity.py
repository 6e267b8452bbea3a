"""Purchase propensity as a federated participant: shop-agnostic behaviour features only.

The features are `features.behaviour.GENERAL_FEATURES` (recency, counts of views / carts /
purchases / searches over windows, platform shares): they mean the same in every shop, so
shops with disjoint catalogues can share one scorer; category features are catalogue-specific
and stay out. The scorer is a logistic regression in torch over signed-log features (no
per-client scaling statistics to share), trained from the round's weights with FedAvg /
FedProx, or DP-SGD where each sample is one (shopper, cutoff) row: record-level.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from shopsense.domain import Event, Product
from shopsense.evaluation.propensity import auc_interval, expected_calibration_error
from shopsense.features.behaviour import GENERAL_FEATURES
from shopsense.features.frame import DAY, EventFrame
from shopsense.federated.dp import DPSettings, PrivateTrainer
from shopsense.models.propensity_data import general_rows
from shopsense.models.propensity_scorers import signed_log


@dataclass
class PropensityData:
    """One client's rows: train (cutoffs before the test window) and test (at its start)."""

    X: np.ndarray  # (n, d) signed-log features
    y: np.ndarray  # (n,) float32 0/1
    X_test: np.ndarray
    y_test: np.ndarray

    @classmethod
    def from_events(cls, events: Sequence[Event], products: Mapping[str, Product],
                    test_start: float, *, horizon_days: float = 7, n_cutoffs: int = 6,
                    lookback_days: float = 90) -> PropensityData:
        """Rows of this client's own events only (its features cannot see other clients')."""
        frame = EventFrame.build(sorted(events, key=lambda e: e.timestamp), products)
        step = horizon_days * DAY
        latest = test_start - step
        cutoffs = [t for k in range(n_cutoffs) if (t := latest - k * step) > float(frame.ts[0]) + DAY]
        train = general_rows(frame, cutoffs[::-1], horizon_days, lookback_days)
        test = general_rows(frame, [test_start], horizon_days, lookback_days)
        return cls(_signed_log(train.X), train.y.astype(np.float32),
                   _signed_log(test.X), test.y.astype(np.float32))


_signed_log = signed_log  # one transform for federated training and the adopted scorer


class LocalPropensity:
    """Logistic scorer over GENERAL_FEATURES: `weights()` / `load()` / `fit_round()`."""

    def __init__(self, *, mu: float = 0.0, dp: DPSettings | None = None,
                 total_epochs: int = 1, lr: float = 0.05, batch_size: int = 64,
                 seed: int = 0) -> None:
        torch.manual_seed(seed)
        self.net = nn.Linear(len(GENERAL_FEATURES), 1)
        nn.init.zeros_(self.net.weight)  # logistic regression's usual start: no direction yet
        self.mu, self.dp, self.total_epochs, self.batch_size = mu, dp, total_epochs, batch_size
        self.optimiser = torch.optim.Adam(self.net.parameters(), lr=lr)
        self.private: PrivateTrainer | None = None
        self.rng = np.random.default_rng(seed)
        self.generator = torch.Generator().manual_seed(seed)

    def weights(self) -> list[np.ndarray]:
        return [p.detach().numpy().copy() for p in self.net.parameters()]

    def load(self, arrays: Sequence[np.ndarray]) -> None:
        with torch.no_grad():
            for p, a in zip(self.net.parameters(), arrays, strict=True):
                p.copy_(torch.from_numpy(np.asarray(a, np.float32)))

    def fit_round(self, data: PropensityData, epochs: int = 1) -> dict[str, float]:
        if len(data.y) == 0:
            return {"loss": 0.0, "examples": 0}
        x, y = torch.from_numpy(data.X), torch.from_numpy(data.y)
        anchor = [p.detach().clone() for p in self.net.parameters()] if self.mu > 0 else None
        loss = 0.0
        for _ in range(epochs):
            loss = self._private_epoch(x, y) if self.dp is not None else self._epoch(x, y,
                                                                                    anchor)
        return {"loss": loss, "examples": len(y)}

    def _epoch(self, x: torch.Tensor, y: torch.Tensor, anchor: list[torch.Tensor] | None
               ) -> float:
        losses = []
        for rows in np.array_split(self.rng.permutation(len(y)),
                                   max(1, len(y) // self.batch_size)):
            loss = F.binary_cross_entropy_with_logits(self.net(x[rows]).squeeze(-1), y[rows])
            if anchor is not None:
                loss = loss + self.mu / 2 * sum(((p - a) ** 2).sum() for p, a in
                                                zip(self.net.parameters(), anchor, strict=True))
            self.optimiser.zero_grad(set_to_none=True)
            loss.backward()
            self.optimiser.step()
            losses.append(float(loss.detach()))
        return float(np.mean(losses))

    def _private_epoch(self, x: torch.Tensor, y: torch.Tensor) -> float:
        assert self.dp is not None
        n = len(y)
        steps_per_epoch = max(1, round(n / self.dp.batch_size))
        if self.private is None:
            self.private = PrivateTrainer(self.net, self.optimiser, self.dp, n,
                                          self.total_epochs * steps_per_epoch)
        losses = [self.private.step(_row_loss, x[rows], y[rows]) for rows in
                  (self.private.poisson_batch(n, self.generator) for _ in range(steps_per_epoch))]
        return float(np.mean(losses))

    def privacy(self) -> dict[str, object] | None:
        return self.private.spent() if self.private is not None else None

    def predict(self, X: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return torch.sigmoid(self.net(torch.from_numpy(X)).squeeze(-1)).numpy()

    def report(self, data: PropensityData) -> dict[str, object]:
        return binary_metrics(data.y_test, self.predict(data.X_test))


def binary_metrics(y: np.ndarray, prob: np.ndarray) -> dict[str, object]:
    """AUC with its 95 % bootstrap interval and expected calibration error."""
    y = np.asarray(y, dtype=bool)
    if y.all() or not y.any():
        return {"auc": None, "auc_ci": None, "ece": None, "rows": int(y.size)}
    from sklearn.metrics import roc_auc_score

    low, high = auc_interval(y, prob, np.ones(y.size))
    return {"auc": round(float(roc_auc_score(y, prob)), 4), "auc_ci": [round(low, 4),
                                                                        round(high, 4)],
            "ece": round(expected_calibration_error(y, prob), 4), "rows": int(y.size),
            "base_rate": round(float(y.mean()), 4)}


def _row_loss(forward: Callable[..., torch.Tensor], params: dict[str, torch.Tensor],
              x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(forward(x.unsqueeze(0)).reshape(()), y)
