"""FedAvg / FedProx rounds in one process: the simulation of what `transport` does over Flower.

Aggregation is Flower's FedAvg rule (the example-weighted mean of the clients' weights); under
SecAgg+ the coordinator computes the same mean from masked, quantised vectors (quantisation
error ~1e-5 of the clipping range). FedProx is the clients' proximal term (`mu`); the
coordinator side is unchanged. A server optimiser (`ServerOpt`: FedAvgM's momentum or
FedAdam, Reddi et al. 2021) treats `mean - global` as a pseudo-gradient; it needs only the
mean, so it works under SecAgg+ too. The round whose global weights score best on the
clients' validation targets is kept (early stopping without the test targets), and rounds
stop once that curve has flattened (`patience`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from shopsense.models.convergence import Convergence


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


def row_weighted_mean(updates: Sequence[tuple[list[np.ndarray], float, dict[int, np.ndarray]]]
                      ) -> list[np.ndarray]:
    """FedAvg with per-row weights for embedding tables: row j of array i is
    sum_k c_kj w_kj / sum_k c_kj, where c_kj is how often client k's data used row j (an item
    it never saw does not pull a row back towards the round's start); rows no client used, and
    arrays without counts, take the example-weighted mean. Both sums are what SecAgg+ yields
    when a client sends c_k * w_k and c_k."""
    mean = weighted_mean([(w, n) for w, n, _ in updates])
    for i in sorted({i for _, _, rows in updates for i in rows}):
        total = np.zeros(mean[i].shape[0], np.float64)
        summed = np.zeros(mean[i].shape, np.float64)
        for weights, _, rows in updates:
            counts = rows.get(i)
            if counts is None:
                continue
            shape = (-1,) + (1,) * (weights[i].ndim - 1)
            total += counts
            summed += counts.reshape(shape) * weights[i]
        used = total > 0
        mean[i][used] = (summed[used] / total[used].reshape((-1,) + (1,) * (mean[i].ndim - 1))
                         ).astype(np.float32)
    return mean


def _round_mean(updates: Sequence[tuple[list[np.ndarray], float, dict[int, np.ndarray]]]
                ) -> list[np.ndarray]:
    if any(rows for _, _, rows in updates):
        return row_weighted_mean(updates)
    return weighted_mean([(w, n) for w, n, _ in updates])


def payload_bytes(arrays: Sequence[np.ndarray]) -> int:
    return int(sum(np.asarray(a).nbytes for a in arrays))


@dataclass(frozen=True)
class ServerOpt:
    """How the coordinator turns the clients' mean into the next global weights.
    avg: the mean itself (FedAvg; with lr != 1, global + lr * (mean - global)).
    avgm: global + lr * v, v = momentum * v + (mean - global).
    adam: FedAdam's per-coordinate step on the pseudo-gradient (mean - global)."""

    kind: str = "avg"  # avg | avgm | adam
    lr: float = 1.0
    momentum: float = 0.9  # avgm's momentum, adam's beta1
    beta2: float = 0.99
    tau: float = 1e-3  # adam: adaptivity floor

    def __post_init__(self) -> None:
        if self.kind not in ("avg", "avgm", "adam"):
            raise ValueError(f"server optimiser must be avg, avgm or adam, got {self.kind!r}")
        if self.lr <= 0 or not 0 <= self.momentum < 1:
            raise ValueError("server lr must be > 0 and momentum in [0, 1)")

    def stepper(self) -> Callable[[list[np.ndarray], list[np.ndarray]], list[np.ndarray]]:
        """`step(global, mean) -> new global`, holding the optimiser's state between rounds."""
        first: list[np.ndarray] = []
        second: list[np.ndarray] = []

        def step(current: list[np.ndarray], mean: list[np.ndarray]) -> list[np.ndarray]:
            if self.kind == "avg" and self.lr == 1.0:
                return mean
            deltas = [m - c for m, c in zip(mean, current, strict=True)]
            if self.kind == "avg":  # a plain server step along the pseudo-gradient
                return [(c + self.lr * d).astype(np.float32)
                        for c, d in zip(current, deltas, strict=True)]
            if not first:
                first.extend(np.zeros_like(d) for d in deltas)
                second.extend(np.full_like(d, self.tau ** 2) for d in deltas)
            out = []
            for i, (c, d) in enumerate(zip(current, deltas, strict=True)):
                if self.kind == "avgm":
                    first[i] = self.momentum * first[i] + d
                    out.append(c + self.lr * first[i])
                    continue
                first[i] = self.momentum * first[i] + (1 - self.momentum) * d
                second[i] = self.beta2 * second[i] + (1 - self.beta2) * d * d
                out.append(c + self.lr * first[i] / (np.sqrt(second[i]) + self.tau))
            return [o.astype(np.float32) for o in out]

        return step


@dataclass
class RoundLog:
    rows: list[dict[str, Any]] = field(default_factory=list)
    best_round: int = 0
    best_valid: float = -1.0
    wall_s: float = 0.0
    stopped_by: str = "rounds"


def run_rounds(participants: Sequence[Participant], datas: Sequence[Any], *, rounds: int,
               local_epochs: int = 1,
               validate: Callable[[Sequence[Participant]], float] | None = None,
               server: ServerOpt | None = None, patience: int = 0) -> RoundLog:
    """Up to `rounds` of: broadcast global weights, local epochs, weighted mean, server step.
    With `validate` and `patience` > 0, stops once `patience` rounds gained < 1 % over the
    best. Leaves every participant holding the best round's global weights (by `validate`,
    else the last)."""
    if rounds < 1:
        raise ValueError("rounds must be >= 1")
    log, started = RoundLog(), time.perf_counter()
    step = (server or ServerOpt()).stepper()
    tracker = Convergence(patience) if patience > 0 else None
    global_weights = weighted_mean([(p.weights(), 1.0) for p in participants])
    best = global_weights
    for r in range(1, rounds + 1):
        updates, losses = [], []
        for p, data in zip(participants, datas, strict=True):
            p.load(global_weights)
            result = p.fit_round(data, local_epochs)
            rows = getattr(p, "row_counts", None)  # per-row use of its embedding tables
            updates.append((p.weights(), float(result["examples"]), rows() if rows else {}))
            losses.append(result["loss"])
        global_weights = step(global_weights, _round_mean(updates))
        for p in participants:
            p.load(global_weights)
        row: dict[str, Any] = {"round": r, "loss": round(float(np.mean(losses)), 4),
                               "bytes_per_client": 2 * payload_bytes(global_weights),
                               "seconds": round(time.perf_counter() - started, 1)}
        log.rows.append(row)
        if validate is None:
            log.best_round, best = r, global_weights
            continue
        row["valid_ndcg@10"] = round(validate(participants), 4)
        if row["valid_ndcg@10"] > log.best_valid:
            log.best_valid, log.best_round, best = row["valid_ndcg@10"], r, global_weights
        if tracker is not None:
            tracker.update(r, row["valid_ndcg@10"])
            if tracker.flattened:
                log.stopped_by = "converged"
                break
    for p in participants:
        p.load(best)
    log.wall_s = round(time.perf_counter() - started, 1)
    return log


def train_alone(participant: Participant, data: Any, *, epochs: int,
                validate: Callable[[Participant], float] | None = None,
                patience: int = 0, start_score: float | None = None) -> int:
    """Centralised or local-only training with the same epoch budget (and the same
    convergence rule as `run_rounds`); keeps the best epoch's weights by `validate`.
    Returns that epoch. `start_score`: the starting weights' validation score, so they
    count as epoch 0 (kept, and 0 returned, when no epoch beats them)."""
    best_valid = -1.0 if start_score is None else start_score
    best_epoch, best = 0, _snapshot(participant)
    tracker = Convergence(patience) if patience > 0 else None
    if tracker is not None and start_score is not None:
        tracker.update(0, start_score)
    for epoch in range(1, epochs + 1):
        participant.fit_round(data, 1)
        if validate is None:
            best_epoch, best = epoch, None  # the last epoch: nothing to restore
            continue
        value = validate(participant)
        if value > best_valid:
            best_epoch, best_valid, best = epoch, value, _snapshot(participant)
        if tracker is not None:
            tracker.update(epoch, value)
            if tracker.flattened:
                break
    if best is not None:
        _restore(participant, best)
    return best_epoch


def _snapshot(participant: Participant) -> Any:
    """Every weight of `participant`, those it never sends included (`weights()` holds only
    the shared ones: with `shared="body"` the item table stays at home, and restoring the
    best epoch's body over the last epoch's table mixed two epochs)."""
    net = getattr(participant, "net", None)
    if net is not None and hasattr(net, "state_dict"):
        return {k: v.detach().clone() for k, v in net.state_dict().items()}
    return participant.weights()


def _restore(participant: Participant, snapshot: Any) -> None:
    if isinstance(snapshot, dict):
        participant.net.load_state_dict(snapshot)
    else:
        participant.load(snapshot)
