"""The two propensity scorers (logistic, gradient-boosted) and their calibrators.

A scorer maps a feature matrix X (n, d) to raw log-odds (n,) and can split each score into
per-feature contributions (n, d): for the logistic model theta_j * z_j on standardised z, for
LightGBM its TreeSHAP values (`pred_contrib`). A calibrator maps raw scores to probabilities
fitted on a later, held-out time window (isotonic, or Platt's sigmoid when data are few).
Everything saves as .npy / JSON / LightGBM text; nothing is pickled.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Protocol

import lightgbm as lgb
import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

PROB_FLOOR = 1e-4
TIE_BREAK = 1e-6  # isotonic plateaus keep the raw order through a shift this small


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -40.0, 40.0)))


class Scorer(Protocol):
    kind: str

    def fit(self, X: np.ndarray, y: np.ndarray, weight: np.ndarray) -> Scorer: ...

    def raw(self, X: np.ndarray) -> np.ndarray: ...

    def contributions(self, X: np.ndarray) -> np.ndarray: ...

    def save(self, directory: Path, prefix: str) -> None: ...


class LogisticScorer:
    """sigma(theta^T z + b) on standardised features z = (x - mean) / scale (L2, C)."""

    kind = "logistic"

    def __init__(self, C: float = 1.0, seed: int = 0) -> None:
        self.C, self.seed = C, seed

    def fit(self, X: np.ndarray, y: np.ndarray, weight: np.ndarray) -> LogisticScorer:
        self.mean_ = np.average(X, axis=0, weights=weight)
        std = np.sqrt(np.average((X - self.mean_) ** 2, axis=0, weights=weight))
        self.scale_ = np.where(std > 1e-9, std, 1.0)
        model = LogisticRegression(C=self.C, max_iter=2000, random_state=self.seed)
        model.fit((X - self.mean_) / self.scale_, y, sample_weight=weight)
        self.coef_ = model.coef_.ravel().astype(np.float64)
        self.intercept_ = float(model.intercept_[0])
        return self

    def raw(self, X: np.ndarray) -> np.ndarray:
        return self.contributions(X).sum(axis=1) + self.intercept_

    def contributions(self, X: np.ndarray) -> np.ndarray:
        return (X - self.mean_) / self.scale_ * self.coef_

    def save(self, directory: Path, prefix: str) -> None:
        weights = np.concatenate([[self.intercept_], self.coef_])
        np.save(directory / f"{prefix}_standardise.npy", np.vstack([self.mean_, self.scale_]))
        np.save(directory / f"{prefix}_weights.npy", weights)

    @classmethod
    def load(cls, directory: Path, prefix: str, seed: int = 0) -> LogisticScorer:
        scorer = cls(seed=seed)
        scorer.mean_, scorer.scale_ = np.load(directory / f"{prefix}_standardise.npy")
        weights = np.load(directory / f"{prefix}_weights.npy")
        scorer.intercept_, scorer.coef_ = float(weights[0]), weights[1:]
        return scorer


class GbmScorer:
    """LightGBM binary classifier, one thread, deterministic."""

    kind = "gbm"

    def __init__(self, n_estimators: int = 200, learning_rate: float = 0.05,
                 num_leaves: int = 15, min_child_samples: int = 40, seed: int = 0) -> None:
        self.n_estimators, self.learning_rate = n_estimators, learning_rate
        self.num_leaves, self.min_child_samples, self.seed = num_leaves, min_child_samples, seed

    def fit(self, X: np.ndarray, y: np.ndarray, weight: np.ndarray) -> GbmScorer:
        params = {
            "objective": "binary", "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves, "min_data_in_leaf": self.min_child_samples,
            "feature_fraction": 0.9, "lambda_l2": 1.0, "num_threads": 1, "seed": self.seed,
            "deterministic": True, "force_col_wise": True, "verbose": -1,
        }
        data = lgb.Dataset(X, label=y.astype(np.float64), weight=weight)
        self.booster_ = lgb.train(params, data, num_boost_round=self.n_estimators)
        return self

    def raw(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.booster_.predict(X, raw_score=True, num_threads=1))

    def contributions(self, X: np.ndarray) -> np.ndarray:
        contrib = np.asarray(self.booster_.predict(X, pred_contrib=True, num_threads=1))
        return contrib[:, :-1]

    def save(self, directory: Path, prefix: str) -> None:
        self.booster_.save_model(str(directory / f"{prefix}_lightgbm.txt"))

    @classmethod
    def load(cls, directory: Path, prefix: str, seed: int = 0) -> GbmScorer:
        scorer = cls(seed=seed)
        scorer.booster_ = lgb.Booster(model_file=str(directory / f"{prefix}_lightgbm.txt"))
        return scorer


def signed_log(x: np.ndarray) -> np.ndarray:
    """sign(x) log(1 + |x|): counts and recencies on one scale without per-shop statistics."""
    return (np.sign(x) * np.log1p(np.abs(x))).astype(np.float32)


class SignedLogLogisticScorer:
    """theta^T signed_log(x) + b: the federated propensity scorer (federated/propensity.py),
    whose weights come from the federation rather than from `fit`."""

    kind = "signed_log_logistic"

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    @classmethod
    def from_weights(cls, coef: np.ndarray, intercept: float) -> SignedLogLogisticScorer:
        scorer = cls()
        scorer.coef_, scorer.intercept_ = np.asarray(coef, np.float64).ravel(), float(intercept)
        return scorer

    def fit(self, X: np.ndarray, y: np.ndarray, weight: np.ndarray) -> SignedLogLogisticScorer:
        raise NotImplementedError("trained by the federation (shopsense federated join)")

    def raw(self, X: np.ndarray) -> np.ndarray:
        return self.contributions(X).sum(axis=1) + self.intercept_

    def contributions(self, X: np.ndarray) -> np.ndarray:
        return signed_log(X) * self.coef_

    def save(self, directory: Path, prefix: str) -> None:
        np.save(directory / f"{prefix}_signed_log_weights.npy",
                np.concatenate([[self.intercept_], self.coef_]))

    @classmethod
    def load(cls, directory: Path, prefix: str, seed: int = 0) -> SignedLogLogisticScorer:
        weights = np.load(directory / f"{prefix}_signed_log_weights.npy")
        return cls.from_weights(weights[1:], float(weights[0]))


SCORERS: dict[str, type[LogisticScorer] | type[GbmScorer]] = {
    "logistic": LogisticScorer, "gbm": GbmScorer,
}
# the general scorer may differ from the model's kind (a federated one adopted by the home)
GENERAL_SCORERS = {"signed_log_logistic": SignedLogLogisticScorer}


class Calibrator:
    """Raw score -> probability. `method`: isotonic | platt | auto (isotonic when the window
    holds >= 500 rows and >= 50 positives, else platt) | none (plain sigmoid)."""

    def __init__(self, method: str = "auto") -> None:
        if method not in ("auto", "isotonic", "platt", "none"):
            raise ValueError(f"unknown calibration method {method!r}")
        self.method = method

    def fit(self, raw: np.ndarray, y: np.ndarray, weight: np.ndarray) -> Calibrator:
        method = self.method
        if method == "auto":
            big = raw.size >= 500 and float(weight[y > 0].sum()) >= 50
            method = "isotonic" if big else "platt"
        self.method_ = method
        if method == "isotonic":
            iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
            iso.fit(raw, y.astype(np.float64), sample_weight=weight)
            self.points_ = np.vstack([iso.X_thresholds_, iso.y_thresholds_])
        elif method == "platt":
            lr = LogisticRegression(C=1e4, max_iter=1000)
            lr.fit(raw.reshape(-1, 1), y, sample_weight=weight)
            self.points_ = np.array([[float(lr.coef_[0, 0])], [float(lr.intercept_[0])]])
        else:
            self.points_ = np.array([[1.0], [0.0]])
        return self

    def apply(self, raw: np.ndarray) -> np.ndarray:
        """Probabilities in [PROB_FLOOR / 2, 1 - PROB_FLOOR / 2], non-decreasing in `raw`."""
        if self.method_ != "isotonic":
            prob = sigmoid(self.points_[0, 0] * raw + self.points_[1, 0])
            return np.clip(prob, PROB_FLOOR, 1.0 - PROB_FLOOR)
        # plateaus (and the clipped ends) would tie whole groups of shoppers; a nudge of at
        # most 5e-7 by the raw score keeps their order, and the ranking's AUC, intact
        prob = np.clip(np.interp(raw, self.points_[0], self.points_[1]), PROB_FLOOR,
                       1.0 - PROB_FLOOR)
        return prob + TIE_BREAK * (sigmoid(raw) - 0.5)

    def save(self, directory: Path, prefix: str) -> None:
        np.save(directory / f"{prefix}_calibration.npy", self.points_)
        (directory / f"{prefix}_calibration.json").write_text(json.dumps({"method": self.method_}))

    @classmethod
    def load(cls, directory: Path, prefix: str) -> Calibrator:
        method = json.loads((directory / f"{prefix}_calibration.json").read_text())["method"]
        calibrator = cls(method)
        calibrator.method_ = method
        calibrator.points_ = np.load(directory / f"{prefix}_calibration.npy")
        return calibrator


def group_offsets(prob: np.ndarray, y: np.ndarray, weight: np.ndarray, group: np.ndarray,
                  n_groups: int, prior_rows: float = 200.0) -> np.ndarray:
    """(n_groups,) log-odds corrections making each group's mean forecast match its observed
    rate on the calibration window, shrunk towards 0 by `prior_rows` pseudo-rows that agree
    with the forecast (a group with few rows keeps the global calibration)."""
    out = np.zeros(n_groups)
    for g in range(n_groups):
        m = group == g
        if not m.any():
            continue
        w = weight[m]
        predicted = float(np.average(prob[m], weights=w))
        observed = (float((w * y[m]).sum()) + prior_rows * predicted) / (w.sum() + prior_rows)
        out[g] = _logit(observed) - _logit(predicted)
    return out


def _logit(p: float) -> float:
    p = min(max(p, PROB_FLOOR), 1.0 - PROB_FLOOR)
    return float(np.log(p / (1.0 - p)))


def shift_log_odds(prob: np.ndarray, offset: float | np.ndarray) -> np.ndarray:
    """sigma(logit(prob) + offset), kept inside [PROB_FLOOR, 1 - PROB_FLOOR]."""
    p = np.clip(prob, PROB_FLOOR, 1.0 - PROB_FLOOR)
    return np.clip(sigmoid(np.log(p / (1.0 - p)) + offset), PROB_FLOOR, 1.0 - PROB_FLOOR)
