"""A federated or DP-SGD SASRec becomes a home's next trained version, with its model card.

The home's current recommendation version is copied with its `sasrec` source replaced (the
item table re-ordered from the federation's item index into the home's; items the
federation does not know keep their current rows), saved by `save_version` like any
training, and announced in models/status.json and models/serving.json, which serving
processes watch (training.adopt) - so the swap and replay machinery adopts it. The model
card (how it was trained, rounds, clients, and the DP accountant's (epsilon, delta)) goes into
the version's engine.json `info.model_card` and status.json, which /admin/models shows.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from shopsense.models.sasrec import SASRec, SASRecNet


def _reindexed(model: SASRec, federation_items: Sequence[str], home_items: Sequence[str],
               previous: SASRec | None) -> SASRec:
    """`model` with its item table laid out in the home's item order."""
    net = model.net_
    if net is None:
        raise RuntimeError("the federated model is not trained")
    out = SASRec(model.config)
    out.n_items_ = len(home_items)
    out.net_ = SASRecNet(len(home_items), model.config)
    tables = ["item_emb.weight"] + (["title_vec"] if net.title_term else [])
    state = {k: v.clone() for k, v in net.state_dict().items() if k not in tables}
    same_shape = previous is not None and previous.net_ is not None and \
        previous.config.dim == model.config.dim and previous.n_items_ == len(home_items)
    where = {item: i for i, item in enumerate(federation_items)}
    for name in tables:  # item rows (and title vectors) re-laid in the home's order
        table = torch.zeros(len(home_items) + 1, model.config.dim)
        if same_shape and name in previous.net_.state_dict():  # type: ignore[union-attr]
            table.copy_(previous.net_.state_dict()[name])  # type: ignore[union-attr]
        source = net.state_dict()[name]
        for row, item in enumerate(home_items):
            if item in where:
                table[row + 1] = source[where[item] + 1]
        state[name] = table
    out.net_.load_state_dict(state)
    out.net_.eval()
    return out


def adopt_sasrec(home: Path, model: SASRec, federation_items: Sequence[str],
                 card: dict[str, Any]) -> dict[str, Any]:
    """Save a new version of the home's recommendations with `model` as its SASRec."""
    from shopsense.pipeline.recommend import load_current

    engine = load_current(home)
    source = engine.sources.get("sasrec")
    if source is None or not hasattr(source, "model_"):
        raise ValueError("the home's current version has no SASRec source to replace")
    if source.config.dim != model.config.dim:
        raise ValueError(f"the home's SASRec has dim {source.config.dim}; the federated "
                         f"model has {model.config.dim} (train the home with the same dim)")
    source.model_ = _reindexed(model, federation_items, engine.items.ids, source.model_)
    return _publish(home, engine, "sasrec", card)


def _publish(home: Path, engine: Any, part: str, card: dict[str, Any]) -> dict[str, Any]:
    """Save `engine` as the home's next version with `card` for `part`, and announce it in
    status.json and serving.json (serving processes load and swap it, replaying meanwhile).
    While an operator's pin holds (training/pin.py) the version is kept, not announced."""
    from shopsense.pipeline.recommend import save_version
    from shopsense.training.lifecycle import serving_marker, trained_data_seq
    from shopsense.training.pin import restore_pinned

    engine.info["model_card"] = {**dict(engine.info.get("model_card") or {}), part: card}
    path = save_version(engine, home)
    serving = restore_pinned(home)
    if serving is not None:
        return {"version": engine.info["version"], "path": str(path), "model_card": card,
                "pinned": serving}
    status_file = home / "models" / "status.json"
    status = json.loads(status_file.read_text()) if status_file.exists() else {}
    status.update(version=engine.info["version"], model_card=engine.info["model_card"],
                  trained_at=time.time())
    _write_atomic(status_file, status)
    marker = serving_marker(home)
    _write_atomic(marker, {"version": engine.info["version"],
                           "data_seq": trained_data_seq(home) or 0})
    return {"version": engine.info["version"], "path": str(path), "model_card": card}


def adopt_propensity(home: Path, weights: Sequence[np.ndarray], card: dict[str, Any]
                     ) -> dict[str, Any]:
    """The federated scorer (weights of federated.propensity.LocalPropensity: (1, d) and (1,))
    becomes the general scorer of the home's propensity model, as a new version. It was
    trained with log-loss on the federation's rows, so it keeps its own sigmoid (calibrator
    "none"); the home's category model, which uses its own catalogue, stays as it was."""
    from shopsense.features.behaviour import GENERAL_FEATURES
    from shopsense.models.propensity import PurchasePropensity
    from shopsense.models.propensity_scorers import Calibrator, SignedLogLogisticScorer
    from shopsense.models.propensity_store import model_dir
    from shopsense.pipeline.recommend import load_current

    directory = model_dir(home, "logistic", 7)
    if not (directory / "config.json").exists():
        raise ValueError("the home has no trained propensity model to replace "
                         "(run `shopsense train` first)")
    coef, intercept = (np.asarray(w, np.float64) for w in weights)
    model = PurchasePropensity.load(directory)
    if coef.size != len(GENERAL_FEATURES):
        raise ValueError(f"the federated scorer has {coef.size} features, this shopsense "
                         f"{len(GENERAL_FEATURES)} (every home needs the same version)")
    model.scorer_ = SignedLogLogisticScorer.from_weights(coef, float(intercept.ravel()[0]))
    model.calibrator_ = Calibrator("none").fit(np.zeros(0), np.zeros(0), np.zeros(0))
    staged = directory.with_name(f".{directory.name}.{os.getpid()}")
    model.save(staged)
    retired = directory.with_name(f".{directory.name}.old.{os.getpid()}")
    os.replace(directory, retired)
    os.replace(staged, directory)
    shutil.rmtree(retired, ignore_errors=True)
    return _publish(home, load_current(home), "propensity", card)


def _write_atomic(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps(payload, default=str, indent=2))
    os.replace(tmp, path)


def model_card(kind: str, *, privacy: dict[str, Any] | None, **facts: Any) -> dict[str, Any]:
    """What a reader of /admin/models needs to trust the version."""
    return {"training": kind, "privacy": privacy or {"dp": "none"},
            **{k: v for k, v in facts.items() if v is not None},
            "unlearning": "erased shoppers are left out of later rounds; what they already "
                          "contributed to the global weights is not removed "
                          "(docs/PRIVACY.md, federation)"}
