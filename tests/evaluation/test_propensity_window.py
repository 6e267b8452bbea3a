"""A propensity window that cannot have an AUC says so: null and a reason, never NaN.

The small demo store (generated, then read through the evaluation's own loaders) with every
purchase of the held-out week removed: nobody buys in the test window, so there is no AUC to
report, and the report must stay valid JSON with the reason beside each missing figure.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from shopsense.demo.generate import build_catalogue, simulate
from shopsense.evaluation.propensity import (
    auc_unavailable,
    binary_report,
    evaluate_propensity,
    load_events,
    load_products,
    summary_table,
)

DAY = 86_400.0


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("demo")
    items = build_catalogue(7, 300)
    for name, rows in (("products", (item.record for item in items)),
                       ("events", simulate(items, 7, 120, 30))):
        (folder / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return load_events(folder / "events.jsonl"), load_products(folder / "products.jsonl")


def _without_test_week_purchases(events, horizon_days: float = 7.0):
    start = events[-1].timestamp + 1.0 - horizon_days * DAY
    return [e if not (e.event_type == "purchase" and e.timestamp >= start)
            else replace(e, event_type="view") for e in events]


def test_no_buyers_in_the_window_gives_null_auc_with_a_reason(small_demo) -> None:
    events, products = small_demo
    quiet = _without_test_week_purchases(events)
    assert sum(e.event_type == "purchase" for e in quiet) > 0  # buyers before the window
    report = evaluate_propensity(quiet, products, horizon_days=7, models=("logistic",))
    general = report["models"]["logistic"]["general"]
    assert general["n"] > 0 and general["positives"] == 0
    assert general["auc"] is None and general["auc_ci95"] is None
    assert "no purchases in the test window" in general["auc_unavailable"]
    assert isinstance(general["brier"], float)  # calibration still has a meaning
    rule = report["baselines"]["heuristic_recent_activity"]
    assert rule["auc"] is None and "no purchases" in rule["auc_unavailable"]
    assert report["baselines"]["previous_window_rate"]["auc"] is None
    text = json.dumps(report, allow_nan=False)  # raises on any NaN left in the report
    assert "NaN" not in text
    table = summary_table(report)
    assert "n/a" in table and "no AUC: no purchases in the test window" in table


def test_the_unchanged_window_still_has_an_auc(small_demo) -> None:
    events, products = small_demo
    report = evaluate_propensity(events, products, horizon_days=7, models=("logistic",))
    general = report["models"]["logistic"]["general"]
    assert 0 < general["positives"] < general["n"]
    assert 0.0 <= general["auc"] <= 1.0 and "auc_unavailable" not in general
    json.dumps(report, allow_nan=False)


@pytest.mark.parametrize(("labels", "expected"), [
    ([], "no shoppers to score"),
    ([0, 0, 0], "no purchases in the test window among the 3 scored rows"),
    ([1, 1], "every one of the 2 scored rows bought"),
    ([0, 1], None),
])
def test_auc_unavailable_names_each_case(labels, expected) -> None:
    why = auc_unavailable(np.asarray(labels, dtype=float))
    assert (why is None) if expected is None else (expected in why)


def test_an_empty_window_reports_nulls_not_nan() -> None:
    report = binary_report(np.zeros(0), np.zeros(0))
    for key in ("auc", "auc_ci95", "brier", "log_loss", "ece", "ece_noise_floor"):
        assert report[key] is None, key
    assert report["unavailable"].startswith("no shoppers to score")
    json.dumps(report, allow_nan=False)
