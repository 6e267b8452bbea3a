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
from typing import Any

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


# -- on the store's logged lists (store.impressions) ------------------------------------------
@dataclass(frozen=True)
class LoggedPositions:
    """Every shown position of the logged lists: list index, position, logging propensity,
    reward (clicked) and, per candidate policy, its probability of the same item there."""

    unit: np.ndarray  # (n,) index of the list
    position: np.ndarray
    propensity: np.ndarray
    reward: np.ndarray
    candidates: dict[str, np.ndarray]
    n_lists: int


def parse_policy(label: str) -> tuple[float, int]:
    """"eps=0.1;pool=20" -> (0.1, 20); "greedy" -> (0.0, 0)."""
    if label == "greedy":
        return 0.0, 0
    parts = dict(p.split("=", 1) for p in label.split(";") if "=" in p)
    try:
        return float(parts["eps"]), int(parts["pool"])
    except (KeyError, ValueError):
        raise ValueError(f"unknown logging policy {label!r}") from None


def logged_positions(records: Sequence[Any], depth: int = 10) -> LoggedPositions:
    """The first `depth` positions of exploring lists (`policy` eps=..;pool=..) with three
    candidate policies: `logging` (what was served), `greedy` (exploration off: the greedy item
    at each position) and `uniform` (a uniform shuffle of the same pool)."""
    rows: list[tuple[int, int, float, float, float, float]] = []
    n_lists = 0
    for record in records:
        epsilon, pool = parse_policy(record.policy)
        if epsilon <= 0 or pool <= 0:
            continue
        greedy_chance = (1.0 - epsilon) + epsilon / pool
        for p in range(min(depth, len(record.items))):
            prop = record.propensity(p)
            is_greedy = abs(prop - greedy_chance) < 1e-4
            rows.append((n_lists, p, prop, float(p in record.clicks), float(is_greedy),
                         1.0 / pool))
        n_lists += 1
    table = np.asarray(rows, dtype=np.float64).reshape(-1, 6)
    return LoggedPositions(table[:, 0].astype(np.int64), table[:, 1].astype(np.int64),
                           table[:, 2], table[:, 3],
                           {"logging": table[:, 2], "greedy": table[:, 4],
                            "uniform": table[:, 5]}, n_lists)


def list_estimates(logs: LoggedPositions, new_prob: np.ndarray, *, n_resamples: int = 500,
                   seed: int = 0) -> dict[str, Any]:
    """Expected clicks per list of a candidate policy, by IPS, SNIPS (self-normalised per
    position) and doubly robust (a per-position click-rate model), each with a 95 % bootstrap
    interval over lists. Item-position model: a click depends on the item and its position."""
    if logs.n_lists == 0:
        raise ValueError("no exploring lists logged")
    depth = int(logs.position.max()) + 1
    w = new_prob / logs.propensity
    rate = np.bincount(logs.position, weights=logs.reward, minlength=depth) / np.maximum(
        np.bincount(logs.position, minlength=depth), 1)
    dr_terms = w * (logs.reward - rate[logs.position])
    per_list = np.zeros((logs.n_lists, 2 + 2 * depth))
    np.add.at(per_list[:, 0], logs.unit, w * logs.reward)
    np.add.at(per_list[:, 1], logs.unit, dr_terms)
    cols = 2 + logs.position
    np.add.at(per_list, (logs.unit, cols), w * logs.reward)
    np.add.at(per_list, (logs.unit, cols + depth), w)

    def values(rows: np.ndarray) -> np.ndarray:
        """(resamples, lists, cols) -> IPS, SNIPS, DR per resample."""
        mean = rows.mean(axis=-2)
        snips = (mean[..., 2:2 + depth] / np.maximum(mean[..., 2 + depth:], 1e-12)).sum(-1)
        return np.stack([mean[..., 0], snips, rate.sum() + mean[..., 1]], axis=-1)

    point = values(per_list)
    rng = np.random.default_rng(seed)
    boot = np.stack([values(per_list[rng.integers(0, logs.n_lists, logs.n_lists)])
                     for _ in range(n_resamples)])
    low, high = np.quantile(boot, [0.025, 0.975], axis=0)
    ess = float(w.sum() ** 2 / max(float((w ** 2).sum()), 1e-12))
    out: dict[str, Any] = {"lists": logs.n_lists, "positions": int(w.size),
                           "effective_sample_size": round(ess, 1)}
    for j, name in enumerate(("ips", "snips", "dr")):
        out[name] = round(float(point[j]), 5)
        out[f"{name}_ci"] = [round(float(low[j]), 5), round(float(high[j]), 5)]
    return out


def counterfactual_report(records: Sequence[Any], depth: int = 10, seed: int = 0
                          ) -> dict[str, Any]:
    """Estimates of every candidate policy on the exploring lists, per surface."""
    by_surface: dict[str, list[Any]] = {}
    for record in records:
        by_surface.setdefault(record.surface, []).append(record)
    out: dict[str, Any] = {}
    for surface, rows in sorted(by_surface.items()):
        logs = logged_positions(rows, depth)
        if logs.n_lists == 0:
            continue
        out[surface] = {name: list_estimates(logs, prob, seed=seed)
                        for name, prob in logs.candidates.items()}
        out[surface]["observed_clicks_per_list"] = round(
            float(logs.reward.sum() / logs.n_lists), 5)
    return out
