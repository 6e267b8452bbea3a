"""Which candidate first? Learned rankers over `recs_features` rows, trained on held-out picks.

Two learned forms, both reported (training.recs.fit_ranker chooses what serves):
- `LogisticRecsRanker`: R(x, g) = sigmoid(theta . f(g) + mu . x) over standardised features,
  with per-feature contributions theta_j * z_j recorded for explanations.
- `BoostedRecsRanker`: LightGBM lambdarank grouped by shopper; contributions from SHAP values.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np


class RecsRanker(Protocol):
    kind: str
    feature_names: list[str]
    # whether `score` / `contributions` read `recs_features.CONTEXT_FEATURES` (a request
    # for a ranker that does not leaves them 0 instead of computing them)
    reads_context: bool

    def score(self, features: np.ndarray) -> np.ndarray: ...

    def contributions(self, features: np.ndarray) -> np.ndarray: ...

    def save(self, directory: Path) -> None: ...


def _check(features: np.ndarray, labels: np.ndarray, groups: np.ndarray, names: Sequence[str]
           ) -> None:
    if features.ndim != 2 or features.shape[1] != len(names):
        raise ValueError(f"features must be (n, {len(names)}), got {features.shape}")
    if len(labels) != len(features) or int(np.sum(groups)) != len(features):
        raise ValueError("labels and group sizes must cover every feature row")
    if labels.min() == labels.max():
        raise ValueError("need both positive and negative rows to learn a ranker")


class LogisticRecsRanker:
    kind = "logistic"
    reads_context = True

    def __init__(self, feature_names: Sequence[str], c: float = 1.0, seed: int = 0) -> None:
        self.feature_names, self.c, self.seed = list(feature_names), c, seed
        self.mean_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None
        self.coef_: np.ndarray | None = None
        self.intercept_: float = 0.0

    def fit(self, features: np.ndarray, labels: np.ndarray, groups: np.ndarray
            ) -> LogisticRecsRanker:
        from sklearn.linear_model import LogisticRegression

        _check(features, labels, groups, self.feature_names)
        self.mean_ = features.mean(axis=0)
        self.scale_ = np.where(features.std(axis=0) > 1e-9, features.std(axis=0), 1.0)
        model = LogisticRegression(C=self.c, max_iter=500, class_weight="balanced",
                                   random_state=self.seed)
        model.fit((features - self.mean_) / self.scale_, labels)
        self.coef_, self.intercept_ = model.coef_[0].astype(np.float64), float(model.intercept_[0])
        return self

    def contributions(self, features: np.ndarray) -> np.ndarray:
        if self.coef_ is None or self.mean_ is None or self.scale_ is None:
            raise RuntimeError("LogisticRecsRanker is not fitted")
        return ((features - self.mean_) / self.scale_) * self.coef_

    def score(self, features: np.ndarray) -> np.ndarray:
        logit = self.contributions(features).sum(axis=1) + self.intercept_
        return 1.0 / (1.0 + np.exp(-logit))

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "config.json").write_text(json.dumps({
            "kind": self.kind, "feature_names": self.feature_names, "c": self.c,
            "seed": self.seed, "intercept": self.intercept_,
            "mean": np.asarray(self.mean_).tolist(), "scale": np.asarray(self.scale_).tolist(),
            "coef": np.asarray(self.coef_).tolist()}, indent=1))

    @classmethod
    def load(cls, directory: Path) -> LogisticRecsRanker:
        cfg = json.loads((directory / "config.json").read_text())
        ranker = cls(cfg["feature_names"], cfg["c"], cfg["seed"])
        ranker.mean_, ranker.scale_ = np.asarray(cfg["mean"]), np.asarray(cfg["scale"])
        ranker.coef_, ranker.intercept_ = np.asarray(cfg["coef"]), cfg["intercept"]
        return ranker


class BoostedRecsRanker:
    kind = "lightgbm"
    reads_context = True

    def __init__(self, feature_names: Sequence[str], n_estimators: int = 200,
                 learning_rate: float = 0.05, num_leaves: int = 31, seed: int = 0) -> None:
        self.feature_names = list(feature_names)
        self.n_estimators, self.learning_rate = n_estimators, learning_rate
        self.num_leaves, self.seed = num_leaves, seed
        self.booster_: object | None = None

    def fit(self, features: np.ndarray, labels: np.ndarray, groups: np.ndarray
            ) -> BoostedRecsRanker:
        import lightgbm as lgb

        _check(features, labels, groups, self.feature_names)
        data = lgb.Dataset(features, labels, group=groups, feature_name=self.feature_names)
        params = {"objective": "lambdarank", "learning_rate": self.learning_rate,
                  "num_leaves": self.num_leaves, "min_data_in_leaf": 20, "num_threads": 1,
                  "seed": self.seed, "deterministic": True, "verbose": -1,
                  "lambdarank_truncation_level": 20, "eval_at": [10]}
        self.booster_ = lgb.train(params, data, num_boost_round=self.n_estimators)
        return self

    def _booster(self):  # type: ignore[no-untyped-def]
        if self.booster_ is None:
            raise RuntimeError("BoostedRecsRanker is not fitted")
        return self.booster_

    def score(self, features: np.ndarray) -> np.ndarray:
        return np.asarray(self._booster().predict(features, num_threads=1))

    def contributions(self, features: np.ndarray) -> np.ndarray:
        return np.asarray(self._booster().predict(features, pred_contrib=True,
                                                  num_threads=1))[:, :-1]

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "config.json").write_text(json.dumps({
            "kind": self.kind, "feature_names": self.feature_names,
            "n_estimators": self.n_estimators, "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves, "seed": self.seed}, indent=1))
        self._booster().save_model(str(directory / "model.txt"))

    @classmethod
    def load(cls, directory: Path) -> BoostedRecsRanker:
        import lightgbm as lgb

        cfg = json.loads((directory / "config.json").read_text())
        ranker = cls(cfg["feature_names"], cfg["n_estimators"], cfg["learning_rate"],
                     cfg["num_leaves"], cfg["seed"])
        ranker.booster_ = lgb.Booster(model_file=str(directory / "model.txt"))
        return ranker


class BlendOrderRanker:
    """No learning: the offline blend's order (models/blend.py) over the candidates. With
    `source="blend"` (engines trained since the blend became a source) it is exactly the
    blend's score, which every candidate carries (`recs_features.add_blend_signals`), so the
    top of the list is the blend's own top. The older form rebuilds it from the candidates:
    `source`'s score (SASRec's logit; its log-softmax differs by a per-shopper constant) plus
    `weight` x `partner`'s score over the shopper's largest (co-visits); a candidate `source`
    did not propose takes the lowest `source` score of the list. Weight 0 is `source`'s own
    order. A shopper the blend proposed nothing for is ordered by reciprocal-rank fusion.
    Scores one shopper's candidates per call (as `RecommendationEngine` does). Serves when
    no learned ranker beats it clearly on the shoppers the choice is made on (a small shop's
    ranker fits a few hundred shoppers; training.recs.fit_ranker)."""

    kind = "blend_order"
    reads_context = False  # the sources' scores and ranks only

    def __init__(self, feature_names: Sequence[str], weight: float = 0.0,
                 source: str = "sasrec", partner: str | None = "covisit") -> None:
        self.feature_names, self.weight = list(feature_names), float(weight)
        self.source, self.partner = source, partner
        names = self.feature_names
        if f"{source}.score" not in names or (partner and f"{partner}.score" not in names):
            raise ValueError(f"no {source} / {partner} scores among the features")
        self._score, self._rrank = names.index(f"{source}.score"), names.index(f"{source}.rrank")
        self._partner = names.index(f"{partner}.score") if partner else None

    def _parts(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        own = features[:, self._score].astype(np.float64)
        present = features[:, self._rrank] > 0
        if self.source == "blend" and not present.any():  # no blend: fuse the others' ranks
            rranks = [features[:, i + 1] for i, name in enumerate(self.feature_names)
                      if name.endswith(".score") and self.feature_names[i + 1:i + 2] ==
                      [name.removesuffix(".score") + ".rrank"]]
            return sum(rranks, np.zeros(len(features))), np.zeros(len(features))
        if self.source != "blend":  # 0 where not proposed: below the source's own list
            own = np.where(present, own, own[present].min() - 1.0 if present.any() else 0.0)
        if self._partner is None or self.weight == 0:
            return own, np.zeros_like(own)
        other = features[:, self._partner].astype(np.float64)
        top = other.max() if other.size else 0.0
        return own, self.weight * (other / top if top > 0 else other * 0.0)

    def contributions(self, features: np.ndarray) -> np.ndarray:
        """Per feature: the older form its two terms; the blend its SASRec and co-visit
        parts (`sasrec.logp`, `blend.score` - `sasrec.logp`), each less its mean over the
        shopper's candidates (they add up to the score less a per-shopper constant), so a
        reason cites the part that lifts this candidate above the others."""
        own, other = self._parts(features)
        out = np.zeros(features.shape, dtype=np.float64)
        names = self.feature_names
        if self.source == "blend" and "sasrec.logp" in names and len(features) and \
                (features[:, self._rrank] > 0).any():
            logp = features[:, names.index("sasrec.logp")].astype(np.float64)
            out[:, names.index("sasrec.logp")] = logp - logp.mean()
            if "covisit.share" in names:
                rest = own - logp
                out[:, names.index("covisit.share")] = rest - rest.mean()
            return out
        out[:, self._score] = own
        if self._partner is not None:
            out[:, self._partner] = other
        return out

    def score(self, features: np.ndarray) -> np.ndarray:
        own, other = self._parts(features)
        return own + other

    def score_groups(self, features: np.ndarray, groups: np.ndarray) -> np.ndarray:
        """`score` of many shoppers' rows (`groups`: rows per shopper, in order)."""
        if features.shape[0] == 0:
            return np.zeros(0)
        return np.concatenate([self.score(part) for part in
                               np.split(features, np.cumsum(groups)[:-1])])

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "config.json").write_text(json.dumps({
            "kind": self.kind, "feature_names": self.feature_names, "weight": self.weight,
            "source": self.source, "partner": self.partner}, indent=1))

    @classmethod
    def load(cls, directory: Path) -> BlendOrderRanker:
        cfg = json.loads((directory / "config.json").read_text())
        return cls(cfg["feature_names"], cfg["weight"], cfg["source"], cfg["partner"])


def load_ranker(directory: Path) -> LogisticRecsRanker | BoostedRecsRanker | BlendOrderRanker:
    kind = json.loads((directory / "config.json").read_text())["kind"]
    return {"logistic": LogisticRecsRanker, "lightgbm": BoostedRecsRanker,
            "blend_order": BlendOrderRanker}[kind].load(directory)
