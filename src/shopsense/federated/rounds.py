"""FedAvg / FedProx rounds in one process: the simulation of what `transport` does over Flower.

Aggregation is Flower's FedAvg rule (the example-weighted mean of the clients' weights); under
SecAgg+ the coordinator computes the same mean from masked, quantised vectors (quantisation
error ~1e-5 of the clipping range). FedProx is the clients' proximal term (`mu`); the
coordinator side is unchanged. The round whose global weights score best on the clients'
validation targets is kept (early stopping without the test targets).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np


class Participant(Protocol):
    def weights(self) -> list[np.ndarray]: ...
    def load(self, arrays: Sequence[np.ndarray]) -> None: ...
    def fit_round(self, data: Any, epochs: int = 1) -> dict[str, float]: ...


def weighted_mean(updates: Sequence[tuple[list[np.ndarray], float]]) -> list[np.ndarray]:
    """FedAvg: sum_k n_k w_k / sum_k n_k, array by array."""
    total = sum(n for _, n in updates)
    if total <= 0:
        raise ValueError("no client trained on any example this round")
    return [sum(w[i] * (n / total) for w, n in updates).astype(np.float32)
            for i in range(len(updates[0][0]))]


def payload_bytes(arrays: Sequence[np.ndarray]) -> int:
    return int(sum(np.asarray(a).nbytes for a in arrays))


@dataclass
class RoundLog:
    rows: list[dict[str, Any]] = field(default_factory=list)
    best_round: int = 0
    best_valid: float = -1.0
    wall_s: float = 0.0


def run_rounds(participants: Sequence[Participant], datas: Sequence[Any], *, rounds: int,
               local_epochs: int = 1,
               validate: Callable[[Sequence[Participant]], float] | None = None) -> RoundLog:
    """`rounds` of: broadcast global weights, local epochs, weighted mean. Leaves every
    participant holding the best round's global weights (by `validate`, else the last)."""
    if rounds < 1:
        raise ValueError("rounds must be >= 1")
    log, started = RoundLog(), time.perf_counter()
    global_weights = weighted_mean([(p.weights(), 1.0) for p in participants])
    best = global_weights
    for r in range(1, rounds + 1):
        updates, losses = [], []
        for p, data in zip(participants, datas, strict=True):
            p.load(global_weights)
            result = p.fit_round(data, local_epochs)
            updates.append((p.weights(), float(result["examples"])))
            losses.append(result["loss"])
        global_weights = weighted_mean(updates)
        for p in participants:
            p.load(global_weights)
        row: dict[str, Any] = {"round": r, "loss": round(float(np.mean(losses)), 4),
                               "bytes_per_client": 2 * payload_bytes(global_weights),
                               "seconds": round(time.perf_counter() - started, 1)}
        if validate is not None:
            row["valid_ndcg@10"] = round(validate(participants), 4)
            if row["valid_ndcg@10"] > log.best_valid:
                log.best_valid, log.best_round, best = row["valid_ndcg@10"], r, global_weights
        else:
            log.best_round, best = r, global_weights
        log.rows.append(row)
    for p in participants:
        p.load(best)
    log.wall_s = round(time.perf_counter() - started, 1)
    return log


def train_alone(participant: Participant, data: Any, *, epochs: int,
                validate: Callable[[Participant], float] | None = None) -> int:
    """Centralised or local-only training with the same epoch budget; keeps the best epoch's
    weights by `validate`. Returns that epoch."""
    best_epoch, best_valid, best = 0, -1.0, participant.weights()
    for epoch in range(1, epochs + 1):
        participant.fit_round(data, 1)
        if validate is None:
            best_epoch, best = epoch, participant.weights()
            continue
        value = validate(participant)
        if value > best_valid:
            best_epoch, best_valid, best = epoch, value, participant.weights()
    participant.load(best)
    return best_epoch
