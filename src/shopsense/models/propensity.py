"""Purchase propensity: how likely is this shopper to buy within the next `horizon_days`?

P(purchase within horizon | point-in-time shopper features), from a logistic model
sigma(theta^T x) or a LightGBM model, trained on rolling cutoffs and calibrated on a later,
held-out time window:

    |--- train cutoffs (labels end before t_cal) ---| t_cal |-- calibration labels --| cutoff

(`calibration_windows` > 1 pools that many windows before the cutoff for calibration.)
Shoppers new to the shop, or dormant beyond `lookback_days`, are outside the training
population and get their group's pooled buying rate instead of a model score.

Audiences for a category use a second, category-conditional model of the same kind: rows are
(shopper, category) pairs with the shopper's general features plus their activity in that
category and the category's recent share of purchases; the label is "bought in that category
within the horizon" (see `propensity_data`). Its calibration is followed by one log-odds
offset per vocabulary category, fitted on the calibration window and shrunk towards 0, so
that each category's expected buyers match its observed ones. An item audience multiplies P(buy in the item's
category) by a smoothed share of the shopper's category engagement that went to the item:
(w_item + prior * s_item) / (w_category + prior), where w are EVENT_WEIGHTS of the shopper's
last 30 days and s_item the item's share of the category's purchases (add-one smoothed).

Explanations are per-feature contributions to the log-odds: theta_j * z_j for the logistic
model (z standardised), TreeSHAP values (`pred_contrib`) for LightGBM.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from shopsense.domain import EVENT_TYPES, EVENT_WEIGHTS, Event, Product
from shopsense.features.behaviour import (
    CATEGORY_FEATURES,
    GENERAL_FEATURES,
    category_features,
    category_popularity,
    general_features,
)
from shopsense.features.frame import DAY, EventFrame, normalise_category
from shopsense.models.propensity_data import (
    Rows,
    category_rows,
    category_vocabulary,
    general_rows,
    population_rates,
)
from shopsense.models.propensity_scorers import (
    GENERAL_SCORERS,
    SCORERS,
    Calibrator,
    GbmScorer,
    LogisticScorer,
    group_offsets,
    shift_log_odds,
)

CONFIG_KEYS = ("horizon_days", "model", "seed", "n_cutoffs", "step_days", "lookback_days",
               "calibration", "category_model", "max_category_level", "max_categories",
               "negatives_per_user", "item_prior", "include_sessions", "calibration_windows")
FORMAT_VERSION = 1
SMALL_REQUEST = 256  # at most this many shoppers: features from their own events only


class PurchasePropensity:
    """Calibrated P(purchase within `horizon_days`) per shopper; see the module docstring."""

    def __init__(self, horizon_days: float = 7, model: str = "logistic", seed: int = 0, *,
                 n_cutoffs: int = 6, step_days: float | None = None, lookback_days: float = 90,
                 calibration: str = "auto", category_model: bool = True,
                 max_category_level: int = 2, max_categories: int = 40,
                 negatives_per_user: int = 3, item_prior: float = 5.0,
                 include_sessions: bool = False, calibration_windows: int = 1) -> None:
        self.horizon_days, self.model, self.seed = horizon_days, model, seed
        self.n_cutoffs, self.step_days, self.lookback_days = n_cutoffs, step_days, lookback_days
        self.calibration, self.category_model = calibration, category_model
        self.max_category_level, self.max_categories = max_category_level, max_categories
        self.negatives_per_user, self.item_prior = negatives_per_user, item_prior
        self.include_sessions = include_sessions
        self.calibration_windows = calibration_windows
        self.history_: EventFrame | None = None
        self.catalog_categories_: dict[str, str] = {}

    # ---- training ---------------------------------------------------------------------
    def fit(self, events: Iterable[Event], products: Mapping[str, Product],
            cutoff: float | None = None) -> PurchasePropensity:
        """Learn from events before `cutoff` (default: the end of the stream)."""
        self._validate()
        if cutoff is not None:
            events = (e for e in events if e.timestamp < cutoff)
        frame = EventFrame.build(self._shoppers(events), products)
        self._remember_catalogue(products)
        if frame.n_events == 0:
            raise ValueError("no events to learn purchase propensity from")
        cutoff = frame.end if cutoff is None else float(cutoff)
        t_cal = cutoff - self.calibration_windows * self.horizon_days * DAY
        cal_cutoffs = [t_cal + k * self.horizon_days * DAY for k in range(self.calibration_windows)]
        cutoffs = self._train_cutoffs(frame, t_cal)
        if not cutoffs:
            raise ValueError(f"history too short: need more than {2 * self.horizon_days:g} days "
                             f"of events for a {self.horizon_days:g}-day horizon")
        train = general_rows(frame, cutoffs, self.horizon_days, self.lookback_days)
        calib = general_rows(frame, cal_cutoffs, self.horizon_days, self.lookback_days)
        self.scorer_, self.calibrator_ = self._fit_pair(train, calib, "general")
        self.vocabulary_: list[str] = []
        self.category_scorer_: LogisticScorer | GbmScorer | None = None
        self.category_offsets_ = np.zeros(0)
        if self.category_model:
            self.vocabulary_ = category_vocabulary(frame, t_cal, max_level=self.max_category_level,
                                                   max_categories=self.max_categories)
            self._fit_category(frame, cutoffs, cal_cutoffs)
        self.cutoff_, self.train_cutoffs_ = cutoff, cutoffs
        self.n_train_rows_, self.train_base_rate_ = int(train.y.size), float(train.y.mean())
        self.n_calibration_rows_ = int(calib.y.size)
        self.new_rate_, self.dormant_rate_ = population_rates(
            frame, cutoffs, self.horizon_days, self.lookback_days)
        self.history_ = frame
        return self

    def _validate(self) -> None:
        if self.model not in SCORERS:
            raise ValueError(f"model must be one of {sorted(SCORERS)}, got {self.model!r}")
        if self.horizon_days <= 0 or self.lookback_days <= 0 or self.n_cutoffs < 1:
            raise ValueError("horizon_days and lookback_days must be > 0, n_cutoffs >= 1")
        if self.calibration_windows < 1:
            raise ValueError(f"calibration_windows must be >= 1, got {self.calibration_windows}")
        if self.step_days is not None and self.step_days <= 0:
            raise ValueError(f"step_days must be > 0, got {self.step_days}")

    def _train_cutoffs(self, frame: EventFrame, t_cal: float) -> list[float]:
        step = (self.step_days or self.horizon_days) * DAY
        first = float(frame.ts[0]) + DAY  # at least a day of history before any cutoff
        latest = t_cal - self.horizon_days * DAY
        return [t for k in range(self.n_cutoffs) if (t := latest - k * step) > first][::-1]

    def _fit_pair(self, train: Rows, calib: Rows, what: str
                  ) -> tuple[LogisticScorer | GbmScorer, Calibrator]:
        if train.y.all() or not train.y.any():
            raise ValueError(f"{what} training rows need buyers and non-buyers "
                             f"({int(train.y.sum())} of {train.y.size} bought)")
        scorer = SCORERS[self.model](seed=self.seed).fit(train.X, train.y, train.weight)
        both = calib.y.size > 0 and calib.y.any() and not calib.y.all()
        method = self.calibration if both else "none"
        raw = scorer.raw(calib.X) if both else np.zeros(0)
        calibrator = Calibrator(method).fit(raw, calib.y, calib.weight)
        return scorer, calibrator

    def _fit_category(self, frame: EventFrame, cutoffs: list[float],
                      cal_cutoffs: list[float]) -> None:
        if not self.vocabulary_:
            return
        args = (self.horizon_days, self.lookback_days, self.vocabulary_,
                self.negatives_per_user)
        train = category_rows(frame, cutoffs, *args, seed=self.seed)
        calib = category_rows(frame, cal_cutoffs, *args, seed=self.seed + 1)
        if train.y.any() and not train.y.all():
            self.category_scorer_, self.category_calibrator_ = self._fit_pair(
                train, calib, "category")
            prob = self.category_calibrator_.apply(self.category_scorer_.raw(calib.X))
            self.category_offsets_ = group_offsets(prob, calib.y, calib.weight, calib.group,
                                                   len(self.vocabulary_))

    # ---- scoring ----------------------------------------------------------------------
    def attach(self, events: Iterable[Event], products: Mapping[str, Product]
               ) -> PurchasePropensity:
        """Use this event history for predictions (after `load`, or to score newer events)."""
        self.history_ = EventFrame.build(self._shoppers(events), products)
        self._remember_catalogue(products)
        return self

    def _remember_catalogue(self, products: Mapping[str, Product]) -> None:
        """Categories of every listed item, so item audiences work for items no one touched."""
        self.catalog_categories_ = {item_id: normalise_category(p.category)
                                    for item_id, p in products.items() if p.category}

    def _shoppers(self, events: Iterable[Event]) -> Iterable[Event]:
        """Signed-in shoppers only, unless `include_sessions` (anonymous sessions cannot be
        reached by a campaign and rarely come back, so they would only pad the negatives)."""
        return events if self.include_sessions else (e for e in events if e.user_id)

    def _frame(self) -> EventFrame:
        if not hasattr(self, "scorer_"):
            raise RuntimeError("PurchasePropensity is not fitted; call fit() or load()")
        if self.history_ is None:
            raise RuntimeError("no event history: call attach(events, products) first")
        return self.history_

    def _rows(self, user_ids: Sequence[str], now: float | None, category: str | None
              ) -> tuple[np.ndarray, np.ndarray, EventFrame]:
        full = self._frame()
        at = full.end if now is None else float(now)
        codes = full.codes(user_ids)
        # a few shoppers: compute on their events only (same values, far fewer passes)
        frame = full.restrict(codes) if codes.size <= SMALL_REQUEST else full
        X = general_features(frame, at, codes)
        if category is not None:
            mask = full.category_item_mask(category)
            X = np.hstack([X, category_features(frame, at, codes, category, mask,
                                                category_popularity(full, at, mask))])
        return X, codes, frame

    def _pair(self, category: str | None) -> tuple[Any, Calibrator]:
        if category is None:
            return self.scorer_, self.calibrator_
        if self.category_scorer_ is None:
            raise RuntimeError("no category model: fit with category_model=True and purchases "
                               "in categories")
        return self.category_scorer_, self.category_calibrator_

    def predict(self, user_ids: Sequence[str], now: float | None = None, *,
                category: str | None = None) -> np.ndarray:
        """(len(user_ids),) calibrated probabilities of buying (in `category`, if given)
        within the horizon after `now` (default: the end of the attached history)."""
        X, codes, frame = self._rows(list(user_ids), now, category)
        scorer, calibrator = self._pair(category)
        prob = calibrator.apply(scorer.raw(X))
        if category is not None:
            prob = shift_log_odds(prob, self.category_offset(category))
        return self._outside_population(prob, codes, frame, now, category)

    def category_offset(self, category: str) -> float:
        """Log-odds correction of the category model for `category`: that of the longest
        vocabulary path it lies under (fitted per category on the calibration window), else 0."""
        best, best_len = 0.0, -1
        for path, offset in zip(self.vocabulary_, self.category_offsets_, strict=False):
            if in_category_path(category, path) and len(path) > best_len:
                best, best_len = float(offset), len(path)
        return best

    def _outside_population(self, prob: np.ndarray, codes: np.ndarray, frame: EventFrame,
                            now: float | None, category: str | None) -> np.ndarray:
        """New and dormant shoppers (not in the models' training population) get the pooled
        rate of their group, times the category's share of recent purchases for a category."""
        full = self._frame()
        at = full.end if now is None else float(now)
        n = frame.before(at)
        last = np.full(frame.n_actors + 1, -np.inf)
        np.maximum.at(last, frame.actor[:n], frame.ts[:n])
        last_seen = last[np.where(codes >= 0, codes, frame.n_actors)]
        new = ~np.isfinite(last_seen)
        dormant = ~new & (last_seen < at - self.lookback_days * DAY)
        share = 1.0
        if category is not None and (new.any() or dormant.any()):
            share = float(np.exp(category_popularity(full, at, full.category_item_mask(category))))
        out = prob.copy()
        out[new] = self.new_rate_ * share
        out[dormant] = self.dormant_rate_ * share
        return out

    def explain(self, user_id: str, now: float | None = None, *, category: str | None = None,
                top: int | None = None) -> list[tuple[str, float]]:
        """Features that raised (> 0) or lowered (< 0) the shopper's log-odds, largest first."""
        X, _, _ = self._rows([user_id], now, category)
        scorer, _ = self._pair(category)
        names = GENERAL_FEATURES + (CATEGORY_FEATURES if category is not None else ())
        contrib = scorer.contributions(X)[0]
        ranked = sorted(zip(names, contrib.tolist(), strict=True), key=lambda kv: -abs(kv[1]))
        ranked = [(name, value) for name, value in ranked if value != 0.0]
        return ranked[:top] if top is not None else ranked

    def features(self, user_id: str, now: float | None = None, *,
                 category: str | None = None) -> dict[str, float]:
        """The shopper's feature values as the model sees them (counts and days log1p)."""
        X, _, _ = self._rows([user_id], now, category)
        names = GENERAL_FEATURES + (CATEGORY_FEATURES if category is not None else ())
        return dict(zip(names, X[0].tolist(), strict=True))

    def audience(self, category: str | None = None, item_id: str | None = None, n: int = 100,
                 now: float | None = None) -> list[tuple[str, float]]:
        """The `n` shoppers most likely to buy (in `category`, or `item_id`), best first."""
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        frame = self._frame()
        users = frame.actors
        if item_id is not None:
            if item_id in frame.item_index:
                item_category = frame.item_category[frame.item_index[item_id]]
            elif item_id in self.catalog_categories_:  # listed, but nobody touched it yet
                item_category = self.catalog_categories_[item_id]
            else:
                raise KeyError(f"unknown item {item_id!r}: not in the catalogue or the events")
            prob = self.predict(users, now, category=item_category or None)
            prob = prob * self._item_share(frame, item_id, item_category, now)
        else:
            prob = self.predict(users, now, category=category)
        order = np.lexsort((np.arange(len(users)), -prob))[:n]
        return [(users[i], float(prob[i])) for i in order]

    def _item_share(self, frame: EventFrame, item_id: str, category: str,
                    now: float | None) -> np.ndarray:
        """(n_actors,) smoothed share of each shopper's category engagement on `item_id`."""
        at = frame.end if now is None else float(now)
        mask = frame.category_item_mask(category) if category else np.zeros(len(frame.items), bool)
        code = frame.item_index.get(item_id, -2)  # -2: no event has this item
        if code >= 0:
            mask[code] = True
        recent = frame.window(at - 30 * DAY, at)
        item, actor = frame.item[recent], frame.actor[recent]
        weight = np.array([EVENT_WEIGHTS[t] for t in EVENT_TYPES])[frame.etype[recent]]
        in_cat = (item >= 0) & mask[np.maximum(item, 0)]
        w_cat = np.bincount(actor[in_cat], weights=weight[in_cat], minlength=frame.n_actors)
        on_item = item == code
        w_item = np.bincount(actor[on_item], weights=weight[on_item], minlength=frame.n_actors)
        buys = frame.etype[: frame.before(at)] == EVENT_TYPES.index("purchase")
        bought = frame.item[: frame.before(at)][buys]
        n_item = np.count_nonzero(bought == code)
        in_cat_buys = np.count_nonzero(mask[bought[bought >= 0]])
        s_item = (n_item + 1.0) / (in_cat_buys + int(mask.sum()) + (code < 0))
        return (w_item + self.item_prior * s_item) / (w_cat + self.item_prior)

    # ---- persistence ------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """config.json + .npy / LightGBM text; the event history is not saved (it is the store's)."""
        if not hasattr(self, "scorer_"):
            raise RuntimeError("nothing to save: the model is not fitted")
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        self.scorer_.save(out, "general")
        self.calibrator_.save(out, "general")
        if self.category_scorer_ is not None:
            self.category_scorer_.save(out, "category")
            self.category_calibrator_.save(out, "category")
            np.save(out / "category_offsets.npy", self.category_offsets_)
        config = {key: getattr(self, key) for key in CONFIG_KEYS}
        config.update(format_version=FORMAT_VERSION, general_features=list(GENERAL_FEATURES),
                      general_scorer=self.scorer_.kind,
                      category_features=list(CATEGORY_FEATURES), vocabulary=self.vocabulary_,
                      has_category_model=self.category_scorer_ is not None,
                      cutoff=self.cutoff_, train_cutoffs=self.train_cutoffs_,
                      n_train_rows=self.n_train_rows_, train_base_rate=self.train_base_rate_,
                      n_calibration_rows=self.n_calibration_rows_,
                      new_rate=self.new_rate_, dormant_rate=self.dormant_rate_)
        (out / "config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False))
        return out

    @classmethod
    def load(cls, directory: str | Path) -> PurchasePropensity:
        """A fitted model without history; call `attach(events, products)` before predicting."""
        src = Path(directory)
        config = json.loads((src / "config.json").read_text())
        if config.get("format_version", 0) > FORMAT_VERSION:
            raise ValueError(f"{src}: saved by a newer shopsense (format "
                             f"{config['format_version']} > {FORMAT_VERSION})")
        if config.get("general_features") != list(GENERAL_FEATURES):
            raise ValueError(f"{src}: saved with a different feature set; retrain")
        model = cls(**{key: config[key] for key in CONFIG_KEYS})
        scorer_type = SCORERS[model.model]
        general_type = GENERAL_SCORERS.get(config.get("general_scorer", ""), scorer_type)
        model.scorer_ = general_type.load(src, "general", seed=model.seed)
        model.calibrator_ = Calibrator.load(src, "general")
        model.category_scorer_ = None
        if config["has_category_model"]:
            model.category_scorer_ = scorer_type.load(src, "category", seed=model.seed)
            model.category_calibrator_ = Calibrator.load(src, "category")
        offsets = src / "category_offsets.npy"
        model.category_offsets_ = np.load(offsets) if offsets.exists() else np.zeros(0)
        model.vocabulary_, model.cutoff_ = config["vocabulary"], config["cutoff"]
        model.train_cutoffs_ = config["train_cutoffs"]
        model.n_train_rows_, model.train_base_rate_ = config["n_train_rows"], config["train_base_rate"]
        model.n_calibration_rows_ = config["n_calibration_rows"]
        model.new_rate_, model.dormant_rate_ = config["new_rate"], config["dormant_rate"]
        return model


def in_category_path(category: str, path: str) -> bool:
    """`category` equals `path` or lies under it."""
    have, want = normalise_category(category), normalise_category(path)
    return have == want or have.startswith(want + " > ")
