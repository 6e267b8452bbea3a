"""k-fold cross-validation of the search ranker inside the Home Depot TRAINING split only.

    python benchmarks/search.py --write-split /tmp/hd          # the split eval search scores
    python benchmarks/search_cv.py /tmp/hd/train.csv --drop "" --drop trigram_jaccard,trigram_cover
    python benchmarks/search_cv.py /tmp/hd/train.csv --bags 3 --param learning_rate=0.1

Featurises every training query as `shopsense train` does (the blend's top 100 candidates of
each query with a positive among them; default settings, USE encoder), then for each of
`--folds` seeded folds fits the ranker on the other folds (each bag early-stopping on its own
20 %, as `LambdaMartRanker` does) and scores nDCG@10 of the re-ranked candidates of the held
fold. Each `--drop` is one variant leaving those feature columns out (zeroed: what they add),
all variants on one featurisation; `--param` overrides a LightGBM parameter. The held-out
queries are never read: choices are made here. Prints one JSON line per variant.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from shopsense.config import SearchSettings
from shopsense.evaluation.metrics import grouped_ndcg
from shopsense.evaluation.search import load_catalog, load_judgments
from shopsense.pipeline.search import SearchEngine
from shopsense.rank.ltr import LambdaMartRanker, QueryBlend
from shopsense.rank.search_features import FEATURE_NAMES
from shopsense.text.encoders import make_encoder

HOMEDEPOT = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / \
    "homedepot-search-relevance"


def featurise(train_csv: Path, depth: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    products, _ = load_catalog(HOMEDEPOT / "products.csv")
    train, _ = load_judgments(train_csv)
    settings = SearchSettings()
    engine = SearchEngine.build(products, settings, make_encoder(settings.encoder),
                                cache_dir=Path.home() / ".cache" / "shopsense" / "embeddings")
    groups, gains = [], []
    for q in train:
        found, _, x = engine.featurize(q.query, None)
        if len(found.rows) == 0:
            continue
        keep = np.sort(np.argsort(-QueryBlend().score(x), kind="stable")[:depth])
        y = np.array([float(q.gains.get(engine.keyword.item_ids_[r], 0.0))
                      for r in found.rows[keep].tolist()])
        if y.any():
            groups.append(x[keep])
            gains.append(y)
    return groups, gains


def cross_validate(groups: list[np.ndarray], gains: list[np.ndarray], folds: int, bags: int,
                   drop: list[str], params: dict[str, float]) -> dict[str, object]:
    cols = [i for i, name in enumerate(FEATURE_NAMES) if name not in drop]
    fold_of = np.empty(len(groups), dtype=int)
    fold_of[np.random.default_rng(123).permutation(len(groups))] = \
        np.arange(len(groups)) % folds
    scores, trees = [], []
    for k in range(folds):
        train = [i for i in range(len(groups)) if fold_of[i] != k]
        test = [i for i in range(len(groups)) if fold_of[i] == k]
        ranker = LambdaMartRanker(seed=0, n_bags=bags)
        base = ranker._params  # the served parameters, some overridden
        ranker._params = lambda seed, base=base: {**base(seed), **params}  # type: ignore[method-assign]
        masked = [_masked(groups[i], cols) for i in train]
        ranker.fit(masked, [gains[i] for i in train])
        trees.append(ranker.n_trees)
        x = np.vstack([_masked(groups[i], cols) for i in test])
        y = np.concatenate([gains[i] for i in test])
        sizes = np.array([len(groups[i]) for i in test])
        score = np.mean([b.predict(x, num_threads=1) for b in ranker.boosters_], axis=0)
        scores.append(float(np.mean(grouped_ndcg(score, y, sizes, 10))))
    return {"mean_ndcg@10": round(float(np.mean(scores)), 4),
            "folds": [round(s, 4) for s in scores], "trees": trees, "bags": bags,
            "dropped": drop, "params": params, "queries": len(groups)}


def _masked(x: np.ndarray, cols: list[int]) -> np.ndarray:
    """`x` with the dropped columns zeroed (the ranker takes every column; a constant one
    carries nothing)."""
    out = np.zeros_like(x)
    out[:, cols] = x[:, cols]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("train_csv", type=Path)
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--bags", type=int, default=1)
    parser.add_argument("--depth", type=int, default=100)
    parser.add_argument("--drop", action="append", default=[],
                        help="one variant: feature names to leave out, comma-separated")
    parser.add_argument("--param", action="append", default=[], help="LightGBM name=value")
    args = parser.parse_args()
    params = {k: float(v) if "." in v else int(v)
              for k, v in (p.split("=", 1) for p in args.param)}
    started = time.perf_counter()
    groups, gains = featurise(args.train_csv, args.depth)
    print(json.dumps({"featurised_s": round(time.perf_counter() - started, 1),
                      "queries": len(groups)}), flush=True)
    for drop in args.drop or [""]:
        report = cross_validate(groups, gains, args.folds, args.bags,
                                [d for d in drop.split(",") if d], params)
        report["seconds"] = round(time.perf_counter() - started, 1)
        print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
