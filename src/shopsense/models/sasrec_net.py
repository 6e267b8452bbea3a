"""SASRec's network: a causal transformer over item sequences, output tied to the item table.

`SASRecNet` maps (B, L) shifted item indices (0 = padding, the newest item last) to hidden
states (B, L, dim); `models.sasrec.SASRec` trains and serves it (and re-exports it).

**Title term** (`cfg.title_term`): an item's score is `g * h . E_i + s * t_last . t_i`, where
t are the catalogue's title vectors at unit length (a frozen buffer: public text, not
trained, not sent by federated clients), `s` a learned scale and `g` a learned gate on the
transformer's share, 0 at the start. So an untrained network ranks exactly as the title
neighbour does (items by the title cosine with the history's last item), and training learns
on top of that prior instead of first unlearning it: the titles of items a client never saw
cannot be erased by dense steps on the item table (docs/FEDERATED.md, "A title term").
It is written as one dot product, `[g h, s t_last] . [E_i, t_i]`: `forward` returns the
(B, L, 2 dim) query and `item_weights` the (n_items, 2 dim) keys, so every scorer (training
losses, validation, serving, the numpy path, two-stage serving) stays `query @ keys.T`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

if TYPE_CHECKING:
    from shopsense.models.sasrec import SASRecConfig


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
        self.title_term = bool(getattr(cfg, "title_term", False))
        if self.title_term:
            self.register_buffer("title_vec", torch.zeros(n_items + 1, cfg.dim))
            self.title_log_scale = nn.Parameter(torch.tensor(math.log(cfg.title_scale)))
            self.body_gate = nn.Parameter(torch.tensor(float(cfg.title_gate)))

    @property
    def out_dim(self) -> int:
        """Width of `forward`'s states and `item_weights`' rows."""
        return self.item_emb.embedding_dim * (2 if self.title_term else 1)

    def set_titles(self, vectors: np.ndarray | torch.Tensor) -> None:
        """The title term's vectors (n_items, dim), stored at unit length; zero rows (no
        title) add nothing to any score."""
        if not self.title_term:
            raise ValueError("this network has no title term (SASRecConfig.title_term)")
        table = torch.as_tensor(np.asarray(vectors, np.float32))
        if table.shape != (self.title_vec.shape[0] - 1, self.title_vec.shape[1]):
            raise ValueError(f"title vectors must be ({self.title_vec.shape[0] - 1}, "
                             f"{self.title_vec.shape[1]}), got {tuple(table.shape)}")
        norms = table.norm(dim=1, keepdim=True)
        with torch.no_grad():
            self.title_vec.zero_()
            self.title_vec[1:] = torch.where(norms > 0, table / norms.clamp(min=1e-12), 0.0)

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
        hidden = self.norm(x)
        if not self.title_term:
            return hidden
        return torch.cat([self.body_gate * hidden,
                          self.title_log_scale.exp() * self.title_vec[seqs]], dim=-1)

    def item_weights(self) -> torch.Tensor:
        """Output embeddings of the real items (n_items, out_dim); tied to the input table
        (and, with the title term, the title vectors beside it)."""
        return self.output_table(self.item_emb.weight)[1:]

    def output_table(self, table: torch.Tensor) -> torch.Tensor:
        """The output rows (padding row first) for an item `table` of this network's shape:
        the table itself, or with the title term the title vectors beside it (DP-SGD passes
        its functional copy of the table)."""
        return torch.cat([table, self.title_vec], dim=1) if self.title_term else table

    def output_items(self) -> Any:
        """What the training losses (models.sasrec_loss) read output rows from: the item
        `nn.Embedding` (row 0 = padding), or with the title term a view that appends the
        title vectors to its rows (the table's own gradient stays sparse where it is)."""
        return _TitledItems(self) if self.title_term else self.item_emb


class _TitledItems:
    """`weight` and `(indices)` of the item embedding, each row followed by its title vector."""

    def __init__(self, net: SASRecNet) -> None:
        self.net = net

    @property
    def weight(self) -> torch.Tensor:
        return self.net.output_table(self.net.item_emb.weight)

    def __call__(self, indices: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.net.item_emb(indices), self.net.title_vec[indices]], dim=-1)
