"""What comes next in this session? The SASRec next-item model as a candidate source."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from shopsense.domain import Product
from shopsense.models.context import RecContext
from shopsense.models.incremental import WarmStart, incremental_sequences, item_map
from shopsense.models.interactions import Interactions
from shopsense.models.sasrec import SASRec, SASRecConfig
from shopsense.models.sequences import ItemIndex
from shopsense.models.source_base import DenseSource
from shopsense.models.sparse_scores import SparseRow


class SASRecTrainer(Protocol):
    """Fits a SASRec: in this process (`fit_in_process`) or elsewhere (scale.ray_train)."""

    def __call__(self, sequences: Sequence[np.ndarray], n_items: int, config: SASRecConfig, *,
                 valid: tuple[Sequence[np.ndarray], np.ndarray] | None,
                 item_init: np.ndarray | None, on_epoch: Any) -> SASRec: ...


def fit_in_process(sequences: Sequence[np.ndarray], n_items: int, config: SASRecConfig, *,
                   valid: tuple[Sequence[np.ndarray], np.ndarray] | None,
                   item_init: np.ndarray | None, on_epoch: Any,
                   warm_start: WarmStart | None = None) -> SASRec:
    """The default trainer: one process, `config.threads` torch threads."""
    return SASRec(config).fit(sequences, n_items, valid=valid, item_init=item_init,
                              on_epoch=on_epoch, warm_start=warm_start)


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

    def fit_incremental(self, data: Interactions, items: ItemIndex, products: Sequence[Product],
                        previous: SequentialRetriever, changed: np.ndarray, *,
                        replay_share: float = 0.2,
                        valid: tuple[Sequence[np.ndarray], np.ndarray] | None = None,
                        on_epoch: Any = None) -> SequentialRetriever:
        """Continue the serving model `previous` (models.incremental): train on the sequences
        of shoppers with new events (`changed`, one flag per shopper of `data`) and a replay
        sample of the others; new items start from their titles. Always in this process."""
        old = previous._model()
        if (old.config.dim, old.config.n_blocks, old.config.max_len) != (
                self.config.dim, self.config.n_blocks, self.config.max_len):
            raise ValueError("the serving model's shape differs from this configuration; "
                             "retrain from scratch")
        self._set_catalogue(items, products)
        sequences = incremental_sequences([items.encode(seq) for seq in data.sequences],
                                          changed, replay_share, seed=self.config.seed)
        title_init = None
        if self.use_titles and any(p.title for p in products):
            from shopsense.models.text_init import title_vectors
            title_init = title_vectors(products, items.ids, self.config.dim)
        start = WarmStart(old, item_map(previous._require_items(), items))
        self.model_ = fit_in_process(sequences, len(items), self.config, valid=valid,
                                     item_init=title_init, on_epoch=on_epoch, warm_start=start)
        self.model_.info_["incremental"].update(
            training_sequences=len(sequences), changed_shoppers=int(np.sum(changed)),
            replay_share=replay_share)
        return self

    def _model(self) -> SASRec:
        if self.model_ is None:
            raise RuntimeError("SequentialRetriever is not fitted")
        return self.model_

    def score_all(self, context: RecContext) -> np.ndarray:
        history = self.recent_indices(context)
        if history.size == 0:
            return np.full(len(self._require_items()), -np.inf)
        return self._model().score_request(history)

    def request_scores(self, context: RecContext) -> np.ndarray | SparseRow:
        """`score_all` below the model's `scan_min_items`; above, the quantised scan's
        candidates (`SASRec.request_scores`), empty where no recent item is known."""
        model = self._model()
        if model._scanned() is None:
            return super().request_scores(context)
        history = self.recent_indices(context)
        if history.size == 0:
            return SparseRow(len(self._require_items()), np.zeros(0, np.int64), np.zeros(0))
        return model.request_scores(history)

    def score_many(self, contexts: Sequence[RecContext]) -> np.ndarray:
        """`score_all` of many contexts in one batched forward pass (equal within float32
        rounding to the one-request path); one request at a time where that path is
        two-stage (a million items), so an evaluation of the served path scores as it serves."""
        histories = [self.recent_indices(c) for c in contexts]
        out = np.full((len(contexts), len(self._require_items())), -np.inf)
        rows = [r for r, h in enumerate(histories) if h.size]
        model = self._model()
        if rows and model._two_stage() is not None:
            out[rows] = [model.score_request(histories[r]) for r in rows]
        elif rows:
            out[rows] = model.score([histories[r] for r in rows])
        return out

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
