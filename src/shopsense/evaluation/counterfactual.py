"""Off-policy estimates from logged impressions: how would a new ranker have done on the
shop's own logs, before shipping it?

Each logged impression records the item shown, the logging policy's probability of showing
it (`propensity`), and the reward observed (click / purchase). For a new policy giving the
same item probability `new_prob`, inverse propensity scoring (IPS) weights each reward by
new_prob / propensity; self-normalised IPS (SNIPS) divides by the sum of weights, trading a
little bias for much lower variance. Both come with a bootstrap interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Impression:
    reward: float
    propensity: float  # P(logging policy shows this item here), > 0
    new_prob: float  # P(new policy shows this item here)


def _arrays(logs: Sequence[Impression]) -> tuple[np.ndarray, np.ndarray]:
    if not logs:
        raise ValueError("no logged impressions")
    prop = np.asarray([x.propensity for x in logs], dtype=np.float64)
    if np.any(prop <= 0) or np.any(prop > 1):
        raise ValueError("logging propensities must be in (0, 1]")
    weights = np.asarray([x.new_prob for x in logs], dtype=np.float64) / prop
    rewards = np.asarray([x.reward for x in logs], dtype=np.float64)
    return weights, rewards


def ips(logs: Sequence[Impression]) -> float:
    weights, rewards = _arrays(logs)
    return float(np.mean(weights * rewards))


def snips(logs: Sequence[Impression]) -> float:
    weights, rewards = _arrays(logs)
    total = weights.sum()
    return float((weights * rewards).sum() / total) if total > 0 else 0.0


def estimate(logs: Sequence[Impression], *, n_resamples: int = 500, seed: int = 0
             ) -> dict[str, object]:
    """IPS and SNIPS with 95% bootstrap intervals and the effective sample size."""
    weights, rewards = _arrays(logs)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(weights), size=(n_resamples, len(weights)))
    ips_boot = (weights[idx] * rewards[idx]).mean(axis=1)
    snips_boot = (weights[idx] * rewards[idx]).sum(axis=1) / np.maximum(weights[idx].sum(axis=1),
                                                                          1e-12)
    ess = float(weights.sum() ** 2 / max(float((weights ** 2).sum()), 1e-12))
    return {"ips": ips([*logs]), "ips_ci95": np.quantile(ips_boot, [0.025, 0.975]).tolist(),
            "snips": snips([*logs]), "snips_ci95": np.quantile(snips_boot, [0.025, 0.975]).tolist(),
            "impressions": len(weights), "effective_sample_size": round(ess, 1)}
