"""Centralised / federated / local-only purchase propensity on the clients of one split.

Each client's rows are built from its own events only (a platform sees only its stream, so
its features describe a shopper's behaviour on that platform). The test window is the last
`horizon_days` of the stream; every variant is scored on every client's test rows.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from shopsense.domain import Event
from shopsense.features.frame import DAY
from shopsense.federated.dp import DPSettings
from shopsense.federated.experiment import RecsPlan
from shopsense.federated.propensity import LocalPropensity, PropensityData, binary_metrics
from shopsense.federated.rounds import payload_bytes, run_rounds, train_alone
from shopsense.federated.splits import Client, SplitSpec


def client_events(events: Sequence[Event], clients: Sequence[Client], spec: SplitSpec
                  ) -> list[list[Event]]:
    """Each client's own events: by platform, or by the shoppers it holds."""
    if spec.kind == "platform":
        names = [c.name for c in clients]
        known = set(names)
        return [[e for e in events if (e.platform if e.platform in known else names[-1])
                 == name] for name in names]
    owner = {u: i for i, c in enumerate(clients) for u in c.users}
    out: list[list[Event]] = [[] for _ in clients]
    for e in events:
        if e.actor in owner:
            out[owner[e.actor]].append(e)
    return out


def _participant(plan: RecsPlan, seed: int) -> LocalPropensity:
    dp = DPSettings(plan.dp_epsilon, unit="record", batch_size=256) \
        if plan.dp_epsilon > 0 else None
    return LocalPropensity(mu=plan.mu, dp=dp, total_epochs=plan.rounds * plan.local_epochs,
                           seed=seed)


def _report(models: Sequence[LocalPropensity], datas: Sequence[PropensityData]
            ) -> dict[str, Any]:
    y = np.concatenate([d.y_test for d in datas])
    prob = np.concatenate([m.predict(d.X_test) for m, d in zip(models, datas, strict=True)])
    return {**binary_metrics(y, prob),
            "per_client": [binary_metrics(d.y_test, m.predict(d.X_test))
                           for m, d in zip(models, datas, strict=True)]}


def compare_propensity(events: Sequence[Event], clients: Sequence[Client], spec: SplitSpec,
                       plan: RecsPlan, horizon_days: float = 7) -> dict[str, Any]:
    events = sorted(events, key=lambda e: e.timestamp)
    if not events or not any(e.event_type == "purchase" for e in events):
        return {"skipped": "no purchases with timestamps in these events"}
    test_start = events[-1].timestamp + 1.0 - horizon_days * DAY
    parts = client_events(events, clients, spec)
    datas = [PropensityData.from_events(p, {}, test_start, horizon_days=horizon_days)
             for p in parts]
    epochs = plan.rounds * plan.local_epochs
    out: dict[str, Any] = {"horizon_days": horizon_days, "features": "general (shop-agnostic)",
                           "dp_unit": "record (shopper x cutoff row)"}
    started = time.perf_counter()
    central = _participant(plan, 0)
    union = PropensityData(np.concatenate([d.X for d in datas]),
                           np.concatenate([d.y for d in datas]), datas[0].X_test,
                           datas[0].y_test)
    train_alone(central, union, epochs=epochs)
    out["centralised"] = {**_report([central] * len(datas), datas),
                          "wall_s": round(time.perf_counter() - started, 1),
                          "privacy": central.privacy()}
    fed = [_participant(plan, i) for i in range(len(datas))]
    for p in fed[1:]:
        p.load(fed[0].weights())
    log = run_rounds(fed, datas, rounds=plan.rounds, local_epochs=plan.local_epochs)
    out["federated"] = {**_report(fed, datas), "rounds": plan.rounds, "wall_s": log.wall_s,
                        "bytes_per_client_per_round": 2 * payload_bytes(fed[0].weights()),
                        "privacy": fed[0].privacy()}
    local = [_participant(plan, i) for i in range(len(datas))]
    for m, d in zip(local, datas, strict=True):
        train_alone(m, d, epochs=epochs)
    out["local_only"] = _report(local, datas)
    return out
