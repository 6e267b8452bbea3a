"""Incremental SASRec: a new version starts from the serving version's weights.

`WarmStart` carries the serving model and, for every item of the new catalogue index, its row
in the old one (-1 = new item). `carry_weights` copies the old network into the new one (every
layer, and the embedding rows of items both know); new items get their title vectors mapped
into the trained embedding space by a least-squares linear map fitted on the items both share
(a title-initialised row of a fresh model would live in another space), or keep their random
start without titles. `incremental_sequences` picks what the new version trains on: the
sequences of shoppers with events since the serving version, plus a replay sample of the rest
so that what was learned is not forgotten.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

if TYPE_CHECKING:
    from shopsense.models.sasrec import SASRec, SASRecNet
    from shopsense.models.sequences import ItemIndex


@dataclass(frozen=True)
class WarmStart:
    previous: SASRec
    item_map: np.ndarray  # (n_new_items,) old dense index, -1 for an item the old model lacks


def item_map(old: ItemIndex, new: ItemIndex) -> np.ndarray:
    """For each item of `new`, its index in `old` (-1 when absent)."""
    return np.fromiter((old.get(item_id) for item_id in new.ids), dtype=np.int64,
                       count=len(new))


def carry_weights(start: WarmStart, net: SASRecNet, title_init: np.ndarray | None) -> int:
    """Copy the previous network into `net`; returns how many new items were placed from
    their titles. Shapes other than the item table must agree (same dim / blocks / max_len)."""
    old = start.previous._require()
    if start.item_map.shape != (net.item_emb.num_embeddings - 1,):
        raise ValueError("item_map must hold one entry per item of the new model")
    if start.item_map.max(initial=-1) >= old.item_emb.num_embeddings - 1:
        raise ValueError("item_map points past the previous model's catalogue")
    # the item table is re-laid below; title vectors (the title term) come from this catalogue
    state = {k: v for k, v in old.state_dict().items() if k not in ("item_emb.weight",
                                                                     "title_vec")}
    fit = net.load_state_dict(state, strict=False)
    missing = sorted(set(fit.missing_keys) - {"title_vec"})
    if missing != ["item_emb.weight"] or fit.unexpected_keys:
        raise ValueError(f"the previous model's layers do not fit: missing {missing}, "
                         f"unexpected {fit.unexpected_keys} (retrain from scratch)")
    known = start.item_map >= 0
    old_table = old.item_emb.weight.detach()[1:]
    placed = 0
    with torch.no_grad():
        table = net.item_emb.weight[1:]
        table[torch.from_numpy(known)] = old_table[torch.from_numpy(start.item_map[known])]
        if title_init is not None and (~known).any():
            placed = _place_by_title(table, known, old_table, start.item_map, title_init)
    return placed


def _place_by_title(table: torch.Tensor, known: np.ndarray, old_table: torch.Tensor,
                    mapping: np.ndarray, title_init: np.ndarray) -> int:
    """New items with a title: title vector @ W, where W maps titles of shared items onto their
    trained rows (ridge least squares); returns how many rows were set."""
    titled = np.abs(title_init).sum(axis=1) > 0
    fit_rows = np.flatnonzero(known & titled)
    new_rows = np.flatnonzero(~known & titled)
    if len(fit_rows) < 2 or not len(new_rows):
        return 0
    x = title_init[fit_rows].astype(np.float64)
    y = old_table[torch.from_numpy(mapping[fit_rows])].numpy().astype(np.float64)
    w = np.linalg.solve(x.T @ x + 1e-3 * len(x) * np.eye(x.shape[1]), x.T @ y)
    table[torch.from_numpy(new_rows)] = torch.from_numpy((title_init[new_rows] @ w)
                                                         .astype(np.float32))
    return len(new_rows)


def incremental_sequences(sequences: Sequence[np.ndarray], changed: np.ndarray,
                          replay_share: float, seed: int = 0) -> list[np.ndarray]:
    """The sequences of shoppers with new events (`changed`, a bool per sequence) plus a
    random `replay_share` of the others."""
    if not 0.0 <= replay_share <= 1.0:
        raise ValueError("replay_share must be in [0, 1]")
    changed = np.asarray(changed, dtype=bool)
    if changed.shape != (len(sequences),):
        raise ValueError("changed must hold one flag per sequence")
    rng = np.random.default_rng(seed)
    replay = ~changed & (rng.random(len(sequences)) < replay_share)
    return [s for s, keep in zip(sequences, changed | replay, strict=True) if keep]
