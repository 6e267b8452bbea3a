"""`shopsense federated simulate`: clients on one machine, every variant, one JSON report.

Input: an events file (jsonl / csv / parquet with platforms and timestamps, e.g. the demo
store) or a sequence file (`user item item ...`, e.g. Beauty). Recommendations always; the
propensity scorer too when the events carry timestamps and purchases.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from shopsense.domain import Event
from shopsense.federated.experiment import RecsPlan, compare
from shopsense.federated.splits import Client, SplitSpec, make_clients
from shopsense.models.sequences import ItemIndex


@dataclass
class FederationInput:
    users: list[str]
    sequences: list[np.ndarray]  # dense item indices, time order
    platforms: list[list[str]] | None
    items: ItemIndex
    events: list[Event] | None  # the raw events where the file had them (propensity)
    subsampled_from: int


def load_input(path: Path, *, max_users: int = 0, erased: set[str] | None = None,
               seed: int = 0) -> FederationInput:
    """Shoppers' sequences (and platforms / events where the file has them); `max_users` > 0
    keeps a random subset of shoppers (said in the report); erased shoppers are left out."""
    from shopsense.models.interactions import is_sequence_file, load_interactions, resolve_input

    path = resolve_input(Path(path), ("events", "sequential_data", "interactions"))
    events: list[Event] | None = None
    if is_sequence_file(path):
        data = load_interactions(path)
        users, seqs, platforms = data.users, data.sequences, None
    else:
        from shopsense.evaluation.propensity import load_events

        events = load_events(path)
        users, seqs, platforms = _sequences(events)
    erased = erased or set()
    keep = [i for i, u in enumerate(users) if u not in erased and len(seqs[i]) >= 1]
    total = len(keep)
    if 0 < max_users < len(keep):
        keep = sorted(np.random.default_rng(seed).choice(keep, max_users, replace=False))
    chosen = {users[i] for i in keep}
    items = ItemIndex(sorted({item for i in keep for item in seqs[i]}))
    if events is not None:
        events = [e for e in events if e.actor in chosen]
    return FederationInput([users[i] for i in keep], [items.encode(seqs[i]) for i in keep],
                           [platforms[i] for i in keep] if platforms else None, items, events,
                           total)


def _sequences(events: list[Event]) -> tuple[list[str], list[list[str]], list[list[str]]]:
    items: dict[str, list[str]] = defaultdict(list)
    where: dict[str, list[str]] = defaultdict(list)
    for e in events:
        if e.item_id and e.event_type not in ("search", "dismiss"):
            items[e.actor].append(e.item_id)
            where[e.actor].append(e.platform)
    users = list(items)
    return users, [items[u] for u in users], [where[u] for u in users]


def simulate(path: Path, *, n_clients: int, split: str, plan: RecsPlan, max_users: int = 0,
             with_propensity: bool = True, catalog: Path | None = None,
             variants: tuple[str, ...] = ("centralised", "federated", "local_only")
             ) -> dict[str, Any]:
    """The full report: data, split, each variant with intervals, propensity where possible."""
    spec = SplitSpec.parse(split)
    started = time.perf_counter()
    data = load_input(path, max_users=max_users, seed=plan.seed)
    clients = make_clients(spec, data.users, data.sequences, n_clients,
                           platforms=data.platforms, n_items=len(data.items), seed=plan.seed)
    shared = "body" if spec.kind == "shop" else "all"
    item_init, item_table = _item_table(Path(path), catalog, data.items, plan)
    report: dict[str, Any] = {
        "data": {"path": str(path), "shoppers": len(data.users), "items": len(data.items),
                 "events": int(sum(len(s) for s in data.sequences)),
                 "subsampled_from_shoppers": data.subsampled_from if max_users else None},
        "split": spec.label, "clients": _describe(clients), "plan": plan.__dict__,
        "item_table": item_table,
        "protocol": "per-client leave-one-out (last event of each shopper in each client); "
                    "full ranking; history items excluded; 95 % bootstrap intervals",
        "recs": compare(clients, len(data.items), plan, shared=shared, variants=variants,
                        item_init=item_init)}
    if with_propensity and data.events is not None:
        from shopsense.federated.propensity_experiment import compare_propensity

        report["propensity"] = compare_propensity(data.events, clients, spec, plan)
    report["wall_s"] = round(time.perf_counter() - started, 1)
    return report


def _item_table(path: Path, catalog: Path | None, items: ItemIndex, plan: RecsPlan
                ) -> tuple[np.ndarray | None, str]:
    """Every variant's starting item table, and how the report names it. `title_init` None
    (the default) seeds it from catalogue titles where a catalogue with titles is found, as
    the home's own SASRec does (retrieve/sequential.py), else random; True insists on titles
    (an error without them, as does a --catalog given); False: random."""
    if plan.title_init is False:
        return None, "random"
    try:
        vectors = title_init(path, catalog, items, plan.dim)
    except ValueError as exc:
        if plan.title_init or plan.freeze_items or catalog is not None:
            raise
        return None, f"random (no catalogue titles: {exc})"
    label = "catalogue title vectors, frozen" if plan.freeze_items else \
        "seeded from catalogue titles, trained"
    return vectors, label


def title_init(path: Path, catalog: Path | None, items: ItemIndex, dim: int) -> np.ndarray:
    """(n_items, dim) title vectors (models.text_init) from `catalog`, or from a products /
    catalog / items table beside the events file (Beauty's items_with_titles.derived.csv)."""
    from shopsense.models.interactions import load_catalog, resolve_input
    from shopsense.models.text_init import title_vectors

    try:
        folder = path if path.is_dir() else path.parent
        source = resolve_input(Path(catalog) if catalog is not None else folder,
                               ("items_with_titles", "products", "catalog", "items"))
    except FileNotFoundError as exc:
        raise ValueError(f"title initialisation needs a catalogue with titles (--catalog): "
                         f"{exc}") from None
    vectors = title_vectors(load_catalog(source), items.ids, dim)
    if not vectors.any():
        raise ValueError(f"{source} gives no titles for these items")
    return vectors


def _describe(clients: list[Client]) -> list[dict[str, Any]]:
    return [{"name": c.name, "shoppers": len(c.users), "events": c.n_events, **c.meta}
            for c in clients]
