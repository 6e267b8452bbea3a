"""Item vectors from product titles, for initialising id embeddings (cold items, faster start).

Titles are encoded with the multilingual USE encoder (512-d, offline) and projected to `dim`
by PCA; items without a title get zeros (the caller's random init stays in place).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from shopsense.domain import Product
from shopsense.text.encoders import use_model


def text_encoder() -> Any:
    """The process's shared USE model (one thread; text/encoders.use_model)."""
    return use_model(1)


def encode_titles(titles: Sequence[str], batch: int = 512) -> np.ndarray:
    """(n, 512) unit-length USE vectors."""
    encoder = text_encoder()
    out = [np.asarray(encoder.encode(list(titles[i:i + batch])), dtype=np.float32)
           for i in range(0, len(titles), batch)]
    return np.concatenate(out) if out else np.zeros((0, 512), np.float32)


def pca_project(vectors: np.ndarray, dim: int, seed: int = 0) -> np.ndarray:
    """Rows of `vectors` (n, d) -> (n, dim) principal components, unit variance per column."""
    centred = vectors - vectors.mean(axis=0, keepdims=True)
    if min(centred.shape) <= dim:
        rng = np.random.default_rng(seed)
        basis = rng.standard_normal((vectors.shape[1], dim)).astype(np.float32)
        projected = centred @ basis
    else:
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        projected = centred @ vt[:dim].T
    scale = projected.std(axis=0, keepdims=True)
    return (projected / np.where(scale > 0, scale, 1.0)).astype(np.float32)


def title_vectors(products: Sequence[Product], item_ids: Sequence[str], dim: int,
                  titles: np.ndarray | None = None) -> np.ndarray:
    """(len(item_ids), dim) title-derived vectors in `item_ids` order; zero rows for items
    without a title. `titles` may pass precomputed (len(products), 512) encodings."""
    by_id = {p.item_id: i for i, p in enumerate(products) if p.title.strip()}
    rows = [by_id.get(item_id, -1) for item_id in item_ids]
    known = [r for r in rows if r >= 0]
    out = np.zeros((len(item_ids), dim), dtype=np.float32)
    if len(known) < 2:
        return out
    if titles is None:
        encoded = encode_titles([products[r].title for r in known])
    else:
        encoded = titles[known]
    projected = pca_project(encoded, dim)
    mask = np.asarray(rows) >= 0
    out[mask] = projected
    return out
