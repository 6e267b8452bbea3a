"""What comes next in this session? The SASRec next-item model as a candidate source."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from shopsense.domain import Product
from shopsense.models.context import RecContext
from shopsense.models.interactions import Interactions
from shopsense.models.sasrec import SASRec, SASRecConfig
from shopsense.models.sequences import ItemIndex
from shopsense.models.source_base import DenseSource


class SASRecTrainer(Protocol):
    """Fits a SASRec: in this process (`fit_in_process`) or elsewhere (scale.ray_train)."""

    def __call__(self, sequences: Sequence[np.ndarray], n_items: int, config: SASRecConfig, *,
                 valid: tuple[Sequence[np.ndarray], np.ndarray] | None,
                 item_init: np.ndarray | None, on_epoch: Any) -> SASRec: ...


def fit_in_process(sequences: Sequence[np.ndarray], n_items: int, config: SASRecConfig, *,
                   valid: tuple[Sequence[np.ndarray], np.ndarray] | None,
                   item_init: np.ndarray | None, on_epoch: Any) -> SASRec:
    """The default trainer: one process, `config.threads` torch threads."""
    return SASRec(config).fit(sequences, n_items, valid=valid, item_init=item_init,
                              on_epoch=on_epoch)


class SequentialRetriever(DenseSource):
    """Scores every item as the next one after the context's recent items (oldest first)."""

    def __init__(self, config: SASRecConfig | None = None, name: str = "sasrec",
                 use_titles: bool = True, trainer: SASRecTrainer = fit_in_process) -> None:
        super().__init__()
        self.config = config or SASRecConfig()
        self.name, self.use_titles = name, use_titles
        self.trainer = trainer  # training only; not saved
        self.model_: SASRec | None = None

    def fit(self, data: Interactions, items: ItemIndex, products: Sequence[Product] = (),
            valid: tuple[Sequence[np.ndarray], np.ndarray] | None = None,
            item_init: np.ndarray | None = None, on_epoch: Any = None) -> SequentialRetriever:
        """Train on every user's sequence; `valid` (histories, targets) enables early stopping.
        Title vectors seed the item table when products have titles and none are given."""
        self._set_catalogue(items, products)
        sequences = [items.encode(seq) for seq in data.sequences]
        if item_init is None and self.use_titles and any(p.title for p in products):
            from shopsense.models.text_init import title_vectors
            item_init = title_vectors(products, items.ids, self.config.dim)
        self.model_ = self.trainer(sequences, len(items), self.config, valid=valid,
                                   item_init=item_init, on_epoch=on_epoch)
        return self

    def _model(self) -> SASRec:
        if self.model_ is None:
            raise RuntimeError("SequentialRetriever is not fitted")
        return self.model_

    def score_all(self, context: RecContext) -> np.ndarray:
        history = self.recent_indices(context)
        if history.size == 0:
            return np.full(len(self._require_items()), -np.inf)
        return self._model().score([history])[0].astype(np.float64)

    def evidence(self, context: RecContext, index: int) -> dict[str, Any]:
        return self.evidence_many(context, [index])[0]

    def evidence_many(self, context: RecContext, indices: Sequence[int]) -> list[dict[str, Any]]:
        history = self.recent_indices(context)
        ids = self._require_items().ids
        after = [ids[i] for i in history[-3:].tolist()]
        return [{"after_items": list(after)} if after else {} for _ in indices]

    def save(self, directory: Path) -> None:
        self._save_common(directory, {"kind": "sasrec", "use_titles": self.use_titles})
        self._model().save(directory / "model")

    @classmethod
    def load(cls, directory: Path) -> SequentialRetriever:
        config, items, categories = cls._load_common(directory)
        model = SASRec.load(directory / "model")
        source = cls(model.config, name=config["name"], use_titles=config["use_titles"])
        source.items_, source.categories_, source.model_ = items, categories, model
        return source
