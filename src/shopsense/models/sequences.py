"""How interaction histories become arrays: item ids <-> dense indices, padded sequence batches.

Dense item indices run 0..n_items-1 everywhere outside a model; models that need a padding
token shift by one internally.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from shopsense.evaluation.metrics import ndcg_from_ranks

if TYPE_CHECKING:
    import torch


class ItemIndex:
    """A frozen bidirectional map between external item ids (str) and dense indices."""

    def __init__(self, item_ids: Iterable[str]) -> None:
        self.ids: list[str] = []
        self._index: dict[str, int] = {}
        for item_id in item_ids:
            if item_id not in self._index:
                self._index[item_id] = len(self.ids)
                self.ids.append(item_id)

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._index

    def index(self, item_id: str) -> int:
        return self._index[item_id]

    def get(self, item_id: str, default: int = -1) -> int:
        return self._index.get(item_id, default)

    def encode(self, item_ids: Iterable[str]) -> np.ndarray:
        """Known ids -> int64 indices; unknown ids are dropped."""
        return np.fromiter((self._index[i] for i in item_ids if i in self._index), dtype=np.int64)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.ids, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> ItemIndex:
        return cls(json.loads(path.read_text(encoding="utf-8")))


def left_pad(sequences: Sequence[np.ndarray], max_len: int, *, shift: int = 1) -> np.ndarray:
    """The last `max_len` entries of each sequence, `shift`-ed, right-aligned; 0 pads.

    Returns int64 (len(sequences), max_len).
    """
    out = np.zeros((len(sequences), max_len), dtype=np.int64)
    for row, seq in enumerate(sequences):
        tail = np.asarray(seq[-max_len:], dtype=np.int64)
        if tail.size:
            out[row, max_len - tail.size:] = tail + shift
    return out


def next_item_pairs(sequences: Sequence[np.ndarray], max_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Causal training pairs: inputs seq[:-1] and targets seq[1:], both left-padded and shifted.

    Sequences shorter than 2 are skipped. Returns two int64 arrays (n, max_len); 0 = no target.
    """
    usable = [np.asarray(s, dtype=np.int64) for s in sequences if len(s) >= 2]
    inputs = left_pad([s[:-1] for s in usable], max_len)
    targets = left_pad([s[1:] for s in usable], max_len)
    return inputs, targets


def top_k_excluding(scores: np.ndarray, k: int, exclude: Sequence[np.ndarray]) -> np.ndarray:
    """Row-wise top-`k` column indices of `scores` (B, n), best first, skipping `exclude[b]`.

    Modifies `scores` in place (excluded entries set to -inf).
    """
    for row, items in enumerate(exclude):
        if len(items):
            scores[row, items] = -np.inf
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.take_along_axis(scores, part, axis=1).argsort(axis=1)[:, ::-1]
    return np.take_along_axis(part, order, axis=1)


def length_buckets(targets: np.ndarray, batch_size: int, max_positions: int,
                   rng: np.random.Generator) -> list[np.ndarray]:
    """Batches of rows with similar lengths (less padding), in random order; a batch of
    long rows is cut so that it holds at most `max_positions` targets."""
    lengths = (targets > 0).sum(axis=1)
    order = np.lexsort((rng.random(len(lengths)), lengths))
    batches = []
    for i in range(0, len(order), batch_size):
        rows = order[i:i + batch_size]
        per = max(1, max_positions // max(int(lengths[rows].max()), 1))
        batches += [rows[j:j + per] for j in range(0, len(rows), per)]
    return [batches[i] for i in rng.permutation(len(batches))]


def ndcg10_sum_by_rank(scores: torch.Tensor, histories: Sequence[np.ndarray],
                       targets: np.ndarray) -> float:
    """Sum of NDCG@10 of each row's target among `scores` (B, n), history items excluded:
    the rank is the number of other items scoring higher (no top-k sort). Modifies `scores`."""
    import torch

    rows = np.repeat(np.arange(len(histories)), [len(h) for h in histories])
    if rows.size:
        cols = torch.from_numpy(np.concatenate(histories).astype(np.int64))
        scores[torch.from_numpy(rows), cols] = -torch.inf
    tgt = torch.from_numpy(np.asarray(targets, dtype=np.int64))
    own = scores.gather(1, tgt[:, None])
    rank = (scores > own).sum(dim=1).numpy()
    rank = np.where(np.isfinite(own[:, 0].numpy()), rank, -1)  # an excluded target: a miss
    return float(ndcg_from_ranks(rank, 10).sum())
