"""The shared shape of a candidate source: dense scores over the catalogue -> Candidates.

A source implements `score_all(context) -> (n_items,) float array` (non-finite = cannot
propose) and optionally `evidence(context, index) -> dict`; `retrieve` (the Retriever
protocol), category filters and exclusions live here once.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from shopsense.domain import Candidate, Product
from shopsense.models.context import RecContext, as_context, top_indices
from shopsense.models.sequences import ItemIndex
from shopsense.models.sparse_scores import SparseRow


class DenseSource:
    """Base for sources that score every item; subclasses set `name` and `score_all`."""

    name: str = "source"

    def __init__(self) -> None:
        self.items_: ItemIndex | None = None
        self.categories_: list[str] | None = None

    # -- helpers for subclasses ---------------------------------------------------------
    def _set_catalogue(self, items: ItemIndex, products: Sequence[Product] = ()) -> None:
        self.items_ = items
        by_id = {p.item_id: p.category for p in products}
        self.categories_ = [by_id.get(item_id, "") for item_id in items.ids]

    def _require_items(self) -> ItemIndex:
        if self.items_ is None:
            raise RuntimeError(f"{type(self).__name__} is not fitted")
        return self.items_

    def recent_indices(self, context: RecContext) -> np.ndarray:
        """Known recent items as indices, oldest first; read-only, and encoded once for the
        same items asked again in a row (a request's scores, top items and evidence)."""
        items = self._require_items()
        memo = getattr(self, "_recent_memo", None)
        if memo is not None and memo[0] is items and memo[1] == context.recent_items:
            return memo[2]
        indices = items.encode(context.recent_items)
        indices.flags.writeable = False
        self._recent_memo = (items, context.recent_items, indices)
        return indices

    # -- the protocol --------------------------------------------------------------------
    def score_all(self, context: RecContext) -> np.ndarray:
        raise NotImplementedError

    def request_scores(self, context: RecContext) -> np.ndarray | SparseRow:
        """One request's scores as the for-you blend reads them: `score_all` as float64, or
        for a source that knows its candidates at a large catalogue a `SparseRow` (SASRec's
        quantised scan, co-visits) so the request writes no catalogue-long vector."""
        return np.asarray(self.score_all(context), dtype=np.float64)

    def score_many(self, contexts: Sequence[RecContext]) -> np.ndarray:
        """`score_all` of several contexts, (len(contexts), n_items); sources that batch
        well (one matrix product, one forward pass) override it (an offline evaluation
        scores thousands of shoppers)."""
        n = len(self._require_items())
        return np.stack([np.asarray(self.score_all(c), dtype=np.float64) for c in contexts]) \
            if contexts else np.zeros((0, n))

    def evidence(self, context: RecContext, index: int) -> dict[str, Any]:
        return {}

    def evidence_many(self, context: RecContext, indices: Sequence[int]) -> list[dict[str, Any]]:
        """`evidence` for several items at once; sources override it to share the work."""
        return [self.evidence(context, int(i)) for i in indices]

    def retrieve(self, query: Any, k: int, *, exclude: Collection[str] = ()) -> list[Candidate]:
        """Top-`k` items for a context / item id / item-id list, best first."""
        context = as_context(query)
        return self.retrieve_scored(context, self.request_scores(context), k, exclude=exclude)

    def retrieve_scored(self, context: RecContext, scores: np.ndarray | SparseRow, k: int, *,
                        exclude: Collection[str] = ()) -> list[Candidate]:
        """`retrieve` over scores already computed for this context (a request that reads
        the same scores again, e.g. the blend's, computes them once)."""
        chosen, ids, values = self.top_scored(context, scores, k, exclude=exclude)
        evidence = self.evidence_many(context, chosen) if chosen else []
        name = self.name
        return [Candidate(item_id=i, score=v, signals={name: v}, evidence=ev)
                for i, v, ev in zip(ids, values, evidence, strict=True)]

    def top(self, context: RecContext, k: int, exclude: Collection[str] = ()
            ) -> tuple[list[int], list[str], list[float]]:
        """`retrieve` as (indices, item ids, scores), without evidence or Candidates (the
        for-you path builds those only for the items it may show: pipeline.recommend_pool)."""
        return self.top_scored(context, self.request_scores(context), k, exclude=exclude)

    def top_scored(self, context: RecContext, scores: np.ndarray | SparseRow, k: int, *,
                   exclude: Collection[str] = ()) -> tuple[list[int], list[str], list[float]]:
        items = self._require_items()
        banned = items.encode(exclude)  # repeats allowed: they only mask an item twice
        if context.category:
            banned = np.concatenate([banned, np.asarray(
                self._outside_category(context.category), dtype=np.int64)])
        chosen = (scores.top(k, banned) if isinstance(scores, SparseRow)
                  else top_indices(scores, k, banned)).tolist()
        return chosen, [items.ids[i] for i in chosen], scores[chosen].tolist()

    def _outside_category(self, category: str) -> list[int]:
        cats = self.categories_ or [""] * len(self._require_items())
        prefix = category.strip() + " > "
        return [i for i, c in enumerate(cats) if not (c == category.strip() or
                                                     c.startswith(prefix))]

    # -- persistence shared by subclasses ----------------------------------------------------
    def _save_common(self, directory: Path, config: dict[str, Any]) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "config.json").write_text(json.dumps({"name": self.name, **config},
                                                          ensure_ascii=False, indent=2))
        self._require_items().save(directory / "items.json")
        (directory / "categories.json").write_text(
            json.dumps(self.categories_ or [], ensure_ascii=False))

    @staticmethod
    def _load_common(directory: Path) -> tuple[dict[str, Any], ItemIndex, list[str]]:
        config = json.loads((directory / "config.json").read_text())
        items = ItemIndex.load(directory / "items.json")
        categories = json.loads((directory / "categories.json").read_text())
        return config, items, categories or [""] * len(items)


def event_weight(kind: str) -> float:
    """Implicit-feedback strength of an event type; unknown kinds (plain interactions) = 1."""
    from shopsense.domain import EVENT_WEIGHTS

    return EVENT_WEIGHTS.get(kind, 1.0)
