"""SASRec as a federated participant: weights in and out, local epochs, evaluation.

Wraps models.sasrec (its network and estimator are reused unchanged): a `LocalSASRec` holds
one `SASRecNet` whose weights a round overwrites, trains a few epochs on its own shoppers
(FedProx's proximal term when `mu` > 0, DP-SGD when given `DPSettings`) and returns the new
weights. A local step is the home's SASRec step (models.sasrec_loss.batch_loss): the loss
chosen by catalogue size as the home chooses it (full softmax up to `full_max_items`,
sampled softmax with log-Q correction above, its in-batch distribution the client's own
targets of the round), at the home's batch size and rate (`fed_config`). DP-SGD keeps its
per-shopper full-softmax loss (`_user_loss`). `shared="body"` keeps the item table at home (several shops with their own
catalogues share only the transformer body); `shared="all"` shares every weight.

`sparse_items`: a step moves only the item-table rows its batch used (as input or target),
as lazy Adam does for embeddings. With the full softmax every row is a negative of every
step, and Adam's per-coordinate step is as large for a row's tiny negative gradients as for
a positive one: a few epochs push every item a client never saw away from its title vector,
and most of a shop's test targets on Beauty are items its own shoppers never used (docs/FEDERATED.md, "Why
local-only won"). Not under DP-SGD: which rows moved would tell which items a batch held.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch.nn import functional as F

from shopsense.federated.dp import DPSettings, PrivateTrainer
from shopsense.models.sasrec import SASRec, SASRecConfig, SASRecNet, titled_config
from shopsense.models.sasrec_loss import batch_loss, choose_loss, make_loss
from shopsense.models.sequences import length_buckets, next_item_pairs, top_k_excluding

LOCAL_ONLY_KEYS = ("item_emb.weight",)  # stays home when shops share only the body
HOME_KEYS = ("title_vec",)  # the title term's vectors: each home's own public titles, never sent


def fed_config(**overrides: float | int | bool | str) -> SASRecConfig:
    """The federated default: the home's SASRec recipe (its loss rule, batch size and rate),
    no bf16 (clients are CPUs)."""
    return replace(SASRecConfig(), **{"bf16": False, **overrides})


@dataclass
class Holdout:
    """Per-client leave-one-out: train sequences, and (history, target) for valid and test."""

    train: list[np.ndarray]
    valid_histories: list[np.ndarray]
    valid_targets: np.ndarray
    test_histories: list[np.ndarray]
    test_targets: np.ndarray

    @classmethod
    def of(cls, sequences: Sequence[np.ndarray]) -> Holdout:
        train, vh, vt, th, tt = [], [], [], [], []
        for seq in sequences:
            seq = np.asarray(seq, np.int64)
            if len(seq) < 3:
                train.append(seq)
                continue
            train.append(seq[:-2])
            vh.append(seq[:-2])
            vt.append(int(seq[-2]))
            th.append(seq[:-1])
            tt.append(int(seq[-1]))
        return cls(train, vh, np.asarray(vt, np.int64), th, np.asarray(tt, np.int64))


class LocalSASRec:
    """One participant's SASRec: `weights()` / `load()` / `fit_round()` / `metrics()`."""

    def __init__(self, n_items: int, config: SASRecConfig, *, shared: str = "all",
                 mu: float = 0.0, dp: DPSettings | None = None, total_epochs: int = 1,
                 seed: int = 0, row_weighted: bool = True, item_init: np.ndarray | None = None,
                 freeze_items: bool = False, sparse_items: bool = False) -> None:
        if shared not in ("all", "body"):
            raise ValueError(f"shared must be 'all' or 'body', got {shared!r}")
        if sparse_items and dp is not None:
            raise ValueError("sparse item updates reveal which items a batch held: not "
                             "with DP-SGD")
        if freeze_items and item_init is None:
            raise ValueError("freeze_items needs item_init (title vectors): a frozen random "
                             "item table learns nothing")
        torch.manual_seed(seed)
        config = titled_config(config, item_init)
        self.config, self.shared, self.mu, self.seed = config, shared, mu, seed
        self.net = SASRecNet(n_items, config)
        self.n_items, self.frozen_items = n_items, freeze_items
        self.sparse_items = sparse_items and not freeze_items
        if item_init is not None:
            seed_item_table(self.net, item_init, config.dim)
        self.net.item_emb.weight.requires_grad_(not freeze_items)
        self.restart_optimiser()
        self.dp, self.total_epochs = dp, total_epochs
        self.private: PrivateTrainer | None = None
        self.rng = np.random.default_rng(seed)
        self.generator = torch.Generator().manual_seed(seed)
        self.row_weighted = row_weighted
        self.loss = choose_loss(config.loss, n_items, config.full_max_items)  # as the home
        self.item_counts: np.ndarray | None = None  # item uses in the last round's data
        self.anchor: list[torch.Tensor] | None = None  # hold_near's fixed proximal centre

    # ---- weights -------------------------------------------------------------------
    def keys(self) -> list[str]:
        home_only = self.shared == "body" or self.frozen_items  # frozen: public, not sent
        return [k for k in self.net.state_dict() if k not in HOME_KEYS
                and not (home_only and k in LOCAL_ONLY_KEYS)]

    def weights(self) -> list[np.ndarray]:
        state = self.net.state_dict()
        return [state[k].detach().numpy().copy() for k in self.keys()]

    def load(self, arrays: Sequence[np.ndarray]) -> None:
        keys = self.keys()
        if len(arrays) != len(keys):
            raise ValueError(f"expected {len(keys)} arrays, got {len(arrays)}")
        state = self.net.state_dict()
        with torch.no_grad():
            for key, array in zip(keys, arrays, strict=True):
                state[key].copy_(torch.from_numpy(np.asarray(array, np.float32)))

    def row_counts(self) -> dict[int, np.ndarray]:
        """For row-weighted aggregation (rounds.row_weighted_mean): how often the last
        round's sequences used each row of the shared item table (row 0, padding: never)."""
        keys = self.keys()
        if not self.row_weighted or self.item_counts is None or "item_emb.weight" not in keys:
            return {}
        return {keys.index("item_emb.weight"): self.item_counts}

    # ---- training ------------------------------------------------------------------
    def restart_optimiser(self, lr_scale: float = 1.0) -> None:
        """A fresh Adam at `lr_scale` x the configured rate (local adaptation after a
        federation: no moments carried over from the rounds, a gentler step)."""
        if getattr(self, "private", None) is not None:
            raise ValueError("a DP-SGD participant keeps its private optimiser (the "
                             "accountant counts its steps)")
        self.optimiser = torch.optim.Adam([p for p in self.net.parameters() if p.requires_grad],
                                          lr=self.config.lr * lr_scale)

    def hold_near(self, mu: float) -> None:
        """From now on, every epoch's loss adds mu/2 ||w - w0||^2 with w0 the weights held
        now (Ditto's personal objective: a fine-tune that stays near the global model;
        FedProx's anchor, by contrast, moves to each round's start). mu 0: off again."""
        self.mu = mu
        self.anchor = [p.detach().clone() for p in self.net.parameters()] if mu > 0 else None

    def fit_round(self, sequences: Sequence[np.ndarray], epochs: int = 1) -> dict[str, float]:
        """`epochs` local passes from the current weights; returns loss and example count."""
        inputs, targets = next_item_pairs(sequences, self.config.max_len)
        used = [np.asarray(q, np.int64) for q in sequences if len(q)]
        self.item_counts = np.bincount(np.concatenate(used), minlength=self.n_items + 1
                                       ).astype(np.float64) if used else None
        if self.item_counts is not None:
            self.item_counts[0] = 0.0
        if len(inputs) == 0:
            return {"loss": 0.0, "examples": 0}
        anchor = self.anchor if self.anchor is not None else \
            [p.detach().clone() for p in self.net.parameters()] if self.mu > 0 else None
        loss_fn = None if self.dp is not None else make_loss(
            self.loss, targets, self.n_items, self.config.negatives, self.rng)
        loss = 0.0
        for _ in range(epochs):
            loss = (self._private_epoch(inputs, targets) if loss_fn is None
                    else self._epoch(inputs, targets, anchor, loss_fn))
        self.net.eval()
        return {"loss": loss, "examples": len(inputs)}

    def _epoch(self, inputs: np.ndarray, targets: np.ndarray,
               anchor: list[torch.Tensor] | None, loss_fn: Callable[..., torch.Tensor]
               ) -> float:
        self.net.train()
        total, count = 0.0, 0
        # batches of similar lengths, trimmed to their longest row: the home's step
        for rows in length_buckets(targets, self.config.batch_size, self.config.max_positions,
                                   self.rng):
            loss, seqs, tgt = batch_loss(self.net, loss_fn, inputs, targets, rows,
                                         self.config.bf16)
            if anchor is not None:  # FedProx: stay near this round's global weights
                loss = loss + self.mu / 2 * sum(((p - a) ** 2).sum() for p, a in
                                                zip(self.net.parameters(), anchor, strict=True))
            self.optimiser.zero_grad(set_to_none=True)
            loss.backward()
            self._step(seqs, tgt)
            positions = int((tgt > 0).sum())
            total += float(loss.detach()) * positions
            count += positions
        return total / max(count, 1)

    def _step(self, seqs: torch.Tensor, tgt: torch.Tensor) -> None:
        """The optimiser's step; with `sparse_items`, rows the batch did not use are put
        back. Unlike lazy Adam, their moments still take this step's gradients; only the
        weights are held, so a row moves only in the steps of batches that used it."""
        if not self.sparse_items:
            self.optimiser.step()
            return
        table = self.net.item_emb.weight
        idle = torch.ones(table.shape[0], dtype=torch.bool)
        idle[torch.cat([seqs.flatten(), tgt.flatten()])] = False
        kept = table.detach()[idle].clone()
        self.optimiser.step()
        with torch.no_grad():
            table[idle] = kept

    def _private_epoch(self, inputs: np.ndarray, targets: np.ndarray) -> float:
        """DP-SGD: one sample per shopper (user-level), Poisson batches, eval-mode network
        (no dropout under vmap; the noise regularises)."""
        assert self.dp is not None
        n = len(inputs)
        if self.private is None:
            steps = self.total_epochs * max(1, round(n / self.dp.batch_size))
            self.private = PrivateTrainer(self.net, self.optimiser, self.dp, n, steps)
        self.net.eval()
        losses = []
        for _ in range(max(1, round(n / self.dp.batch_size))):
            rows = self.private.poisson_batch(n, self.generator).numpy()
            width = max(1, int((targets[rows] > 0).sum(axis=1).max())) if len(rows) else 1
            losses.append(self.private.step(self._sample_loss, torch.from_numpy(inputs[rows, -width:]),
                                            torch.from_numpy(targets[rows, -width:])))
        return float(np.mean(losses))

    def _sample_loss(self, forward: Callable[..., torch.Tensor], params: dict[str, torch.Tensor],
                     inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """One shopper's loss; the output layer is the tied item table (a trained one from
        `params`, a frozen one from the network)."""
        table = params.get("item_emb.weight", self.net.item_emb.weight.detach())
        return _user_loss(forward, self.net.output_table(table), inputs, targets)

    def privacy(self) -> dict[str, object] | None:
        return self.private.spent() if self.private is not None else None

    # ---- evaluation ----------------------------------------------------------------
    def estimator(self) -> SASRec:
        """The weights as a servable SASRec estimator (same class `shopsense train` saves)."""
        model = SASRec(self.config)
        model.net_, model.n_items_ = self.net, self.n_items
        self.net.eval()
        return model

    def per_user(self, histories: Sequence[np.ndarray], targets: np.ndarray, k: int = 10
                 ) -> tuple[np.ndarray, np.ndarray]:
        """(ndcg@k, hit@k) per user: full ranking, history items excluded."""
        return ranking_per_user(self.estimator().score, histories, targets, k)


def ranking_per_user(score: Callable[[list[np.ndarray]], np.ndarray],
                     histories: Sequence[np.ndarray], targets: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
    ndcg, hit = np.zeros(len(histories)), np.zeros(len(histories))
    for start in range(0, len(histories), 512):
        hist = list(histories[start:start + 512])
        top = top_k_excluding(np.asarray(score(hist), np.float64), k, hist)
        match = top == np.asarray(targets[start:start + 512])[:, None]
        found, rank = match.any(axis=1), match.argmax(axis=1)
        hit[start:start + len(hist)] = found
        ndcg[start:start + len(hist)] = found / np.log2(rank + 2)
    return ndcg, hit


def seed_item_table(net: SASRecNet, item_init: np.ndarray, dim: int) -> None:
    """Title vectors (n_items, dim) into the item table, scaled as SASRec seeds them; zero
    rows (no title) keep their random start. With the title term, into it too."""
    if item_init.shape != (net.item_emb.num_embeddings - 1, dim):
        raise ValueError(f"item_init must be ({net.item_emb.num_embeddings - 1}, {dim}), "
                         f"got {item_init.shape}")
    init = torch.from_numpy(np.ascontiguousarray(item_init, dtype=np.float32))
    rows = init.abs().sum(dim=1) > 0
    with torch.no_grad():
        net.item_emb.weight[1:][rows] = init[rows] * dim ** -0.5
    if net.title_term:
        net.set_titles(init)


def _user_loss(forward: Callable[..., torch.Tensor], table: torch.Tensor,
               inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean next-item cross-entropy over one shopper's positions (inputs/targets (L,));
    the output layer is the tied item `table` (padding row first; with the title term, the
    title vectors beside it: SASRecNet.output_table)."""
    hidden = forward(inputs.unsqueeze(0))[0]  # (L, dim)
    logits = hidden @ table[1:].T
    mask = (targets > 0).float()
    per_position = F.cross_entropy(logits, (targets - 1).clamp(min=0), reduction="none")
    return (per_position * mask).sum() / mask.sum().clamp(min=1.0)
