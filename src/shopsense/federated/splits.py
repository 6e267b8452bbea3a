"""Who holds which events: the clients of a federation.

Three shapes, each a list of `Client`s over one shared item index (dense indices):
- `platform`: the web / app / mini-program streams of one shop. A shopper's events are cut by
  the platform each happened on, so one shopper may appear in several clients. Event files
  that carry a platform use it; sequence files (Beauty) have none, and each shopper then gets
  a main platform (80 % of their events) and the others at random - synthetic, and said so.
- `shop`: independent shops. Shoppers are disjoint; each shop keeps its own item table.
- `dirichlet:ALPHA`: shop-like non-IID split. Items fall into `n_groups` groups (the item's
  category where known, else a hash); each client draws a group mix from Dirichlet(ALPHA) and
  each shopper goes to a client with probability proportional to that client's weight on the
  shopper's most frequent group. Small ALPHA = shops that sell different things.
Erased shoppers (pseudonyms) are dropped before any client sees a round.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import numpy as np

PLATFORM_NAMES = ("web", "app", "mini_program")


@dataclass
class Client:
    """One participant: its shoppers' item sequences (dense indices, time order)."""

    name: str
    users: list[str]
    sequences: list[np.ndarray]
    meta: dict[str, object] = field(default_factory=dict)

    @property
    def n_events(self) -> int:
        return int(sum(len(s) for s in self.sequences))

    def without(self, erased: Collection[str]) -> Client:
        """The client minus erased shoppers (their events never reach a round)."""
        keep = [i for i, u in enumerate(self.users) if u not in erased]
        return Client(self.name, [self.users[i] for i in keep],
                      [self.sequences[i] for i in keep], dict(self.meta))


@dataclass(frozen=True)
class SplitSpec:
    kind: str  # platform | shop | dirichlet
    alpha: float = 1.0

    @classmethod
    def parse(cls, text: str) -> SplitSpec:
        """'platform', 'shop' or 'dirichlet:0.1' (ValueError otherwise)."""
        match = re.fullmatch(r"(platform|shop|dirichlet)(?::([0-9.]+))?", text.strip())
        if match is None:
            raise ValueError(f"split must be platform, shop or dirichlet:ALPHA, got {text!r}")
        kind, alpha = match.group(1), match.group(2)
        if kind == "dirichlet":
            if alpha is None or float(alpha) <= 0:
                raise ValueError("dirichlet needs a positive ALPHA, e.g. dirichlet:0.1")
            return cls(kind, float(alpha))
        if alpha is not None:
            raise ValueError(f"{kind} takes no ALPHA")
        return cls(kind)

    @property
    def label(self) -> str:
        return f"dirichlet:{self.alpha:g}" if self.kind == "dirichlet" else self.kind


def _stable_unit(text: str, salt: int) -> float:
    digest = hashlib.blake2b(f"{salt}:{text}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") / 2.0 ** 64


def split_by_platform(users: Sequence[str], sequences: Sequence[np.ndarray], n_clients: int,
                      platforms: Sequence[Sequence[str]] | None = None, seed: int = 0,
                      main_share: float = 0.8) -> list[Client]:
    """One client per platform; events keep their order within each platform."""
    names = list(PLATFORM_NAMES[:n_clients]) if n_clients <= len(PLATFORM_NAMES) else [
        f"platform-{i}" for i in range(n_clients)]
    rng = np.random.default_rng(seed)
    buckets: list[tuple[list[str], list[np.ndarray]]] = [([], []) for _ in names]
    for u, (user, seq) in enumerate(zip(users, sequences, strict=True)):
        seq = np.asarray(seq, dtype=np.int64)
        if platforms is not None:
            where = np.array([names.index(p) if p in names else
                              int(_stable_unit(p, seed) * len(names)) for p in platforms[u]])
        else:
            main = int(_stable_unit(user, seed) * len(names))
            other = rng.integers(0, len(names), size=len(seq))
            where = np.where(rng.random(len(seq)) < main_share, main, other)
        for c in range(len(names)):
            part = seq[where == c]
            if len(part):
                buckets[c][0].append(user)
                buckets[c][1].append(part)
    synthetic = platforms is None
    return [Client(name, b[0], b[1], {"synthetic_platforms": synthetic})
            for name, b in zip(names, buckets, strict=True)]


def split_by_shop(users: Sequence[str], sequences: Sequence[np.ndarray], n_clients: int,
                  seed: int = 0) -> list[Client]:
    """Disjoint shoppers, spread evenly by a stable hash of their id."""
    owner = [int(_stable_unit(u, seed) * n_clients) for u in users]
    return [Client(f"shop-{c}", [u for u, o in zip(users, owner, strict=True) if o == c],
                   [np.asarray(s, np.int64) for s, o in zip(sequences, owner, strict=True)
                    if o == c], {"item_tables": "per-shop"}) for c in range(n_clients)]


def split_dirichlet(users: Sequence[str], sequences: Sequence[np.ndarray], n_clients: int,
                    alpha: float, item_groups: np.ndarray, seed: int = 0) -> list[Client]:
    """Shop-like non-IID split by Dirichlet(alpha) mixes over item groups (see module doc)."""
    rng = np.random.default_rng(seed)
    n_groups = int(item_groups.max()) + 1 if item_groups.size else 1
    mix = rng.dirichlet(np.full(n_clients, alpha), size=n_groups)  # (groups, clients)
    members: list[list[int]] = [[] for _ in range(n_clients)]
    for u, seq in enumerate(sequences):
        groups = item_groups[np.asarray(seq, np.int64)]
        main = int(np.bincount(groups, minlength=n_groups).argmax()) if len(groups) else 0
        members[int(rng.choice(n_clients, p=mix[main]))].append(u)
    return [Client(f"dirichlet-{c}", [users[u] for u in rows],
                   [np.asarray(sequences[u], np.int64) for u in rows],
                   {"alpha": alpha}) for c, rows in enumerate(members)]


def hashed_item_groups(n_items: int, n_groups: int = 20, seed: int = 0) -> np.ndarray:
    """Item -> group where the catalogue has no categories (a stable hash, documented)."""
    return np.array([int(_stable_unit(str(i), seed) * n_groups) for i in range(n_items)],
                    dtype=np.int64)


def make_clients(spec: SplitSpec, users: Sequence[str], sequences: Sequence[np.ndarray],
                 n_clients: int, *, platforms: Sequence[Sequence[str]] | None = None,
                 item_groups: np.ndarray | None = None, n_items: int = 0,
                 seed: int = 0) -> list[Client]:
    if n_clients < 2:
        raise ValueError("a federation needs at least 2 clients")
    if spec.kind == "platform":
        clients = split_by_platform(users, sequences, n_clients, platforms, seed)
    elif spec.kind == "shop":
        clients = split_by_shop(users, sequences, n_clients, seed)
    else:
        groups = item_groups if item_groups is not None else hashed_item_groups(n_items,
                                                                                 seed=seed)
        clients = split_dirichlet(users, sequences, n_clients, spec.alpha, groups, seed)
    empty = [c.name for c in clients if not c.users]
    if empty:
        raise ValueError(f"clients {empty} hold no shoppers; use fewer clients or more data")
    return clients
