"""Request ids and exploration for the answers the service gives.

Every answer carries a `request_id` (16 hex characters) that impressions and clicks refer to
(`/v1/impressions`, `request_id` on `/v1/events`). The for-you surface can explore: with
probability `epsilon` a request shows a uniformly shuffled copy of the top `pool` of its greedy
list instead of the list itself (epsilon-greedy over rankings, seeded by the request id, so an
answer can be re-derived). Each shown result then carries its exact propensity, the logging
policy's probability of showing that item at that position:

    propensity(item j at position p) = epsilon / m + (1 - epsilon) * [j == p]

(m = pool size; j is the item's greedy position), which is what off-policy estimates
(`evaluation.counterfactual`) divide by. Greedy answers carry propensity 1.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

_ids = bytearray()  # random bytes not yet handed out as request ids
_ids_lock = threading.Lock()
os.register_at_fork(after_in_child=_ids.clear)  # a forked worker never repeats its parent's


def new_request_id() -> str:
    """16 hex digits from the OS's CSPRNG, drawn 4 KB at a time: one system call per 512
    answers instead of one each. A system call gives up the GIL, and taking it back behind a
    busy worker thread cost a cheap search milliseconds (benchmarks/README.md, Abuse)."""
    with _ids_lock:
        if len(_ids) < 8:
            _ids[:] = os.urandom(4096)
        drawn = bytes(_ids[-8:])
        del _ids[-8:]
    return drawn.hex()


@dataclass(frozen=True)
class Exploration:
    epsilon: float = 0.0  # 0: greedy (the default)
    pool: int = 20  # the top items a shuffled list is drawn from

    def __post_init__(self) -> None:
        if not 0.0 <= self.epsilon <= 1.0:
            raise ValueError(f"epsilon must be in [0, 1], got {self.epsilon}")
        if self.pool < 1:
            raise ValueError(f"pool must be >= 1, got {self.pool}")

    def label(self, m: int) -> str:
        return "greedy" if self.epsilon <= 0 else f"eps={self.epsilon:g};pool={m}"


def explore(results: Sequence[dict[str, Any]], k: int, request_id: str,
            policy: Exploration) -> tuple[list[dict[str, Any]], str]:
    """The k results to show (each with `propensity`) and the policy label to log."""
    if policy.epsilon <= 0 or len(results) < 2:
        return [{**r, "propensity": 1.0} for r in results[:k]], "greedy"
    m = min(len(results), max(policy.pool, k))
    rng = np.random.default_rng(int(request_id, 16) if _is_hex(request_id) else None)
    explored = rng.random() < policy.epsilon
    order = rng.permutation(m) if explored else np.arange(m)
    shown = []
    for position, j in enumerate(order[:k].tolist()):
        chance = policy.epsilon / m + (1.0 - policy.epsilon) * (j == position)
        shown.append({**results[j], "propensity": round(float(chance), 6)})
    return shown, policy.label(m)


def _is_hex(text: str) -> bool:
    try:
        int(text, 16)
    except ValueError:
        return False
    return True
