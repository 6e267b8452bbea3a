"""Propensity on the demo store, fitted on everything before a held-out week and scored on it.

The asserted week is the one before the demo's pre-sale week: the pre-sale's 1.4x traffic is
a calendar event no shopper history foretells, so the level of every forecast made before it
is off by the jump in the buying rate (rate 0.36 vs 0.28-0.30 the weeks before; ECE
0.04-0.08). Ranking must hold up there too. Measured with demo generator version 6 (see
benchmarks/README.md, "Propensity"), seed 7, the week before the pre-sale: logistic AUC
0.743 / ECE 0.037, GBM 0.735 / 0.023 (noise floor of ECE on these ~1,200 shoppers: 0.02);
category models AUC 0.852 / 0.874, ECE 0.0024. Seeds 11 and 13 give AUC 0.737-0.748 and ECE
0.024-0.058. The demo generator was still changing while this was measured: re-measure when
it changes.
"""

from __future__ import annotations

import secrets

import pytest

from shopsense.demo import END_TS, iter_demo_events, iter_demo_products
from shopsense.evaluation.propensity import evaluate_propensity
from shopsense.ids import Pseudonymizer
from shopsense.ingest.validate import validate_event, validate_product

DAY = 86_400.0
AUC_FLOOR = 0.70
ECE_BOUND = 0.05


@pytest.fixture(scope="module")
def demo_shop():
    products = {p.item_id: p for p in map(validate_product, iter_demo_products())}
    pseudonyms = Pseudonymizer(secrets.token_bytes(32))
    return products, [validate_event(row, pseudonyms) for row in iter_demo_events()]


@pytest.mark.slow
def test_demo_store_auc_and_calibration(demo_shop) -> None:
    products, events = demo_shop
    report = evaluate_propensity(events, products, horizon_days=7, until=END_TS - 7 * DAY)
    baseline = report["baselines"]["previous_window_rate"]
    for kind in ("logistic", "gbm"):
        general = report["models"][kind]["general"]
        assert general["auc"] >= AUC_FLOOR, (kind, general["auc"])
        assert general["ece"] <= ECE_BOUND, (kind, general["ece"])
        assert general["brier"] < 0.9 * baseline["brier"], (kind, general["brier"])
        category = report["models"][kind]["category"]
        assert category["auc"] >= 0.80 and category["ece"] <= 0.02, (kind, category)
    assert report["baselines"]["heuristic_recent_activity"]["auc"] < AUC_FLOOR


@pytest.mark.slow
def test_demo_store_ranking_survives_the_presale_week(demo_shop) -> None:
    products, events = demo_shop
    report = evaluate_propensity(events, products, horizon_days=7, models=("logistic",),
                                 category_model=False)
    general = report["models"]["logistic"]["general"]
    assert general["auc"] >= AUC_FLOOR
    assert general["brier"] < report["baselines"]["previous_window_rate"]["brier"]
