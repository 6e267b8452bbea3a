"""Propensity on the demo store, fitted on everything before a held-out week and scored on it.

The asserted week is the one before the demo's pre-sale week: the pre-sale's 1.4x traffic is
a calendar event no shopper history foretells, so the level of every forecast made before it
is off by the jump in the buying rate (rate 0.36 vs 0.28-0.30 the weeks before; ECE
0.04-0.08). Ranking must hold up there too. Measured with demo generator version 6 (see
benchmarks/README.md, "Propensity"), seed 7, the week before the pre-sale: logistic AUC
0.745 / ECE 0.037, GBM 0.739 / 0.023 (noise floor of ECE on these ~1,200 shoppers: 0.02);
category models AUC 0.849 / 0.859, ECE 0.003. Seeds 11 and 13 give AUC 0.744-0.749 and ECE
0.021-0.058. The demo generator was still changing while this was measured: re-measure when
it changes.
"""

from __future__ import annotations

import pytest

from shopsense.demo import END_TS
from shopsense.demo.generate import shopper_truth
from shopsense.demo.objects import demo_events, demo_products
from shopsense.evaluation.propensity import evaluate_propensity
from shopsense.features.profile import profiles_from_events

DAY = 86_400.0
AUC_FLOOR = 0.70
ECE_BOUND = 0.05


@pytest.fixture(scope="module")
def demo_shop():
    return {p.item_id: p for p in demo_products()}, demo_events()


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


@pytest.mark.slow
def test_demo_profiles_recover_latent_tastes(demo_shop) -> None:
    """Measured (seed 7, 1,168 shoppers with >= 20 events): the top profile category is one
    of the shopper's true categories for 96.4%, a favourite brand is among the top 3 brands
    for 96.2%, and favourite brands hold 95% of the affinity given to favourite + disliked."""
    products, events = demo_shop
    profiles = profiles_from_events(events, products, END_TS)
    hits = brand_hits = n = 0
    liked = disliked = 0.0
    for truth in shopper_truth(7, 1200, 60):
        profile = profiles.get(truth["user_id"])
        if profile is None or profile.n_events < 20:
            continue
        n += 1
        hits += next(iter(profile.category_affinity)) in truth["categories"]
        favourites = {alias for aliases in truth["favourite_brands"] for alias in aliases}
        dislikes = {alias for aliases in truth["disliked_brands"] for alias in aliases}
        brand_hits += bool(favourites & set(list(profile.brand_affinity)[:3]))
        liked += sum(w for b, w in profile.brand_affinity.items() if b in favourites)
        disliked += sum(w for b, w in profile.brand_affinity.items() if b in dislikes)
    assert n > 1000
    assert hits / n >= 0.92 and brand_hits / n >= 0.92
    assert liked / (liked + disliked) >= 0.9
