"""SASRec's serving forward for one request in numpy (no torch per-operator overhead).

Eval mode, the trailing positions only (the newest item is last, padding in front); equal to
the torch forward within float32 rounding (tests/recs/test_sasrec_serving.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import special
from torch import nn

from shopsense.models.sequences import left_pad


def numpy_weights(net: Any) -> dict[str, Any]:
    """The network's parameters as float32 numpy views (they follow training steps)."""
    def linear(layer: nn.Linear) -> tuple[np.ndarray, np.ndarray]:
        return (layer.weight.detach().numpy().T, layer.bias.detach().numpy())

    def norm(layer: nn.LayerNorm) -> tuple[np.ndarray, np.ndarray, float]:
        return (layer.weight.detach().numpy(), layer.bias.detach().numpy(), layer.eps)

    blocks = [{"norm1": norm(b.norm1), "qkv": linear(b.qkv), "proj": linear(b.proj),
               "norm2": norm(b.norm2), "ff1": linear(b.ff[0]), "ff2": linear(b.ff[3])}
              for b in net.blocks]
    weights = {"item_emb": net.item_emb.weight.detach().numpy(),
               "pos_emb": net.pos_emb.weight.detach().numpy(), "blocks": blocks,
               "norm": norm(net.norm)}
    if net.title_term:  # sasrec_net: [gate * h, scale * title of the last item]
        weights["title"] = (net.title_vec.numpy(), net.title_log_scale.detach().numpy(),
                            net.body_gate.detach().numpy())
    return weights


def encode_small(p: dict[str, Any], max_len: int, dim: int, n_heads: int,
                 histories: Sequence[np.ndarray]) -> np.ndarray:
    """States (B, dim; 2 dim with the title term) of a few histories from `numpy_weights`
    parameters. The last block computes the newest position only (its keys and values
    read every position; nothing after it reads the others)."""
    longest = max(1, max(min(len(h), max_len) for h in histories))
    seqs = left_pad(histories, max_len)[:, -longest:]
    batch, length = seqs.shape
    valid = seqs > 0
    x = p["item_emb"][seqs] * np.float32(math.sqrt(dim))
    x = (x + p["pos_emb"][max_len - length:]) * valid[..., None]
    allowed = (np.tri(length, dtype=bool) & valid[:, None, :]) | np.eye(length, dtype=bool)
    width = dim // n_heads
    for n, block in enumerate(p["blocks"]):
        if n == len(p["blocks"]) - 1:
            allowed = allowed[:, -1:]
        qkv = layer_norm(x, *block["norm1"]) @ block["qkv"][0] + block["qkv"][1]
        q, k, v = qkv.reshape(batch, length, 3, n_heads, width).transpose(2, 0, 3, 1, 4)
        q = q[:, :, -allowed.shape[1]:]
        logits = (q @ k.transpose(0, 1, 3, 2)) / np.float32(math.sqrt(width))
        logits = np.where(allowed[:, None], logits, -np.inf)
        weights = np.exp(logits - logits.max(axis=-1, keepdims=True))
        weights /= weights.sum(axis=-1, keepdims=True)
        attn = (weights @ v).transpose(0, 2, 1, 3).reshape(batch, -1, dim)
        x = x[:, -attn.shape[1]:] + attn @ block["proj"][0] + block["proj"][1]
        hidden = layer_norm(x, *block["norm2"]) @ block["ff1"][0] + block["ff1"][1]
        hidden = 0.5 * hidden * (1.0 + special.erf(hidden / np.float32(math.sqrt(2.0))))
        x = x + hidden @ block["ff2"][0] + block["ff2"][1]
    hidden = layer_norm(x[:, -1, :], *p["norm"])
    if "title" in p:
        titles, log_scale, gate = p["title"]
        hidden = np.concatenate([gate * hidden, np.exp(log_scale) * titles[seqs[:, -1]]], axis=1)
    return hidden.astype(np.float32)


def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(var + np.float32(eps)) * weight + bias
