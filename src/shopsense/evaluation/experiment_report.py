"""The report of a stored experiment, from the store's own records.

A/B: the visitors of each arm are the experiment's assignments (first exposure). Per visitor,
from their exposure until the experiment stopped (or now): the lists of the experiment's
surface shown to them in their arm (impressions whose `arm` is the answer's tag) and how many
of those drew a click, clicks, whether they added to cart / bought, and revenue (purchase
`value`). Per arm: CTR (clicked lists / lists shown), clicks, add-to-cart, conversion and
revenue per visitor, each with a 95 % bootstrap interval over visitors; the sample-ratio
check of visitors against the planned shares; for every arm after the first, the always-valid
p-value of its difference to the first arm on the experiment's metric, read after every
visitor in order of arrival (`evaluation.experiments`), and the difference's interval.

Interleaving: each shown list is one comparison; its clicks are credited to the arm whose
pick drew more of them (`pipeline.interleave.credit`). Reported: lists, wins per arm, ties,
the preference for B ((wins B - wins A) / lists compared) with its interval, the always-valid
p-value after every list with a click, and a balance check (arm A should pick first in half of
the lists).

`series` holds what the dashboard plots: the running p-value and each arm's running mean.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import numpy as np

from shopsense.domain import Event
from shopsense.evaluation.experiments import (
    ab_p,
    first_detection,
    interleaving_p,
    sample_ratio_mismatch,
)
from shopsense.evaluation.metrics import bootstrap_means, summarise
from shopsense.pipeline.experiments import teams_of
from shopsense.pipeline.interleave import credit
from shopsense.store.base import Store
from shopsense.store.experiments import ExperimentRecord, StoreExperiments
from shopsense.store.impressions import ImpressionRecord, impressions_of

OUTCOMES = ("clicks", "add_to_cart", "conversion", "revenue")
PLOT_POINTS = 200
ALPHA = 0.05


def report(store: Store, record: ExperimentRecord, now: float | None = None) -> dict[str, Any]:
    """The experiment's report (see the module's docstring)."""
    end = record.stopped_at or (time.time() if now is None else now)
    lists = [r for r in impressions_of(store).iter(since=record.created_at, until=end + 1e-6)
             if r.arm and r.arm.startswith(f"{record.id}:")]  # the tag names the experiment
    head = {"id": record.id, "name": record.name, "kind": record.kind,
            "surface": record.surface, "status": record.status,
            "created_at": record.created_at, "stopped_at": record.stopped_at,
            "metric": record.spec.get("metric", "clicks"), "spec": record.spec, "alpha": ALPHA}
    if record.kind == "interleaving":
        return {**head, **interleaving_report(record, lists)}
    events = store.iter_events(since=record.created_at, until=end + 1e-6)
    return {**head, **ab_report(record, StoreExperiments(store).assignments(record.id), lists,
                                events)}


def _visitor_outcomes(assigned: dict[str, tuple[str, float]], lists: list[ImpressionRecord],
                      events: Iterable[Event], record: ExperimentRecord
                      ) -> dict[str, dict[str, float]]:
    per: dict[str, dict[str, float]] = {a: defaultdict(float) for a in assigned}
    for r in lists:
        mine = assigned.get(r.actor)
        if mine is None or r.arm != f"{record.id}:{mine[0]}":
            continue
        per[r.actor]["lists"] += 1
        per[r.actor]["clicked_lists"] += bool(r.clicks)
        per[r.actor]["clicks"] += len(r.clicks)
    for e in events:
        mine = assigned.get(e.actor)
        if mine is None or e.timestamp < mine[1]:
            continue
        if e.event_type == "cart":
            per[e.actor]["add_to_cart"] = 1.0
        elif e.event_type == "purchase":
            per[e.actor]["conversion"] = 1.0
            per[e.actor]["revenue"] += float(e.value or 0.0)
    return per


def ab_report(record: ExperimentRecord, assignments: list[Any], lists: list[ImpressionRecord],
              events: Iterable[Event]) -> dict[str, Any]:
    arms = [a["name"] for a in record.spec["arms"]]
    shares = {a["name"]: a["share"] for a in record.spec["arms"]}
    assigned = {a.actor: (a.arm, a.timestamp) for a in assignments if a.arm in shares}
    per = _visitor_outcomes(assigned, lists, events, record)
    order = [a.actor for a in assignments if a.actor in assigned]
    out: dict[str, Any] = {"arms": {}, "visitors": len(order)}
    for arm in arms:
        mine = [per[v] for v in order if assigned[v][0] == arm]
        values = {o: np.asarray([m.get(o, 0.0) for m in mine]) for o in OUTCOMES}
        out["arms"][arm] = {"visitors": len(mine), "share": shares[arm],
                            "lists": int(sum(m.get("lists", 0) for m in mine)),
                            **_ctr(mine), **summarise(values)}
    out["sample_ratio"] = sample_ratio_mismatch([out["arms"][a]["visitors"] for a in arms],
                                                [shares[a] for a in arms])
    metric = record.spec.get("metric", "clicks")
    out["comparisons"], out["series"] = {}, {"visitors": [], "p_value": {}, "mean": {}}
    for arm in arms[1:]:
        pair = [v for v in order if assigned[v][0] in (arms[0], arm)]
        flags = [int(assigned[v][0] == arm) for v in pair]
        y = np.asarray([per[v].get(metric, 0.0) for v in pair])
        p = ab_p(flags, y)
        out["comparisons"][arm] = _difference(y, np.asarray(flags), p)
        out["series"]["p_value"][arm] = _thin(p)
    arm_index = np.asarray([arms.index(assigned[v][0]) for v in order])
    y_all = np.asarray([per[v].get(metric, 0.0) for v in order])
    out["series"]["visitors"] = _thin(np.arange(1, len(order) + 1))
    for j, arm in enumerate(arms):
        mask = (arm_index == j).astype(np.float64)
        running = np.cumsum(y_all * mask) / np.maximum(np.cumsum(mask), 1.0)
        out["series"]["mean"][arm] = _thin(running)
    return out


def _ctr(visitors: list[dict[str, float]]) -> dict[str, Any]:
    shown = np.asarray([v.get("lists", 0.0) for v in visitors])
    clicked = np.asarray([v.get("clicked_lists", 0.0) for v in visitors])
    if shown.sum() == 0:
        return {"ctr": 0.0, "ctr_ci": [0.0, 0.0]}
    means = bootstrap_means(np.column_stack([clicked, shown]), n_resamples=1000, seed=0)
    ratios = means[:, 0] / np.maximum(means[:, 1], 1e-12)
    low, high = np.quantile(ratios, [0.025, 0.975])
    return {"ctr": round(float(clicked.sum() / shown.sum()), 5),
            "ctr_ci": [round(float(low), 5), round(float(high), 5)]}


def _difference(y: np.ndarray, flags: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    """The arm's mean minus the first arm's, its bootstrap interval, the always-valid p."""
    a, b = y[flags == 0], y[flags == 1]
    if a.size == 0 or b.size == 0:
        return {"difference": 0.0, "difference_ci": [0.0, 0.0], "p_value": 1.0,
                "significant": False, "detected_at": None}
    diffs = bootstrap_means(b, seed=1)[:, 0] - bootstrap_means(a, seed=2)[:, 0]
    low, high = np.quantile(diffs, [0.025, 0.975])
    final = float(p[-1]) if p.size else 1.0
    return {"difference": round(float(b.mean() - a.mean()), 5),
            "difference_ci": [round(float(low), 5), round(float(high), 5)],
            "p_value": round(final, 6), "significant": final < ALPHA,
            "detected_at": first_detection(p, ALPHA)}


def interleaving_report(record: ExperimentRecord, lists: list[ImpressionRecord]
                        ) -> dict[str, Any]:
    arms = [a["name"] for a in record.spec["arms"]]
    credits: list[int] = []
    first_a = shown = 0
    for r in lists:
        teams = teams_of(r.arm or "", len(r.items))
        if teams is None:
            continue
        shown += 1
        first_a += bool(teams) and teams[0] == 0
        if r.clicks:
            picked = [t for t in teams if t is not None]
            clicked = [sum(1 for t in teams[:p] if t is not None) for p in sorted(r.clicks)
                       if p < len(teams) and teams[p] is not None]
            credits.append(credit(picked, clicked))
    x = np.asarray(credits, dtype=np.float64)
    p = interleaving_p(credits)
    final = float(p[-1]) if p.size else 1.0
    stats = summarise({"preference": x}) if x.size else {"preference": 0.0,
                                                         "preference_ci": [0.0, 0.0]}
    wins = {arms[0]: int((x < 0).sum()), arms[1]: int((x > 0).sum())}
    return {"lists": shown, "lists_with_clicks": int(x.size), "wins": wins,
            "ties": int((x == 0).sum()), "arms": {a: {"wins": wins[a]} for a in arms},
            "preference_for": arms[1], **stats, "p_value": round(final, 6),
            "significant": final < ALPHA, "detected_at": first_detection(p, ALPHA),
            "winner": (arms[1] if stats["preference"] > 0 else arms[0]) if final < ALPHA
            else None,
            "balance": sample_ratio_mismatch([first_a, shown - first_a], [0.5, 0.5]),
            "series": {"comparisons": _thin(np.arange(1, x.size + 1)), "p_value": _thin(p),
                       "preference": _thin(np.cumsum(x) / np.arange(1, x.size + 1))
                       if x.size else []}}


def _thin(values: np.ndarray) -> list[float]:
    """At most `PLOT_POINTS` evenly spaced values (the last one always kept)."""
    values = np.asarray(values, dtype=np.float64)
    if values.size > PLOT_POINTS:
        index = np.unique(np.linspace(0, values.size - 1, PLOT_POINTS).round().astype(int))
        values = values[index]
    return [round(float(v), 6) for v in values]
