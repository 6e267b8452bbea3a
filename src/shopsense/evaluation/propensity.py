"""How good are the purchase-propensity probabilities? Ranking (AUC) and calibration (Brier
score, expected calibration error over 10 equal-width bins, reliability-curve points) on a
held-out time window, for the logistic and the gradient-boosted model, against baselines.

Protocol: the last `horizon_days` of the stream are the test window. Models are fitted on
events before its start (their own calibration window is the horizon before that), then score
the shoppers active in the lookback before the test window; the label is "bought in the test
window". The category model is scored the same way on (shopper, category) rows.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

from shopsense.domain import Event, Product
from shopsense.features.behaviour import (
    CATEGORY_FEATURES,
    GENERAL_FEATURES,
    active_codes,
    category_features,
    general_features,
    purchase_labels,
)
from shopsense.features.frame import DAY, EventFrame
from shopsense.ids import Pseudonymizer
from shopsense.ingest.readers import iter_rows
from shopsense.ingest.validate import RowInvalid, validate_event, validate_product
from shopsense.models.propensity import PurchasePropensity
from shopsense.models.propensity_data import category_rows
from shopsense.models.propensity_scorers import shift_log_odds

MODELS: tuple[str, ...] = ("logistic", "gbm")
AUDIENCE_CATEGORIES = 5  # most bought categories whose audiences are scored
AUDIENCE_SIZE = 50


def reliability_curve(y: np.ndarray, prob: np.ndarray, weight: np.ndarray | None = None,
                      n_bins: int = 10) -> list[dict[str, float]]:
    """Per non-empty equal-width bin: mean predicted probability, observed rate, weight."""
    w = np.ones(prob.size) if weight is None else np.asarray(weight, dtype=np.float64)
    bins = np.minimum((np.asarray(prob) * n_bins).astype(int), n_bins - 1)
    points = []
    for b in range(n_bins):
        m = bins == b
        if not m.any():
            continue
        total = float(w[m].sum())
        points.append({"bin": b, "mean_predicted": float(np.average(prob[m], weights=w[m])),
                       "observed_rate": float(np.average(y[m], weights=w[m])), "weight": total})
    return points


def expected_calibration_error(y: np.ndarray, prob: np.ndarray,
                               weight: np.ndarray | None = None, n_bins: int = 10) -> float:
    """sum_b (weight_b / total) * |observed_b - predicted_b| over equal-width bins."""
    points = reliability_curve(y, prob, weight, n_bins)
    total = sum(p["weight"] for p in points)
    if total <= 0:
        return 0.0
    return float(sum(p["weight"] / total * abs(p["observed_rate"] - p["mean_predicted"])
                     for p in points))


def auc_interval(y: np.ndarray, prob: np.ndarray, weight: np.ndarray, *, n_resamples: int = 200,
                 seed: int = 0) -> tuple[float, float]:
    """95 % interval of the AUC by the Poisson bootstrap over rows (shoppers): each resample
    reweights rows by Poisson(1) counts, so the scores are sorted only once."""
    order = np.argsort(prob, kind="stable")
    sorted_prob = prob[order]
    group = np.concatenate([[0], np.cumsum(np.diff(sorted_prob) != 0)])
    pos, w = np.asarray(y, dtype=np.float64)[order], np.asarray(weight, dtype=np.float64)[order]
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_resamples):
        value = _grouped_auc(group, pos, w * rng.poisson(1.0, w.size))
        if np.isfinite(value):
            values.append(value)
    if not values:
        return (float("nan"), float("nan"))
    return (float(np.quantile(values, 0.025)), float(np.quantile(values, 0.975)))


def _grouped_auc(group: np.ndarray, pos: np.ndarray, w: np.ndarray) -> float:
    """Weighted Mann-Whitney AUC of score-sorted rows (`group` numbers tied scores)."""
    pos_w = np.bincount(group, weights=w * pos)
    neg_w = np.bincount(group, weights=w * (1.0 - pos))
    total = pos_w.sum() * neg_w.sum()
    if total <= 0:
        return float("nan")
    below = np.cumsum(neg_w) - neg_w
    return float((pos_w * (below + 0.5 * neg_w)).sum() / total)


def ece_noise_floor(prob: np.ndarray, weight: np.ndarray, n_bins: int = 10,
                    n_draws: int = 100, seed: int = 0) -> float:
    """Mean ECE of these very forecasts if they were perfectly calibrated (labels drawn as
    Bernoulli(prob)): the part of a measured ECE that is sampling noise."""
    rng = np.random.default_rng(seed)
    draws = [expected_calibration_error(rng.random(prob.size) < prob, prob, weight, n_bins)
             for _ in range(n_draws)]
    return float(np.mean(draws))


def auc_unavailable(y: np.ndarray) -> str | None:
    """Why the window has no AUC (it needs buyers and non-buyers), or None when it has one."""
    positives = int(np.sum(y))
    if np.size(y) == 0:
        return "no shoppers to score: nobody was active in the lookback before the test window"
    if positives == 0:
        return (f"no purchases in the test window among the {np.size(y)} scored rows: AUC "
                "needs buyers and non-buyers")
    if positives == np.size(y):
        return (f"every one of the {np.size(y)} scored rows bought in the test window: AUC "
                "needs buyers and non-buyers")
    return None


def binary_report(y: np.ndarray, prob: np.ndarray, weight: np.ndarray | None = None,
                  n_bins: int = 10, n_resamples: int = 200,
                  noise_draws: int = 100) -> dict[str, Any]:
    """AUC (with a bootstrap 95 % interval), Brier, log-loss, ECE, base rate and the
    reliability curve of one scored window. A metric the window cannot have is None (never
    NaN, which is not JSON), with the reason in `auc_unavailable` / `unavailable`."""
    y = np.asarray(y, dtype=np.float64)
    prob = np.asarray(prob, dtype=np.float64)
    w = np.ones(y.size) if weight is None else np.asarray(weight, dtype=np.float64)
    why = auc_unavailable(y)
    clipped = np.clip(prob, 1e-6, 1 - 1e-6)
    out: dict[str, Any] = {
        "n": int(y.size), "positives": int(y.sum()),
        "base_rate": float(np.average(y, weights=w)) if y.size else 0.0,
        "mean_predicted": float(np.average(prob, weights=w)) if y.size else 0.0,
        "auc": float(roc_auc_score(y, prob, sample_weight=w)) if why is None else None,
        "auc_ci95": list(auc_interval(y, prob, w, n_resamples=n_resamples))
        if why is None and n_resamples > 0 else None,
        "brier": float(np.average((prob - y) ** 2, weights=w)) if y.size else None,
        "log_loss": float(-np.average(y * np.log(clipped) + (1 - y) * np.log(1 - clipped),
                                      weights=w)) if y.size else None,
        "ece": expected_calibration_error(y, prob, w, n_bins) if y.size else None,
        "ece_noise_floor": ece_noise_floor(prob, w, n_bins, noise_draws)
        if y.size and noise_draws > 0 else None,
        "reliability": reliability_curve(y, prob, w, n_bins),
    }
    if why is not None:
        out["auc_unavailable"] = why
    if not y.size:
        out["unavailable"] = why
    return out


def evaluate_propensity(events: Iterable[Event], products: Mapping[str, Product], *,
                        horizon_days: float = 7, models: Sequence[str] = MODELS, seed: int = 0,
                        n_bins: int = 10, until: float | None = None,
                        **options: Any) -> dict[str, Any]:
    """Fit each model before the test window and report it there (see the module docstring).
    `until` ends the stream early (the test window is then the horizon before it)."""
    events = sorted((e for e in events if until is None or e.timestamp < until),
                    key=lambda e: e.timestamp)
    if not events:
        raise ValueError("no events to evaluate on")
    test_start = events[-1].timestamp + 1.0 - horizon_days * DAY
    report: dict[str, Any] = {"horizon_days": horizon_days, "test_start": test_start,
                              "n_events": len(events), "models": {}}
    frame: EventFrame | None = None
    for kind in models:
        model = PurchasePropensity(horizon_days, kind, seed, **options)
        model.fit(events, products, cutoff=test_start)
        if frame is None:
            frame = model.attach(events, products).history_
        model.history_ = frame  # features still read only events before `test_start`
        report["models"][kind] = _score_model(model, frame, test_start, n_bins)
        report["n_shoppers"] = frame.n_actors
    if frame is not None:
        report["baselines"] = _baselines(frame, test_start, horizon_days, n_bins,
                                         options.get("lookback_days", 90))
    return report


def _score_model(model: PurchasePropensity, frame: EventFrame, test_start: float,
                 n_bins: int) -> dict[str, Any]:
    codes = active_codes(frame, test_start, model.lookback_days)
    prob = model.predict([frame.actors[c] for c in codes], now=test_start)
    labels = purchase_labels(frame, test_start, test_start + model.horizon_days * DAY, codes)
    out = {"general": binary_report(labels, prob, n_bins=n_bins),
           "calibration_method": model.calibrator_.method_,
           "train_rows": model.n_train_rows_, "train_cutoffs": len(model.train_cutoffs_)}
    if model.category_scorer_ is not None:
        rows = category_rows(frame, [test_start], model.horizon_days, model.lookback_days,
                             model.vocabulary_, model.negatives_per_user, seed=model.seed + 7)
        cat_prob = shift_log_odds(model.category_calibrator_.apply(model.category_scorer_.raw(
            rows.X)), model.category_offsets_[rows.group])
        out["category"] = binary_report(rows.y, cat_prob, rows.weight, n_bins)
        out["category"]["categories"] = len(model.vocabulary_)
        out["audiences"] = [audience_quality(model, frame, test_start, category)
                            for category in model.vocabulary_[:AUDIENCE_CATEGORIES]]
    return out


def audience_quality(model: PurchasePropensity, frame: EventFrame, test_start: float,
                     category: str, n: int = AUDIENCE_SIZE) -> dict[str, Any]:
    """Top-`n` audience for `category` among active shoppers: precision, lift over the
    category's buying rate, expected vs actual buyers in it, against the merchant's rule
    "shoppers who viewed or carted the category lately"."""
    codes = active_codes(frame, test_start, model.lookback_days)
    mask = frame.category_item_mask(category)
    labels = purchase_labels(frame, test_start, test_start + model.horizon_days * DAY, codes,
                             mask)
    prob = model.predict([frame.actors[c] for c in codes], now=test_start, category=category)
    cat = category_features(frame, test_start, codes, category, mask)
    column = {name: i for i, name in enumerate(CATEGORY_FEATURES)}
    rule = 3 * cat[:, column["cat_carts_30d"]] + cat[:, column["cat_views_30d"]]
    top = np.argsort(-prob, kind="stable")[:n]
    top_rule = np.argsort(-rule, kind="stable")[:n]
    rate = float(labels.mean()) if labels.size else 0.0
    precision = float(labels[top].mean()) if top.size else 0.0
    return {
        "category": category, "n": int(top.size), "buyers_in_category": int(labels.sum()),
        "precision": precision, "lift": precision / rate if rate > 0 else None,
        "expected_buyers": float(prob[top].sum()), "actual_buyers": int(labels[top].sum()),
        "rule_precision": float(labels[top_rule].mean()) if top_rule.size else 0.0,
    }


def _baselines(frame: EventFrame, test_start: float, horizon_days: float, n_bins: int,
               lookback_days: float) -> dict[str, Any]:
    """The previous window's buying rate as a constant forecast (the calibration floor any
    model must beat on Brier) and a hand-made recent-carts + views ranking (AUC floor)."""
    codes = active_codes(frame, test_start, lookback_days)
    labels = purchase_labels(frame, test_start, test_start + horizon_days * DAY, codes)
    X = general_features(frame, test_start, codes)
    col = {name: i for i, name in enumerate(GENERAL_FEATURES)}
    heuristic = X[:, col["carts_7d"]] * 3 + X[:, col["views_7d"]] - X[:, col["recency_days"]]
    previous = test_start - horizon_days * DAY
    before = purchase_labels(frame, previous, test_start,
                             active_codes(frame, previous, lookback_days))
    prior = float(before.mean()) if before.size else 0.0  # nobody then: forecast no buyers
    why = auc_unavailable(labels)
    constant = binary_report(labels, np.full(labels.size, prior), n_bins=n_bins, n_resamples=0,
                             noise_draws=0)
    rule: dict[str, Any] = {"auc": float(roc_auc_score(labels, heuristic)) if why is None
                            else None}
    if why is not None:
        rule["auc_unavailable"] = why
    return {
        "previous_window_rate": {k: constant[k] for k in ("auc", "brier", "ece", "log_loss",
                                                          "mean_predicted", "auc_unavailable")
                                 if k in constant},
        "heuristic_recent_activity": rule,
    }


def load_products(path: str | Path) -> dict[str, Product]:
    """Products from a CSV / JSONL / Parquet file; invalid rows are skipped."""
    out: dict[str, Product] = {}
    for _, row in iter_rows(path):
        try:
            product = validate_product(row)
        except RowInvalid:
            continue
        out[product.item_id] = product
    return out


def load_events(path: str | Path) -> list[Event]:
    """Events from a CSV / JSONL / Parquet file, time-ordered; ids are pseudonymised with a
    throw-away key (evaluation never needs the raw ids); invalid rows are skipped."""
    pseudonyms = Pseudonymizer(secrets.token_bytes(32))
    out = []
    for _, row in iter_rows(path):
        try:
            out.append(validate_event(row, pseudonyms))
        except RowInvalid:
            continue
    out.sort(key=lambda e: e.timestamp)
    return out


def summary_table(report: dict[str, Any]) -> str:
    """A plain-text table of one `evaluate_propensity` report."""
    lines = [f"{'model':<22}{'rows':>7}{'buyers':>8}{'AUC':>8}{'Brier':>8}{'ECE':>8}{'mean p':>8}"
             f"{'rate':>8}"]
    for kind, scored in report["models"].items():
        for part in ("general", "category"):
            if part not in scored:
                continue
            r = scored[part]
            lines.append(f"{kind + ' ' + part:<22}{r['n']:>7}{r['positives']:>8}"
                         f"{_cell(r['auc'], 3)}{_cell(r['brier'], 4)}{_cell(r['ece'], 4)}"
                         f"{r['mean_predicted']:>8.3f}{r['base_rate']:>8.3f}")
            if r.get("auc_unavailable"):
                lines.append(f"  (no AUC: {r['auc_unavailable']})")
    for kind, scored in report["models"].items():
        for a in scored.get("audiences", []):
            lines.append(f"{kind} {a['category']}: p@{a['n']} {a['precision']:.2f} "
                         f"(rule {a['rule_precision']:.2f}) lift {_cell(a['lift'], 1, 0).strip()} buyers "
                         f"{a['actual_buyers']}/{a['expected_buyers']:.1f} expected")
    base = report.get("baselines", {})
    if base:
        prev = base["previous_window_rate"]
        lines.append(f"{'previous-window rate':<22}{'':>15}{_cell(prev['auc'], 3)}"
                     f"{_cell(prev['brier'], 4)}{_cell(prev['ece'], 4)}")
        lines.append(f"{'recent-activity rule':<22}{'':>15}"
                     f"{_cell(base['heuristic_recent_activity']['auc'], 3)}")
    return "\n".join(lines)


def _cell(value: float | None, digits: int, width: int = 8) -> str:
    """A table cell; a metric the window cannot have (None) reads n/a."""
    return f"{'n/a':>{width}}" if value is None else f"{value:>{width}.{digits}f}"
