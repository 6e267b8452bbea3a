"""SASRec-style next-item model trained with full-catalogue softmax cross-entropy.

The recipe of Klenitskiy & Vasilev (RecSys 2023, "Turning Dross Into Gold Loss"): a causal
transformer over the last `max_len` items, output tied to the item embedding table, and a
softmax over every item instead of the original one-negative BCE. Early stopping uses the
validation targets only (never the test item).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy import special
from torch import nn
from torch.nn import functional as F

from shopsense.evaluation.metrics import ndcg_from_ranks, target_ranks
from shopsense.models.parallel import GradientSync, LocalSync
from shopsense.models.sequences import left_pad, next_item_pairs, top_k_excluding


@dataclass(frozen=True)
class SASRecConfig:
    """Hyper-parameters. One default for every data set (no per-data-set tuning)."""

    max_len: int = 50
    dim: int = 64
    n_blocks: int = 2
    n_heads: int = 1
    dropout: float = 0.3
    lr: float = 2e-3
    weight_decay: float = 0.0
    batch_size: int = 256
    max_positions: int = 4096  # caps the (positions x catalogue) logits of one step (memory)
    max_epochs: int = 200
    patience: int = 10
    time_budget_s: float = 900.0  # CPU seconds of this process (load-independent); then stop
    seed: int = 0
    threads: int = 1
    bf16: bool = True


class _Block(nn.Module):
    """Pre-norm causal self-attention + position-wise feed-forward."""

    def __init__(self, dim: int, n_heads: int, dropout: float) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.dropout = dropout
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, dim), nn.GELU(), nn.Dropout(dropout),
                                nn.Linear(dim, dim))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
        batch, length, dim = x.shape
        qkv = self.qkv(self.norm1(x)).view(batch, length, 3, self.n_heads, dim // self.n_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        attn = F.scaled_dot_product_attention(
            q, k, v, attn_mask=allowed, dropout_p=self.dropout if self.training else 0.0)
        x = x + self.drop(self.proj(attn.transpose(1, 2).reshape(batch, length, dim)))
        return x + self.drop(self.ff(self.norm2(x)))


class SASRecNet(nn.Module):
    """Item sequence (B, L) of shifted indices (0 = pad) -> hidden states (B, L, dim)."""

    def __init__(self, n_items: int, cfg: SASRecConfig) -> None:
        super().__init__()
        self.item_emb = nn.Embedding(n_items + 1, cfg.dim, padding_idx=0)
        self.pos_emb = nn.Embedding(cfg.max_len, cfg.dim)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(_Block(cfg.dim, cfg.n_heads, cfg.dropout)
                                    for _ in range(cfg.n_blocks))
        self.norm = nn.LayerNorm(cfg.dim)
        nn.init.normal_(self.item_emb.weight, std=cfg.dim ** -0.5)
        nn.init.normal_(self.pos_emb.weight, std=cfg.dim ** -0.5)
        with torch.no_grad():
            self.item_emb.weight[0].zero_()

    def forward(self, seqs: torch.Tensor) -> torch.Tensor:
        length = seqs.shape[1]
        valid = seqs > 0
        # Right-aligned: the newest item always sits at the last position, even when a batch
        # is trimmed to fewer than max_len columns.
        offset = self.pos_emb.num_embeddings - length
        positions = torch.arange(offset, offset + length, device=seqs.device)
        x = self.item_emb(seqs) * math.sqrt(self.item_emb.embedding_dim) + self.pos_emb(positions)
        x = self.drop(x) * valid.unsqueeze(-1)
        causal = torch.ones(length, length, dtype=torch.bool, device=seqs.device).tril()
        eye = torch.eye(length, dtype=torch.bool, device=seqs.device)
        allowed = (causal & valid.unsqueeze(1)) | eye  # (B, L, L): key must be real, or self
        allowed = allowed.unsqueeze(1)
        for block in self.blocks:
            x = block(x, allowed)
        return self.norm(x)

    def item_weights(self) -> torch.Tensor:
        """Output embeddings of the real items (n_items, dim); tied to the input table."""
        return self.item_emb.weight[1:]


EpochHook = Callable[[dict[str, float]], None]


class SASRec:
    """Estimator wrapper: `fit(sequences, n_items, valid=...)`, `score(histories)`, save/load."""

    def __init__(self, config: SASRecConfig | None = None, **overrides: float | int) -> None:
        base = asdict(config or SASRecConfig())
        unknown = set(overrides) - set(base)
        if unknown:
            raise TypeError(f"unknown SASRec settings: {sorted(unknown)}")
        self.config = SASRecConfig(**{**base, **overrides})
        self.n_items_: int = 0
        self.net_: SASRecNet | None = None
        self.history_: list[dict[str, float]] = []
        self.best_epoch_: int = 0
        self.info_: dict[str, object] = {}  # how it was trained (e.g. data-parallel workers)
        self._numpy_: tuple[SASRecNet, dict[str, Any]] | None = None  # _numpy_weights

    # ------------------------------------------------------------------ training
    def fit(self, sequences: Sequence[np.ndarray], n_items: int, *,
            valid: tuple[Sequence[np.ndarray], np.ndarray] | None = None,
            item_init: np.ndarray | None = None,
            on_epoch: EpochHook | None = None, sync: GradientSync | None = None) -> SASRec:
        """Train on dense-index sequences (time order). `valid` = (histories, targets) for
        early stopping on NDCG@10; without it the model trains for `max_epochs`/budget.
        `item_init` (n_items, dim), e.g. title vectors, seeds the item embeddings (zero rows
        keep their random start). `sync` makes this one of several data-parallel processes
        (models.parallel): each trains on its share of every epoch's batches and validation
        users, gradients are averaged every step, and all stop at the same epoch with the
        same weights."""
        cfg = self.config
        sync = sync or LocalSync()
        if n_items <= 0:
            raise ValueError("n_items must be positive")
        if any(len(s) and (np.min(s) < 0 or np.max(s) >= n_items) for s in sequences):
            raise ValueError("sequence contains an item index outside [0, n_items)")
        inputs, targets = next_item_pairs(sequences, cfg.max_len)
        if len(inputs) == 0:
            raise ValueError("no sequence has two or more items; nothing to learn")
        torch.manual_seed(cfg.seed)
        rng = np.random.default_rng(cfg.seed)
        self.n_items_ = n_items
        self.net_ = SASRecNet(n_items, cfg)
        if item_init is not None:
            self._seed_items(item_init)
        sync.broadcast_parameters(self.net_)
        if sync.world_size > 1:
            torch.manual_seed(cfg.seed + 7919 * sync.rank)  # distinct dropout masks per rank
        optimiser = torch.optim.Adam(self.net_.parameters(), lr=cfg.lr,
                                     weight_decay=cfg.weight_decay)
        best, best_state, stale = -1.0, None, 0
        started, cpu_started = time.perf_counter(), time.process_time()
        with _threads(cfg.threads):
            for epoch in range(1, cfg.max_epochs + 1):
                loss = self._epoch(inputs, targets, optimiser, rng, sync)
                row = {"epoch": float(epoch), "loss": loss,
                       "seconds": time.perf_counter() - started,
                       "cpu_seconds": sync.max(time.process_time() - cpu_started)}
                if valid is not None:
                    row["valid_ndcg@10"] = self._valid_ndcg(*valid, sync=sync)
                    if row["valid_ndcg@10"] > best:
                        best, stale, self.best_epoch_ = row["valid_ndcg@10"], 0, epoch
                        best_state = {k: v.clone() for k, v in self.net_.state_dict().items()}
                    else:
                        stale += 1
                self.history_.append(row)
                if on_epoch is not None:
                    on_epoch(row)
                if stale >= cfg.patience or row["cpu_seconds"] > cfg.time_budget_s:
                    break
        if best_state is not None:
            self.net_.load_state_dict(best_state)
        else:
            self.best_epoch_ = len(self.history_)
        self.net_.eval()
        return self

    def _seed_items(self, item_init: np.ndarray) -> None:
        assert self.net_ is not None
        if item_init.shape != (self.n_items_, self.config.dim):
            raise ValueError(f"item_init must be ({self.n_items_}, {self.config.dim}), "
                             f"got {item_init.shape}")
        init = torch.from_numpy(np.ascontiguousarray(item_init, dtype=np.float32))
        rows = init.abs().sum(dim=1) > 0
        with torch.no_grad():
            weight = self.net_.item_emb.weight
            weight[1:][rows] = init[rows] * self.config.dim ** -0.5

    def _epoch(self, inputs: np.ndarray, targets: np.ndarray,
               optimiser: torch.optim.Optimizer, rng: np.random.Generator,
               sync: GradientSync) -> float:
        """One pass; the mean loss per target over every process's batches."""
        assert self.net_ is not None
        self.net_.train()
        total, count = 0.0, 0
        for rows in sync.shard(_length_buckets(targets, self.config.batch_size,
                                               self.config.max_positions, rng)):
            width = int((targets[rows] > 0).sum(axis=1).max())
            seqs = torch.from_numpy(inputs[rows, -width:])
            tgt = torch.from_numpy(targets[rows, -width:])
            mask = tgt > 0
            # bf16 autocast roughly halves the cost of the (positions x catalogue) logits on
            # CPUs with bf16 units; the softmax itself runs in float32.
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.config.bf16):
                logits = self.net_(seqs)[mask] @ self.net_.item_weights().T
            loss = F.cross_entropy(logits.float(), tgt[mask] - 1)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            sync.average_gradients(self.net_.parameters())
            optimiser.step()
            total += float(loss.detach()) * int(mask.sum())
            count += int(mask.sum())
        total, count = sync.sum([total, float(count)])
        return total / max(count, 1)

    def _valid_ndcg(self, histories: Sequence[np.ndarray], targets: np.ndarray,
                    sync: GradientSync | None = None) -> float:
        """Mean NDCG@10 of the validation targets (each process scores its share)."""
        sync = sync or LocalSync()
        total = len(histories)
        histories, targets = sync.shard(histories), np.asarray(sync.shard(list(targets)))
        scores_sum = 0.0
        for start in range(0, len(histories), 1024):
            hist = histories[start:start + 1024]
            top = top_k_excluding(self.score(hist), 10, hist)
            ranks = target_ranks(top, np.asarray(targets[start:start + 1024]))
            scores_sum += float(ndcg_from_ranks(ranks, 10).sum())
        if sync.world_size > 1:  # the shards leave out fewer than world_size users
            scores_sum, total = sync.sum([scores_sum, float(len(histories))])
        return scores_sum / max(total, 1)

    # ------------------------------------------------------------------ serving
    def encode(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        """User/session states (B, dim) from dense-index histories (empty ones allowed).
        A few histories (a serving request) go through `_encode_small`, the same network in
        numpy; batches through torch."""
        if 0 < len(histories) <= 4:
            return self._encode_small(histories)
        net = self._require()
        net.eval()
        out = []
        with torch.no_grad(), _threads(self.config.threads):
            for start in range(0, len(histories), 1024):
                seqs = torch.from_numpy(left_pad(histories[start:start + 1024],
                                                 self.config.max_len))
                out.append(net(seqs)[:, -1, :].numpy())
        return np.concatenate(out) if out else np.zeros((0, self.config.dim), np.float32)

    def _encode_small(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        """`encode` in numpy for one request's histories: eval mode, the trailing positions
        only (the newest item is last, padding in front), ~5x less time than torch's
        per-operator overhead at this size; equal to the torch forward within float32
        rounding (tests/recs/test_sasrec_serving.py)."""
        p = self._numpy_weights()
        cfg = self.config
        longest = max(1, max(min(len(h), cfg.max_len) for h in histories))
        seqs = left_pad(histories, cfg.max_len)[:, -longest:]
        batch, length = seqs.shape
        valid = seqs > 0
        x = p["item_emb"][seqs] * np.float32(math.sqrt(cfg.dim))
        x = (x + p["pos_emb"][cfg.max_len - length:]) * valid[..., None]
        allowed = (np.tril(np.ones((length, length), bool)) & valid[:, None, :]) | np.eye(
            length, dtype=bool)
        heads, width = cfg.n_heads, cfg.dim // cfg.n_heads
        for block in p["blocks"]:
            qkv = _layer_norm(x, *block["norm1"]) @ block["qkv"][0] + block["qkv"][1]
            q, k, v = qkv.reshape(batch, length, 3, heads, width).transpose(2, 0, 3, 1, 4)
            logits = (q @ k.transpose(0, 1, 3, 2)) / np.float32(math.sqrt(width))
            logits = np.where(allowed[:, None], logits, -np.inf)
            weights = np.exp(logits - logits.max(axis=-1, keepdims=True))
            weights /= weights.sum(axis=-1, keepdims=True)
            attn = (weights @ v).transpose(0, 2, 1, 3).reshape(batch, length, cfg.dim)
            x = x + attn @ block["proj"][0] + block["proj"][1]
            hidden = _layer_norm(x, *block["norm2"]) @ block["ff1"][0] + block["ff1"][1]
            hidden = 0.5 * hidden * (1.0 + special.erf(hidden / np.float32(math.sqrt(2.0))))
            x = x + hidden @ block["ff2"][0] + block["ff2"][1]
        return _layer_norm(x[:, -1, :], *p["norm"]).astype(np.float32)

    def _numpy_weights(self) -> dict[str, Any]:
        """The network's parameters as float32 numpy views (they follow training steps)."""
        net = self._require()
        if self._numpy_ is None or self._numpy_[0] is not net:
            def linear(layer: nn.Linear) -> tuple[np.ndarray, np.ndarray]:
                return (layer.weight.detach().numpy().T, layer.bias.detach().numpy())

            def norm(layer: nn.LayerNorm) -> tuple[np.ndarray, np.ndarray, float]:
                return (layer.weight.detach().numpy(), layer.bias.detach().numpy(), layer.eps)

            blocks = [{"norm1": norm(b.norm1), "qkv": linear(b.qkv), "proj": linear(b.proj),
                       "norm2": norm(b.norm2), "ff1": linear(b.ff[0]), "ff2": linear(b.ff[3])}
                      for b in net.blocks]
            self._numpy_ = (net, {"item_emb": net.item_emb.weight.detach().numpy(),
                                  "pos_emb": net.pos_emb.weight.detach().numpy(),
                                  "blocks": blocks, "norm": norm(net.norm)})
        return self._numpy_[1]

    def item_vectors(self) -> np.ndarray:
        """(n_items, dim) output embeddings."""
        return self._require().item_weights().detach().numpy()

    def score(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        """Scores (B, n_items) of every item as the next one after each history."""
        return self.encode(histories) @ self.item_vectors().T

    def _require(self) -> SASRecNet:
        if self.net_ is None:
            raise RuntimeError("SASRec is not fitted")
        return self.net_

    # ------------------------------------------------------------------ persistence
    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        config = {**asdict(self.config), "n_items": self.n_items_, "best_epoch": self.best_epoch_}
        (directory / "config.json").write_text(json.dumps(config, indent=2))
        torch.save(self._require().state_dict(), directory / "weights.pt")

    @classmethod
    def load(cls, directory: Path) -> SASRec:
        config = json.loads((directory / "config.json").read_text())
        n_items, best_epoch = config.pop("n_items"), config.pop("best_epoch")
        model = cls(SASRecConfig(**config))
        model.n_items_, model.best_epoch_ = n_items, best_epoch
        model.net_ = SASRecNet(n_items, model.config)
        state = torch.load(directory / "weights.pt", weights_only=True)
        model.net_.load_state_dict(state)
        model.net_.eval()
        return model


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(var + np.float32(eps)) * weight + bias


def _length_buckets(targets: np.ndarray, batch_size: int, max_positions: int,
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


class _threads:
    """Context manager pinning torch intra-op threads."""

    def __init__(self, n: int) -> None:
        self.n, self.before = n, torch.get_num_threads()

    def __enter__(self) -> None:
        torch.set_num_threads(self.n)

    def __exit__(self, *exc: object) -> None:
        torch.set_num_threads(self.before)
