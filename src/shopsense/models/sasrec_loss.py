"""Next-item losses for SASRec: full-catalogue softmax, or sampled softmax with log-Q correction.

Full softmax scores every position against every item: exact, but its cost grows with the
catalogue (positions x items x dim per step). Sampled softmax scores each batch's positions
against a shared candidate set, the batch's own targets (in-batch negatives, drawn in proportion
to popularity) plus `negatives` items drawn uniformly (so the long tail is pushed down too:
"mixed negative sampling", Yang et al., WWW 2020). Each candidate's logit is corrected by the
log of its probability of being in the set (log-Q, Yi et al., RecSys 2019), which makes the
sampled loss an unbiased estimate of the full softmax's gradient direction instead of a
popularity-penalised one. `choose_loss` picks between them by catalogue size.

Both losses read the item table through the item `nn.Embedding` (row 0 = padding), so that
with a sparse embedding (very large catalogues) a step's gradient holds only the rows it
touched and `SplitAdam` updates just those rows instead of the whole table.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

LOSSES = ("auto", "full", "sampled")


def choose_loss(loss: str, n_items: int, full_max_items: int) -> str:
    """'full' or 'sampled': `loss` unless it is 'auto', then full softmax only while the
    catalogue is small enough for it to be the cheaper one per unit of quality."""
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    if loss != "auto":
        return loss
    return "full" if n_items <= full_max_items else "sampled"


def full_softmax_loss(hidden: torch.Tensor, targets: torch.Tensor, items: nn.Embedding,
                      bf16: bool) -> torch.Tensor:
    """Cross-entropy of `targets` (P,) 0-based over every item of `items` (row 0 = pad)."""
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        logits = hidden @ items.weight[1:].T
    return F.cross_entropy(logits.float(), targets)


class SampledSoftmax:
    """In-batch + uniform negatives with log-Q correction; one candidate set per batch.

    `target_counts` (n_items,) counts how often each item is a training target: the
    in-batch sampling distribution. Accidental hits cannot occur: candidates are unique, so
    a position's own target appears once and is its label.
    """

    def __init__(self, target_counts: np.ndarray, negatives: int,
                 rng: np.random.Generator) -> None:
        counts = np.asarray(target_counts, dtype=np.float64)
        if counts.ndim != 1 or counts.size == 0 or counts.sum() <= 0:
            raise ValueError("target_counts must be a non-empty vector with a positive sum")
        if negatives < 0:
            raise ValueError("negatives must be >= 0")
        self.n_items = counts.size
        self.negatives = negatives
        self.rng = rng
        self._log_miss = torch.from_numpy(np.log1p(-np.minimum(counts / counts.sum(),
                                                               1.0 - 1e-12)))
        self._uniform_log_miss = negatives * float(np.log1p(-1.0 / self.n_items)) \
            if self.n_items > 1 else 0.0

    def candidates(self, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor,
                                                         torch.Tensor]:
        """(unique candidate items, each position's label index, log inclusion probability)."""
        drawn = torch.from_numpy(self.rng.integers(0, self.n_items, self.negatives))
        items, inverse = torch.unique(torch.cat([targets, drawn]), return_inverse=True)
        # P(item in the set) = 1 - P(missed by all P in-batch draws and all uniform draws)
        log_miss = len(targets) * self._log_miss[items] + self._uniform_log_miss
        log_q = torch.log(-torch.expm1(log_miss)).float()
        return items, inverse[:len(targets)], log_q

    def __call__(self, hidden: torch.Tensor, targets: torch.Tensor, items: nn.Embedding,
                 bf16: bool) -> torch.Tensor:
        chosen, labels, log_q = self.candidates(targets)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = hidden @ items(chosen + 1).T
        return F.cross_entropy(logits.float() - log_q, labels)


class SplitAdam:
    """Adam for every parameter but a sparse item table, which SparseAdam updates row by row
    (only the rows a step touched; their moments too). Same interface as one optimiser."""

    def __init__(self, parameters: Iterable[nn.Parameter], table: nn.Parameter, lr: float,
                 weight_decay: float = 0.0, table_lr_scale: float = 1.0) -> None:
        rest = [p for p in parameters if p is not table]
        self.parts: list[torch.optim.Optimizer] = [
            torch.optim.SparseAdam([{"params": [table], "lr": lr * table_lr_scale,
                                     "lr_scale": table_lr_scale}], lr=lr),
            torch.optim.Adam(rest, lr=lr, weight_decay=weight_decay)]

    def zero_grad(self, set_to_none: bool = True) -> None:
        for part in self.parts:
            part.zero_grad(set_to_none=set_to_none)

    def step(self) -> None:
        for part in self.parts:
            part.step()


def make_loss(kind: str, targets: np.ndarray, n_items: int, negatives: int,
              rng: np.random.Generator) -> Any:
    """The loss function of `kind` ('full' / 'sampled'); `targets` are the shifted training
    targets (0 = none), whose counts are the sampled softmax's in-batch distribution."""
    if kind == "full":
        return full_softmax_loss
    return SampledSoftmax(np.bincount(targets[targets > 0] - 1, minlength=n_items), negatives,
                          rng)


def batch_loss(net: Any, loss_fn: Any, inputs: np.ndarray, targets: np.ndarray,
               rows: np.ndarray, bf16: bool = False
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One training step's loss: the batch `rows` of (inputs, targets) (next_item_pairs'
    shifted indices) trimmed to their longest run of targets, every real position scored by
    `loss_fn` (make_loss) against the network's output rows. Returns (loss, the trimmed
    inputs, the trimmed targets). The home's SASRec and federated clients both step with it."""
    width = int((targets[rows] > 0).sum(axis=1).max())
    seqs = torch.from_numpy(inputs[rows, -width:])
    tgt = torch.from_numpy(targets[rows, -width:])
    mask = tgt > 0
    return loss_fn(net(seqs)[mask], tgt[mask] - 1, net.output_items(), bf16), seqs, tgt


def make_optimiser(net: nn.Module, lr: float, weight_decay: float, sparse: bool,
                   table_lr_scale: float = 1.0) -> Any:
    """Adam; with `sparse` the item table (`net.item_emb`) takes sparse gradients and
    SparseAdam (a dense step rewrites every row of a million-item table and its moments at
    each batch, whatever the batch touched), at `table_lr_scale` x the rate: a row of a
    sparse table moves only on the few steps that touch it."""
    table = net.item_emb
    table.sparse = sparse
    if sparse:
        return SplitAdam(net.parameters(), table.weight, lr, weight_decay, table_lr_scale)
    return torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
