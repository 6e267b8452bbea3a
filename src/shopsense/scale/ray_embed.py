"""Distributed catalogue embedding on Ray: local by default, a cluster by address.

`embed_catalogue(texts, "use", workers=4, address="ray://head:10001")` splits the titles into
shards, encodes them on `workers` Ray actors (each loads the encoder once, one thread) and
returns the (n, dim) float32 unit matrix in input order — the same rows the serial encoder
gives. Ray is an optional extra (`pip install ray==2.60.0`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from shopsense.text.encoders import make_encoder


class _EncoderWorker:
    """Holds one encoder for the life of the actor."""

    def __init__(self, encoder_name: str) -> None:
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        self.encoder = make_encoder(encoder_name, threads=1)
        if self.encoder is None:
            raise ValueError("encoder 'none' has nothing to embed with")

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self.encoder.encode_documents(list(texts))


def start_ray(address: str = "", *, num_cpus: int | None = None) -> Any:
    """Connect to `address` (a cluster) or start a local Ray with `num_cpus` CPUs."""
    import ray

    if ray.is_initialized():
        return ray
    if address:
        ray.init(address=address, ignore_reinit_error=True)
    else:
        ray.init(num_cpus=num_cpus or 2, include_dashboard=False, ignore_reinit_error=True,
                 log_to_driver=False)
    return ray


def embed_catalogue(texts: Sequence[str], encoder_name: str = "use", *, workers: int = 2,
                    shard_size: int = 2048, address: str = "") -> np.ndarray:
    """(len(texts), dim) float32 unit rows, encoded in parallel on Ray actors."""
    if workers < 1 or shard_size < 1:
        raise ValueError("workers and shard_size must be >= 1")
    ray = start_ray(address, num_cpus=workers)
    actor_class = ray.remote(num_cpus=1)(_EncoderWorker)
    actors = [actor_class.remote(encoder_name) for _ in range(workers)]
    shards = [list(texts[i:i + shard_size]) for i in range(0, len(texts), shard_size)]
    futures = [actors[n % workers].encode.remote(shard) for n, shard in enumerate(shards)]
    parts = ray.get(futures)
    for actor in actors:
        ray.kill(actor)
    if not parts:
        dim = make_encoder(encoder_name, threads=1).dim  # type: ignore[union-attr]
        return np.zeros((0, dim), dtype=np.float32)
    return np.vstack(parts).astype(np.float32)
