"""How search candidates are scored: a learned LambdaMART ranker, or a query-dependent blend.

`QueryBlend` needs no training: BM25F (normalised within the query) plus an encoder cosine
whose weight grows as the keyword match weakens, so a cross-lingual query ("air conditioner"
over 空调 titles) leans on the encoder while a precise English query stays lexical.

`LambdaMartRanker` is LightGBM lambdarank over `rank.search_features` columns, trained on
graded judgments or click-derived labels (unjudged candidates count 0). At query time it
re-ranks the blend's top `rerank_depth` candidates (a cascade: tree cost is per row).
It is guarded: a part of the training queries is held back (early stopping ends there) and
the model is kept only if it beats both plain BM25F order and the blend there; otherwise it
falls back (and says so in `mode_`). `n_bags` > 1 fits that many models, each with its own
seed and held-back part, and serves their mean (the guard averages each bag's figures on its
own held-back part); the contributions then cover every bag's trees and still sum to the
score. `refit=True`
then refits a kept model on every training query, held-back ones included, with the number
of trees early stopping chose scaled by the larger data; off by default: 4-fold
cross-validation on the Home Depot training split gave nDCG@10 0.5141 refitted against 0.5151
without (benchmarks/README.md).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from shopsense.evaluation.metrics import grouped_ndcg
from shopsense.rank.search_features import FEATURE_NAMES

_COL = {name: i for i, name in enumerate(FEATURE_NAMES)}
_EXPLAINED = (*FEATURE_NAMES, "base")  # `LambdaMartRanker.explain`'s parts, in its order
_LEAF_MEMO = 4096  # feature rows whose leaves a ranker keeps (~1 KB each at 300 trees)


class SearchScorer(Protocol):
    name: str

    def score(self, features: np.ndarray) -> np.ndarray:
        """(n, n_features) -> (n,) higher is better, for the candidates of one query."""
        ...


class QueryBlend:
    """BM25F + encoder cosine, the encoder weighted by how badly the keywords matched."""

    name = "blend"

    def __init__(self, min_semantic_weight: float = 0.1, max_semantic_weight: float = 0.9
                 ) -> None:
        self.min_semantic_weight = min_semantic_weight
        self.max_semantic_weight = max_semantic_weight

    def semantic_weight(self, features: np.ndarray) -> float:
        if len(features) == 0:
            return self.min_semantic_weight
        best_coverage = float(features[:, _COL["idf_coverage"]].max())
        span = self.max_semantic_weight - self.min_semantic_weight
        return self.min_semantic_weight + span * (1.0 - best_coverage) ** 2

    def score(self, features: np.ndarray) -> np.ndarray:
        if len(features) == 0:
            return np.zeros(0, dtype=np.float32)
        parts = self.explain(features)
        return (parts["keyword"] + parts["meaning"] + parts["phrase"]).astype(np.float32)

    def explain(self, features: np.ndarray) -> dict[str, np.ndarray]:
        """The score's additive parts per candidate (they sum to `score`): keyword match,
        closeness in meaning, whole-phrase match."""
        lexical = features[:, _COL["bm25f_rel"]]
        cos = features[:, _COL["semantic"]]
        spread = float(cos.max() - cos.min()) if len(cos) else 0.0
        semantic = (cos - cos.min()) / spread if spread > 1e-6 else np.zeros_like(cos)
        weight = self.semantic_weight(features)
        return {"keyword": ((1 - weight) * lexical).astype(np.float32),
                "meaning": (weight * semantic).astype(np.float32),
                "phrase": (0.05 * features[:, _COL["phrase_longest"]]).astype(np.float32)}


class KeywordOrder:
    """BM25F alone (the guard's reference)."""

    name = "bm25f"

    def score(self, features: np.ndarray) -> np.ndarray:
        return features[:, _COL["bm25f"]].astype(np.float32)

    def explain(self, features: np.ndarray) -> dict[str, np.ndarray]:
        return {"keyword": self.score(features)}


def mean_ndcg(scorer: SearchScorer, groups: Sequence[np.ndarray], labels: Sequence[np.ndarray],
              k: int = 10) -> float:
    """Mean nDCG@k over queries, ranking only each query's candidates."""
    if not groups:
        return 0.0
    scores = np.concatenate([np.asarray(scorer.score(f), dtype=np.float64) for f in groups])
    gains = np.concatenate([np.asarray(g, dtype=np.float64) for g in labels])
    sizes = np.asarray([len(g) for g in labels])
    return float(np.mean(grouped_ndcg(scores, gains, sizes, k)))


class LambdaMartRanker:
    """LightGBM lambdarank; falls back to the blend or BM25F when it does not win."""

    name = "lambdamart"

    def __init__(self, n_estimators: int = 400, learning_rate: float = 0.05,
                 num_leaves: int = 31, min_child_samples: int = 20,
                 validation_fraction: float = 0.2, label_levels: int = 8,
                 rerank_depth: int = 100, seed: int = 0, refit: bool = False,
                 n_bags: int = 1) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.validation_fraction = validation_fraction
        self.label_levels = label_levels
        self.rerank_depth = rerank_depth
        self.seed = seed
        self.refit = refit
        self.n_bags = n_bags
        self.booster_: Any = None  # the first bag's booster
        self.boosters_: list[Any] = []
        self.paths_: tuple[list[Any], np.ndarray, float] | None = None
        self.values_: np.ndarray | None = None
        self.width_ = 0  # leaves per tree in the path table
        self.leaf_memo_: dict[bytes, np.ndarray] = {}  # feature row -> its leaves (`_leaves`)
        self.mode_: str = "blend"
        self.validation_: dict[str, float] = {}
        self._fallback: SearchScorer = QueryBlend()

    def _labels(self, gains: np.ndarray, top: float) -> np.ndarray:
        return np.clip(np.rint(gains / top * self.label_levels), 0, self.label_levels
                       ).astype(np.int32)

    def fit(self, groups: Sequence[np.ndarray], gains: Sequence[np.ndarray]
            ) -> LambdaMartRanker:
        """`groups[i]`: (n_i, n_features) candidates of query i; `gains[i]`: (n_i,) >= 0."""
        import lightgbm as lgb

        if len(groups) != len(gains) or len(groups) < 10:
            raise ValueError("need at least 10 queries, with one gains array per group")
        if self.n_bags < 1:
            raise ValueError("n_bags must be >= 1")
        for features, g in zip(groups, gains, strict=True):
            if features.ndim != 2 or features.shape[1] != len(FEATURE_NAMES):
                raise ValueError(f"features must be (n, {len(FEATURE_NAMES)})")
            if len(g) != len(features) or (np.asarray(g) < 0).any():
                raise ValueError("gains must be one non-negative value per candidate")
        top = max(float(max((np.max(g) for g in gains if len(g)), default=1.0)), 1e-6)
        n_val = max(1, int(len(groups) * self.validation_fraction))
        splits = [np.random.default_rng(self.seed + b).permutation(len(groups))
                  for b in range(self.n_bags)]  # bag b stops early on its first n_val queries

        def dataset(idx: np.ndarray) -> lgb.Dataset:
            x = np.vstack([groups[i] for i in idx])
            y = np.concatenate([self._labels(np.asarray(gains[i]), top) for i in idx])
            return lgb.Dataset(x, y, group=[len(groups[i]) for i in idx],
                               feature_name=[n.replace(".", "_") for n in FEATURE_NAMES],
                               free_raw_data=False)

        self.boosters_ = [self._train(dataset(order[n_val:]), dataset(order[:n_val]),
                                      self.seed + b) for b, order in enumerate(splits)]
        self.booster_ = self.boosters_[0]
        self._guard(groups, gains, [order[:n_val] for order in splits])
        if self.mode_ == "model" and self.refit:  # each bag again on every query
            rounds = [max(1, round((bst.best_iteration or bst.num_trees())
                                   * len(groups) / (len(groups) - n_val)))
                      for bst in self.boosters_]
            self.boosters_ = [lgb.train(self._params(self.seed + b), dataset(splits[0]),
                                        num_boost_round=r) for b, r in enumerate(rounds)]
            self.booster_ = self.boosters_[0]
        return self

    def _params(self, seed: int) -> dict[str, Any]:
        return {"objective": "lambdarank", "learning_rate": self.learning_rate,
                "num_leaves": self.num_leaves, "min_child_samples": self.min_child_samples,
                "label_gain": list(range(self.label_levels + 1)),
                "lambdarank_truncation_level": 20, "eval_at": [10], "num_threads": 1,
                "seed": seed, "verbose": -1, "feature_fraction": 0.9, "bagging_fraction": 0.9,
                "bagging_freq": 1, "deterministic": True, "force_row_wise": True}

    def _train(self, train_set: Any, stop_set: Any, seed: int) -> Any:
        import lightgbm as lgb

        return lgb.train(self._params(seed), train_set, num_boost_round=self.n_estimators,
                         valid_sets=[stop_set],
                         callbacks=[lgb.early_stopping(40, verbose=False)])

    def _guard(self, groups: Sequence[np.ndarray], gains: Sequence[np.ndarray],
               held: list[np.ndarray]) -> None:
        """Serve the model only if it beats the blend and BM25F on the held-back queries: each
        bag on the queries it stopped on (never trained on), the figures averaged over bags."""
        self.mode_ = "model"
        self.paths_ = None
        figures: dict[str, list[float]] = {"model": [], "blend": [], "bm25f": []}
        for booster, idx in zip(self.boosters_, held, strict=True):
            val_groups = [groups[i] for i in idx]
            val_gains = [np.asarray(gains[i]) for i in idx]
            bag = _OneBag(booster)
            for name, scorer in (("model", bag), ("blend", QueryBlend()),
                                 ("bm25f", KeywordOrder())):
                figures[name].append(mean_ndcg(scorer, val_groups, val_gains))
        self.validation_ = {name: float(np.mean(v)) for name, v in figures.items()}
        best = max(self.validation_, key=lambda m: (self.validation_[m], m == "model"))
        self.mode_ = best
        self._fallback = KeywordOrder() if best == "bm25f" else QueryBlend()

    def _predict(self, features: np.ndarray) -> np.ndarray:
        """The model's score, the mean of the bags' raw scores, as one stacked forest: each
        row's leaf in every tree of every bag (one LightGBM `pred_leaf` pass per bag) summed
        from the (trees * leaves) leaf-value table. The leaves are kept for the row, so
        explaining the page afterwards walks no tree again (`contributions`)."""
        leaves = self._leaves(features)
        values, base = self._leaf_values()
        return (values[leaves].sum(axis=1) + base).astype(np.float32)

    def _leaves(self, features: np.ndarray) -> np.ndarray:
        """(n, trees) flat indices into the path table of each row's leaf in every tree,
        memoised per feature row (a page's rows are explained just after they are scored)."""
        self._path_table()  # (re)built for new boosters, which clears the memo
        width = self.width_
        memo = self.leaf_memo_
        rows = np.ascontiguousarray(features, dtype=np.float32)
        keys = [row.tobytes() for row in rows]
        known = [memo.get(k) for k in keys]
        todo = [i for i, v in enumerate(known) if v is None]
        if todo:
            raw = np.hstack([np.asarray(b.predict(rows[todo], pred_leaf=True, num_threads=1),
                                        dtype=np.int64).reshape(len(todo), -1)
                             for b in self.boosters_])
            flat = (raw + np.arange(raw.shape[1])[None, :] * width).astype(np.int32)
            if len(memo) + len(todo) > _LEAF_MEMO:
                memo.clear()
            for i, row in zip(todo, flat, strict=True):
                known[i] = memo[keys[i]] = row
            if len(todo) == len(rows):  # all new (a query's first scoring): no restacking
                return flat
        return np.vstack(known) if known else np.zeros((0, self.n_trees), np.int32)

    def _leaf_values(self) -> tuple[np.ndarray, float]:
        """(trees * leaves,) each leaf's output less the base (its path's parts summed)."""
        table, base = self._path_table()
        if self.values_ is None:
            self.values_ = table.sum(axis=1)
        return self.values_, base

    def score(self, features: np.ndarray) -> np.ndarray:
        if len(features) == 0:
            return np.zeros(0, dtype=np.float32)
        if self.mode_ != "model" or self.booster_ is None:
            return self._fallback.score(features)
        if len(features) <= self.rerank_depth:
            return self._predict(features)
        # cascade: the model re-ranks the blend's top `rerank_depth`; the rest follow in blend order
        first = QueryBlend().score(features)
        top = np.argsort(-first, kind="stable")[:self.rerank_depth]
        model = self._predict(features[top])
        out = first - float(first.max()) + float(model.min()) - 1.0
        out[top] = model
        return out.astype(np.float32)

    @property
    def n_trees(self) -> int:
        return sum(int(b.num_trees()) for b in self.boosters_)

    def explain(self, features: np.ndarray) -> dict[str, np.ndarray]:
        """The score's additive parts per candidate: each feature's path contribution plus
        the model's base value (they sum to `score` for the candidates the model re-ranks);
        the fallback's parts when the model does not serve."""
        if self.mode_ != "model" or self.booster_ is None:
            return self._fallback.explain(features)  # type: ignore[attr-defined, no-any-return]
        contrib = self.contributions(features)
        out = {name: contrib[:, i].astype(np.float32) for i, name in enumerate(FEATURE_NAMES)}
        out["base"] = contrib[:, -1].astype(np.float32)
        return out

    def explain_table(self, features: np.ndarray) -> tuple[tuple[str, ...], np.ndarray]:
        """`explain` as one (n, parts) float64 table of its float32 values, and the parts'
        names in its order (a page's rows explained without a dict of columns)."""
        if self.mode_ != "model" or self.booster_ is None:
            parts = self.explain(features)
            return tuple(parts), np.column_stack([np.asarray(v, np.float64)
                                                  for v in parts.values()])
        table = self.contributions(features).astype(np.float32).astype(np.float64)
        return _EXPLAINED, table

    def contributions(self, features: np.ndarray) -> np.ndarray:
        """Per-feature contributions of the model, (n, n_features + 1), the last column the
        base value; each row sums to the model's score. A feature's part is the change of a
        tree's output at every split on it along the row's path to its leaf, summed over the
        trees (Saabas path attribution): exact and additive like TreeSHAP, but a table look-up
        per tree and row: 100 results cost well under a millisecond where TreeSHAP
        (`pred_contrib`) took ~100 ms, more than the whole search."""
        if self.mode_ != "model" or self.booster_ is None or len(features) == 0:
            return np.zeros((len(features), len(FEATURE_NAMES) + 1), dtype=np.float32)
        from scipy.sparse import csr_matrix

        table, base = self._path_table()
        cols = self._leaves(features)
        n, trees = cols.shape
        # one row per candidate picking one leaf of every tree: a sparse (n, trees * width)
        # matrix times the (trees * width, features) table sums the paths (6x faster than a
        # gather at 400 trees)
        picks = csr_matrix((np.ones(n * trees), cols.ravel(), np.arange(0, n * trees + 1, trees)),
                           shape=(n, table.shape[0]))
        return np.hstack([picks @ table, np.full((n, 1), base)])

    def _path_table(self) -> tuple[np.ndarray, float]:
        """(trees * leaves, features) contributions of each leaf's path (tree-major), and the
        summed root values, over the trees of every bag (each bag's share 1 / n_bags);
        computed once."""
        cached = getattr(self, "paths_", None)
        if cached is not None and cached[0] is self.boosters_:
            return cached[1], cached[2]
        trees = [t for booster in self.boosters_ for t in booster.dump_model()["tree_info"]]
        width = max(t["num_leaves"] for t in trees)
        table = np.zeros((len(trees), width, len(FEATURE_NAMES)), dtype=np.float64)
        base = 0.0
        for i, tree in enumerate(trees):
            base += _path_parts(tree["tree_structure"], table[i])
        share = 1.0 / len(self.boosters_)
        flat = table.reshape(len(trees) * width, len(FEATURE_NAMES)) * share
        self.paths_ = (self.boosters_, flat, base * share)
        self.width_ = width
        self.values_ = None
        self.leaf_memo_ = {}  # leaves index the table of these boosters only
        return self.paths_[1], self.paths_[2]

    def save(self, directory: Path) -> None:
        """config.json + model.txt (LightGBM text format; never pickle)."""
        directory.mkdir(parents=True, exist_ok=True)
        config = {"n_estimators": self.n_estimators, "learning_rate": self.learning_rate,
                  "num_leaves": self.num_leaves, "min_child_samples": self.min_child_samples,
                  "validation_fraction": self.validation_fraction,
                  "label_levels": self.label_levels, "rerank_depth": self.rerank_depth,
                  "seed": self.seed, "refit": self.refit, "n_bags": self.n_bags}
        state = {"mode": self.mode_, "validation": self.validation_,
                 "features": list(FEATURE_NAMES), "trees": self.n_trees}
        (directory / "config.json").write_text(json.dumps({"config": config, "state": state}))
        for b, booster in enumerate(self.boosters_):  # model.txt, model_1.txt, ...
            booster.save_model(str(directory / ("model.txt" if b == 0 else f"model_{b}.txt")))

    @classmethod
    def load(cls, directory: Path) -> LambdaMartRanker:
        import lightgbm as lgb

        data = json.loads((directory / "config.json").read_text())
        if data["state"]["features"] != list(FEATURE_NAMES):
            raise ValueError("saved ranker was trained on different features; retrain it")
        ranker = cls(**data["config"])
        ranker.mode_ = data["state"]["mode"]
        ranker.validation_ = data["state"]["validation"]
        ranker._fallback = KeywordOrder() if ranker.mode_ == "bm25f" else QueryBlend()
        names = ["model.txt", *(f"model_{b}.txt" for b in range(1, ranker.n_bags))]
        if (directory / "model.txt").exists():
            ranker.boosters_ = [lgb.Booster(model_file=str(directory / n)) for n in names]
            ranker.booster_ = ranker.boosters_[0]
        return ranker


class _OneBag:
    """One bag's booster as a scorer (the guard judges each bag on its own held-back part)."""

    def __init__(self, booster: Any) -> None:
        self.booster = booster

    def score(self, features: np.ndarray) -> np.ndarray:
        return np.asarray(self.booster.predict(features, num_threads=1), dtype=np.float32)


def _path_parts(root: dict[str, Any], out: np.ndarray) -> float:
    """Fill `out[leaf]` with the per-feature output changes along the path to each leaf of
    one dumped LightGBM tree; returns the tree's root value."""
    if "leaf_index" in root:  # a tree of one leaf: all of it is base
        return float(root["leaf_value"])
    stack = [(root, np.zeros(out.shape[1]))]
    while stack:
        node, acc = stack.pop()
        for side in ("left_child", "right_child"):
            child = node[side]
            leaf = "leaf_index" in child
            step = acc.copy()
            step[node["split_feature"]] += (child["leaf_value"] if leaf else
                                            child["internal_value"]) - node["internal_value"]
            if leaf:
                out[child["leaf_index"]] = step
            else:
                stack.append((child, step))
    return float(root["internal_value"])
