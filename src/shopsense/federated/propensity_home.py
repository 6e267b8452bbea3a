"""A home's propensity participation: its rows, the run, and its local-only baseline."""

from __future__ import annotations

import time
from typing import Any

from shopsense.domain import Event
from shopsense.features.frame import DAY
from shopsense.federated.dp import DPSettings
from shopsense.federated.propensity import LocalPropensity, PropensityData
from shopsense.federated.rounds import train_alone
from shopsense.federated.transport import FederatedClient, Link, join


def run_join_propensity(coordinator: str, events: list[Event], plan: Any, *,
                        timeout_s: float, secagg: bool, horizon_days: float = 7,
                        link: Link | None = None) -> dict[str, Any]:
    if not events:
        raise ValueError("no events to learn purchase propensity from")
    test_start = events[-1].timestamp + 1.0 - horizon_days * DAY
    data = PropensityData.from_events(events, {}, test_start, horizon_days=horizon_days)
    if len(data.y) == 0 or data.y.all() or not data.y.any():
        raise ValueError("propensity rows need buyers and non-buyers before the test window")
    dp = DPSettings(plan.dp_epsilon, unit="record", batch_size=256) \
        if plan.dp_epsilon > 0 else None
    participant = LocalPropensity(dp=dp, total_epochs=plan.expected_rounds * plan.local_epochs,
                                  seed=plan.seed)

    def evaluate() -> dict[str, float]:
        auc = participant.report(data).get("auc")
        return {"score": float(auc or 0.0), "test_auc": float(auc or 0.0)}

    client = FederatedClient(participant, data, evaluate, plan.local_epochs)
    started = time.perf_counter()
    log = join(coordinator, client, timeout_s=timeout_s, secagg=secagg, link=link)
    federated_s = time.perf_counter() - started
    fed = participant.report(data)
    local = LocalPropensity(seed=plan.seed)
    train_alone(local, data, epochs=max(1, len(log["rounds"])) * plan.local_epochs)
    alone = local.report(data)
    return {**log, "model": "propensity", "federated": fed, "local_only": alone,
            "global_beats_local": (fed["auc"] or 0) > (alone["auc"] or 0),
            "wall_s": round(federated_s, 1), "privacy": participant.privacy(),
            "_weights": participant.weights()}
