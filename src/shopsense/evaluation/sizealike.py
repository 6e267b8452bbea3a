"""Size-alike evaluation sets: a public data set grown to the size of a shop we cannot see.

`replicate` copies randomly chosen shoppers under fresh shopper ids; in each copy a random
share of the catalogue is renamed to fresh item ids (with the same titles), so the grown set has
more items, more shoppers and more events, while its sequences keep the real data's structure.
Beauty (12.1k items, 22.4k shoppers, 198.5k events) grown to ~300k events with half the items
renamed has ~18k items and ~34k shoppers: the size of the next Amazon category up.
A copy made by `replicate` keeps half of its items' ids, so each copied shopper shares half
of their sequence with their original (near-twin shoppers, co-visits counted twice).
`copy_sub_catalogue` avoids that: every shopper's sequence restricted to a random share of the
items, under fresh ids for every item and shopper, is appended as a second, disjoint shop (no
item, shopper or co-visit in common with the original: the set is a bigger catalogue, like a
category with a sub-category of its own). Beauty plus a half-catalogue copy (sequences of three
or more) has ~18.2k items, ~38.5k shoppers and ~288k events. `subsample` keeps a random share
of the shoppers (Beauty down to the ~168k events of the smaller held-back category).
`write_sequences` / `write_catalog` store a grown set as `user item item ...` lines and a
products CSV, which `shopsense eval recs --events ... --catalog ...` reads.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from shopsense.domain import Product
from shopsense.models.interactions import Interactions


def replicate(data: Interactions, products: Sequence[Product], target_events: int, *,
              renamed_share: float = 0.5, seed: int = 0) -> tuple[Interactions, list[Product]]:
    """Grow `data` to about `target_events` by copying shoppers (round after round; copy r
    renames a `renamed_share` of the items to '<id>~r<r>'); returns (data, products)."""
    if target_events < data.n_events:
        raise ValueError(f"target_events {target_events} is below the data's "
                         f"{data.n_events} events")
    if not 0.0 <= renamed_share <= 1.0:
        raise ValueError("renamed_share must be in [0, 1]")
    if data.n_events == 0:
        raise ValueError("no events to replicate")
    rng = np.random.default_rng(seed)
    items = data.item_ids()
    users, sequences = list(data.users), [list(s) for s in data.sequences]
    catalog = {p.item_id: p for p in products}
    out_products = list(products)
    events, copy = data.n_events, 0
    while events < target_events:
        copy += 1
        renamed = {i for i, flip in zip(items, rng.random(len(items)) < renamed_share,
                                        strict=True) if flip}
        for u in rng.permutation(len(data.users)).tolist():
            if events >= target_events:
                break
            seq = [f"{i}~r{copy}" if i in renamed else i for i in data.sequences[u]]
            users.append(f"{data.users[u]}~r{copy}")
            sequences.append(seq)
            events += len(seq)
        for item in sorted(renamed & catalog.keys()):
            base = catalog[item]
            out_products.append(Product(item_id=f"{item}~r{copy}", title=base.title,
                                        category=base.category, brand=base.brand,
                                        price=base.price))
    return Interactions(users, sequences), out_products


def copy_sub_catalogue(data: Interactions, products: Sequence[Product], *,
                       item_share: float = 0.5, min_length: int = 3, seed: int = 0,
                       suffix: str = "~c") -> tuple[Interactions, list[Product]]:
    """`data` plus, under fresh ids ('<id><suffix>'), every sequence restricted to a random
    `item_share` of the items that keeps at least `min_length` items; returns (data, products)
    with the copied items' products (same titles) appended."""
    if not 0.0 < item_share <= 1.0:
        raise ValueError("item_share must be in (0, 1]")
    if min_length < 1:
        raise ValueError("min_length must be >= 1")
    items = data.item_ids()
    if not items:
        raise ValueError("no events to copy")
    rng = np.random.default_rng(seed)
    kept = {i for i, keep in zip(items, rng.random(len(items)) < item_share, strict=True)
            if keep}
    users, sequences = list(data.users), [list(s) for s in data.sequences]
    if any(user.endswith(suffix) for user in users):
        raise ValueError(f"shopper ids already end with {suffix!r}")
    for user, seq in zip(data.users, data.sequences, strict=True):
        copied = [f"{i}{suffix}" for i in seq if i in kept]
        if len(copied) >= min_length:
            users.append(f"{user}{suffix}")
            sequences.append(copied)
    catalog = {p.item_id: p for p in products}
    out_products = list(products) + [
        Product(item_id=f"{item}{suffix}", title=catalog[item].title,
                category=catalog[item].category, brand=catalog[item].brand,
                price=catalog[item].price)
        for item in sorted(kept & catalog.keys())]
    return Interactions(users, sequences), out_products


def subsample(data: Interactions, target_events: int, *, seed: int = 0) -> Interactions:
    """A random subset of the shoppers (whole sequences, original order) with about
    `target_events` events (the first shoppers of a random permutation up to the target)."""
    if not 0 < target_events <= data.n_events:
        raise ValueError(f"target_events must be in (0, {data.n_events}]")
    chosen, events = [], 0
    for u in np.random.default_rng(seed).permutation(len(data.users)).tolist():
        if events >= target_events:
            break
        chosen.append(u)
        events += len(data.sequences[u])
    chosen.sort()
    return Interactions([data.users[u] for u in chosen], [list(data.sequences[u])
                                                         for u in chosen])


def write_sequences(data: Interactions, path: Path) -> Path:
    """`user item item ...` lines (the raw sequence format `load_interactions` reads)."""
    with path.open("w", encoding="utf-8") as handle:
        for user, seq in zip(data.users, data.sequences, strict=True):
            handle.write(" ".join([user, *seq]) + "\n")
    return path


def write_catalog(products: Sequence[Product], path: Path) -> Path:
    """A products CSV with item_id and title."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["item_id", "title"])
        writer.writerows([p.item_id, p.title] for p in products)
    return path
