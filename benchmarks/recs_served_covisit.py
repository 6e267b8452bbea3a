"""Rebuild a saved served engine's co-visit tables as training builds them now, to re-score it
without training SASRec again.

Until 2026-12-06 (fourth session) `CovisitRetriever.fit` kept no session tails, so the
held-out events `train_all` replays through `observe` formed no pairs with the items before
them: the served engine's co-visits missed each shopper's last pair, which the blend's
co-visits count. With the tails kept, fit on all but each shopper's last event plus that
event replayed equals a fit on everything (tests/recs/test_covisit_replay.py), so this writes
a copy of the engine with its co-visit sources fitted on the engine's own training events
(each scored shopper's history up to the held-out test event); everything else is untouched.

    python benchmarks/recs_served_covisit.py EVENTS [--catalog CSV] OLD_ENGINE NEW_ENGINE
    shopsense eval recs --events EVENTS [--catalog CSV] --served --engine-dir NEW_ENGINE
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from shopsense.models.interactions import load_catalog, load_interactions
from shopsense.models.sequences import ItemIndex
from shopsense.retrieve.covisit import CovisitRetriever
from shopsense.training.recs import holdout_split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("events", type=Path)
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--catalog", type=Path, default=None)
    args = parser.parse_args()
    data = load_interactions(args.events)
    products = load_catalog(args.catalog) if args.catalog else []
    train, _ = holdout_split(data)  # what `eval recs --served` trains the engine on
    if args.new.exists():
        shutil.rmtree(args.new)
    shutil.copytree(args.old, args.new)
    items = ItemIndex.load(args.new / "items.json")
    kinds = json.loads((args.new / "engine.json").read_text())["sources"]
    for name, kind in kinds.items():
        if kind != "covisit":
            continue
        old = CovisitRetriever.load(args.new / "sources" / name)
        fresh = CovisitRetriever(old.name, old.window, old.alpha, old.event_types, old.decay,
                                 old.by_session).fit(train, items, products)
        shutil.rmtree(args.new / "sources" / name)
        fresh.save(args.new / "sources" / name)
        print(f"{name}: refitted on {train.n_events} events", flush=True)


if __name__ == "__main__":
    main()
