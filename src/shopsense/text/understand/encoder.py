"""The optional sentence encoder (USE, one thread) and per-category centroids of title vectors.

Answers: how close a query is, in meaning, to each category of the catalogue when none of its
words is a catalogue word ("cellphone", "冷气机"). The encoder loads lazily, once per process.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from shopsense.domain import Product
from shopsense.text.encoders import use_model

Encode = Callable[[Sequence[str]], np.ndarray]
_ENCODERS: dict[str, Encode] = {}


def load_encoder(name: str) -> Encode | None:
    """A function texts -> (n, 512) unit vectors, or None for "none"."""
    if name == "none":
        return None
    if name not in _ENCODERS:
        model = use_model(1)  # the process's one USE model, shared with search and models

        def encode(texts: Sequence[str]) -> np.ndarray:
            vectors = np.asarray(model.encode(list(texts)), dtype=np.float32)
            return vectors.reshape(len(texts), -1)

        _ENCODERS[name] = encode
    return _ENCODERS[name]


class CategoryCentroids:
    """Mean title vector of each leaf category, unit length: (n_categories, dim) float32."""

    def __init__(self, classes: list[str], vectors: np.ndarray) -> None:
        self.classes = classes
        self.vectors = vectors

    @classmethod
    def fit(cls, products: Sequence[Product], encode: Encode,
            per_category: int = 60) -> CategoryCentroids:
        titles: dict[str, list[str]] = defaultdict(list)
        for p in products:
            if p.category and len(titles[p.category]) < per_category:
                titles[p.category].append(p.title)
        classes = sorted(titles)
        rows = []
        for c in classes:
            mean = encode(titles[c]).mean(axis=0)
            rows.append(mean / (np.linalg.norm(mean) or 1.0))
        return cls(classes, np.vstack(rows).astype(np.float32))

    def probabilities(self, query_vector: np.ndarray, temperature: float = 0.05,
                      ) -> dict[str, float]:
        scores = self.vectors @ query_vector / temperature
        scores -= scores.max()
        probs = np.exp(scores)
        probs /= probs.sum()
        return dict(zip(self.classes, probs.tolist(), strict=True))

    def save(self, directory: Path) -> None:
        np.save(directory / "centroids.npy", self.vectors)
        (directory / "centroids.json").write_text(json.dumps(self.classes, ensure_ascii=False),
                                                  encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> CategoryCentroids | None:
        if not (directory / "centroids.npy").exists():
            return None
        classes = json.loads((directory / "centroids.json").read_text(encoding="utf-8"))
        return cls(list(classes), np.load(directory / "centroids.npy", allow_pickle=False))


class SurfaceVectors:
    """Vectors of attribute value surfaces, to read a word the catalogue never writes by its
    nearest value (全棉 -> 纯棉): (n_surfaces, dim) float32 plus each row's group index."""

    def __init__(self, groups: list[int], vectors: np.ndarray) -> None:
        self.groups = groups
        self.vectors = vectors

    @classmethod
    def fit(cls, surfaces: list[tuple[int, str]], encode: Encode) -> SurfaceVectors | None:
        if not surfaces:
            return None
        vectors = encode([text for _, text in surfaces]).astype(np.float32)
        return cls([group for group, _ in surfaces], vectors)

    def nearest(self, vector: np.ndarray, threshold: float = 0.8,
                margin: float = 0.03) -> tuple[int, float] | None:
        """(group, similarity) of the closest surface when it is close and clearly ahead of
        the closest surface of any other group."""
        sims = self.vectors @ vector
        order = np.argsort(-sims)
        best = int(order[0])
        if sims[best] < threshold:
            return None
        group = self.groups[best]
        rival = next((float(sims[i]) for i in order[1:] if self.groups[int(i)] != group), -1.0)
        if sims[best] - rival < margin:
            return None
        return group, float(sims[best])

    def save(self, directory: Path) -> None:
        np.save(directory / "surface_vectors.npy", self.vectors)
        (directory / "surface_groups.json").write_text(json.dumps(self.groups), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> SurfaceVectors | None:
        if not (directory / "surface_vectors.npy").exists():
            return None
        groups = json.loads((directory / "surface_groups.json").read_text(encoding="utf-8"))
        return cls(list(groups), np.load(directory / "surface_vectors.npy", allow_pickle=False))
