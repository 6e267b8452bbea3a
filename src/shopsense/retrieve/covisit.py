"""Which items go together? Co-views within sessions and bought-together from carts/purchases.

Counts pairs of items that occur within `window` steps of each other in the same session
(weight 1/distance), normalised by the target item's popularity (count / n_j ** alpha) so
best-sellers do not follow everything. `observe(event)` adds pairs from a live session at
once (in memory), so the next request reflects it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from shopsense.domain import Event, Product
from shopsense.models.context import RecContext, recency_weights
from shopsense.models.interactions import NON_INTERACTIONS, Interactions
from shopsense.models.sequences import ItemIndex
from shopsense.models.source_base import DenseSource
from shopsense.models.sparse_scores import SparseRow

SESSION_GAP_S = 30 * 60.0


def session_runs(data: Interactions, items: ItemIndex, event_types: Collection[str] | None,
                 gap_s: float = SESSION_GAP_S, by_session: bool = True
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Flat (item index, session number) arrays; sessions from session ids, else user +
    time gaps, else the whole user history (always, when not `by_session`). Only
    `event_types` kept (None = all)."""
    if not by_session:
        gap_s = float("inf")
    flat_items: list[int] = []
    flat_sessions: list[int] = []
    session_no = 0
    for u, seq in enumerate(data.sequences):
        kinds = data.kinds[u] if data.kinds is not None else None
        sids = data.sessions[u] if data.sessions is not None and by_session else None
        times = data.timestamps[u] if data.timestamps is not None else None
        previous: tuple[Any, float] | None = None
        session_no += 1
        for j, item_id in enumerate(seq):
            if event_types is not None and kinds is not None and kinds[j] not in event_types:
                continue
            i = items.get(item_id)
            if i < 0:
                continue
            key = sids[j] if sids is not None else None
            stamp = times[j] if times is not None else 0.0
            if previous is not None and (key != previous[0] or stamp - previous[1] > gap_s):
                session_no += 1
            previous = (key, stamp)
            flat_items.append(i)
            flat_sessions.append(session_no)
    return np.asarray(flat_items, np.int64), np.asarray(flat_sessions, np.int64)


def pair_counts(flat_items: np.ndarray, flat_sessions: np.ndarray, n_items: int,
                window: int) -> sparse.csr_matrix:
    """Symmetric (n_items, n_items) co-occurrence weights: sum of 1/distance within window."""
    rows, cols, vals = [], [], []
    for distance in range(1, window + 1):
        same = flat_sessions[distance:] == flat_sessions[:-distance]
        a, b = flat_items[:-distance][same], flat_items[distance:][same]
        keep = a != b
        a, b = a[keep], b[keep]
        rows += [a, b]
        cols += [b, a]
        vals += [np.full(a.size, 1.0 / distance), np.full(a.size, 1.0 / distance)]
    if not rows:
        return sparse.csr_matrix((n_items, n_items))
    matrix = sparse.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                               shape=(n_items, n_items))
    return matrix.tocsr()


class CovisitRetriever(DenseSource):
    """Item-to-item co-occurrence. `event_types={"cart","purchase"}` gives bought-together."""

    def __init__(self, name: str = "covisit", window: int = 5, alpha: float = 0.5,
                 event_types: Collection[str] | None = None, decay: float = 0.7,
                 by_session: bool = True) -> None:
        super().__init__()
        if window < 1:
            raise ValueError("window must be >= 1")
        self.name, self.window, self.alpha, self.decay = name, window, alpha, decay
        self.by_session = by_session
        self.event_types = None if event_types is None else sorted(event_types)
        self.matrix_: sparse.csr_matrix | None = None
        self.item_counts_: np.ndarray | None = None
        self.live_: dict[int, dict[int, float]] = defaultdict(dict)
        self.sessions_: dict[str, list[int]] = defaultdict(list)
        self._observed = 0  # online updates so far (part of the `_rows` memo's key)
        self._rows_memo: tuple[tuple[Any, ...], tuple[np.ndarray, np.ndarray]] | None = None

    def fit(self, data: Interactions, items: ItemIndex,
            products: Sequence[Product] = ()) -> CovisitRetriever:
        self._set_catalogue(items, products)
        types = None if self.event_types is None else set(self.event_types)
        flat_items, flat_sessions = session_runs(data, items, types, by_session=self.by_session)
        self.matrix_ = pair_counts(flat_items, flat_sessions, len(items), self.window)
        self.item_counts_ = np.bincount(flat_items, minlength=len(items)).astype(np.float64)
        self.live_ = defaultdict(dict)
        self.sessions_ = self._session_tails(data, items, types)
        return self

    def _session_tails(self, data: Interactions, items: ItemIndex,
                       types: Collection[str] | None) -> defaultdict[str, list[int]]:
        """Each shopper's last `window` items of their last session, keyed as `observe`
        keys sessions, so an event after training pairs with the items before it as `fit`
        would have paired them (without this, a served engine's replayed held-out events and
        a shopper's first event after a retrain formed no pairs)."""
        tails: defaultdict[str, list[int]] = defaultdict(list)
        for u, seq in enumerate(data.sequences):
            sids = data.sessions[u] if data.sessions is not None and self.by_session else None
            kinds = data.kinds[u] if data.kinds is not None else None
            tail: list[int] = []
            for j in range(len(seq) - 1, -1, -1):
                if (sids is not None and sids[j] != sids[-1]) or len(tail) >= self.window:
                    break
                i = items.get(seq[j])
                if i >= 0 and (types is None or kinds is None or kinds[j] in types):
                    tail.append(i)
            key = (sids[-1] if sids else None) or data.users[u]
            if tail and key:
                tails[key] = tail[::-1]
        return tails

    def observe(self, event: Event) -> None:
        """Add the pairs this event forms with the same session's recent items."""
        items = self._require_items()
        if (not event.item_id or event.event_type in NON_INTERACTIONS or
                (self.event_types is not None and event.event_type not in self.event_types)):
            return
        i = items.get(event.item_id)
        if i < 0 or self.item_counts_ is None:
            return
        recent = self.sessions_[(event.session_id if self.by_session else None) or event.actor]
        for distance, j in enumerate(reversed(recent[-self.window:]), start=1):
            if j != i:
                self.live_[i][j] = self.live_[i].get(j, 0.0) + 1.0 / distance
                self.live_[j][i] = self.live_[j].get(i, 0.0) + 1.0 / distance
        recent.append(i)
        del recent[:-self.window]
        self.item_counts_[i] += 1.0
        self._observed += 1  # the counts moved

    def _with_live(self) -> sparse.csr_matrix:
        """The trained pair matrix plus everything observed online (what `save` keeps)."""
        assert self.matrix_ is not None
        rows = [i for i, row in self.live_.items() for _ in row]
        cols = [j for row in self.live_.values() for j in row]
        vals = [w for row in self.live_.values() for w in row.values()]
        live = sparse.csr_matrix((vals, (rows, cols)), shape=self.matrix_.shape)
        return (self.matrix_ + live).tocsr()

    def _rows(self, anchors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(columns, rows): the items any anchor co-occurs with (sorted) and the anchors'
        normalised co-occurrence with them, (len(anchors), len(columns)), live counts
        included. Only those columns: at a million items a dense row per anchor would be
        8 MB, and every other column is 0."""
        if self.matrix_ is None or self.item_counts_ is None:
            raise RuntimeError("CovisitRetriever is not fitted")
        key = (anchors.tobytes(), id(self.matrix_), self._observed)
        memo = self._rows_memo  # score_all, then evidence, for one request
        if memo is not None and memo[0] == key:
            return memo[1]
        owner, indices, data = _csr_rows(self.matrix_, anchors)
        live = [self.live_.get(int(a), {}) for a in anchors.tolist()]
        live_columns = np.fromiter((j for row in live for j in row), dtype=np.int64)
        columns = np.union1d(indices, live_columns)
        rows = np.zeros((len(anchors), columns.size))
        np.add.at(rows, (owner, np.searchsorted(columns, indices)), data)
        if live_columns.size:  # one live weight per (anchor, column): a plain add each
            live_owner = np.repeat(np.arange(len(anchors)), [len(row) for row in live])
            np.add.at(rows, (live_owner, np.searchsorted(columns, live_columns)), np.fromiter(
                (w for row in live for w in row.values()), dtype=np.float64))
        rows /= np.maximum(self.item_counts_[columns], 1.0) ** self.alpha
        self._rows_memo = (key, (columns, rows))
        return columns, rows

    def score_all(self, context: RecContext) -> np.ndarray:
        anchors = self.recent_indices(context)[-self.window * 2:]
        total = np.full(len(self._require_items()), -np.inf)
        if anchors.size == 0:
            return total
        columns, rows = self._rows(anchors)
        summed = recency_weights(anchors.size, self.decay) @ rows
        total[columns] = np.where(summed > 0, summed, -np.inf)
        return total

    def request_scores(self, context: RecContext) -> SparseRow:
        """`score_all` as a `SparseRow` of the items it scores (> 0), -inf elsewhere: the
        same scores without the catalogue-long vector."""
        anchors = self.recent_indices(context)[-self.window * 2:]
        n = len(self._require_items())
        if anchors.size == 0:
            return SparseRow(n, np.zeros(0, dtype=np.int64), np.zeros(0))
        columns, rows = self._rows(anchors)
        summed = recency_weights(anchors.size, self.decay) @ rows
        positive = summed > 0
        return SparseRow(n, columns[positive].astype(np.int64), summed[positive])

    def evidence(self, context: RecContext, index: int) -> dict[str, Any]:
        """The recent item that contributes most: "because you viewed X"."""
        return self.evidence_many(context, [index])[0]

    def evidence_many(self, context: RecContext, indices: Sequence[int]) -> list[dict[str, Any]]:
        anchors = self.recent_indices(context)[-self.window * 2:]
        if anchors.size == 0:
            return [{} for _ in indices]
        columns, rows = self._rows(anchors)
        wanted = np.asarray(indices, dtype=np.int64)
        at = np.minimum(np.searchsorted(columns, wanted), max(columns.size - 1, 0))
        present = (columns[at] == wanted) if columns.size else np.zeros(wanted.size, bool)
        picked = np.where(present, rows[:, at] if columns.size else 0.0, 0.0)
        contrib = recency_weights(anchors.size, self.decay)[:, None] * picked
        best = np.argmax(contrib, axis=0)
        ids = self._require_items().ids
        return [{"because_item": ids[int(anchors[b])], "pair_weight": round(float(contrib[b, j]), 4)}
                for j, b in enumerate(best.tolist())]

    def save(self, directory: Path) -> None:
        self._save_common(directory, {"kind": "covisit", "window": self.window,
                                      "alpha": self.alpha, "decay": self.decay,
                                      "event_types": self.event_types,
                                      "by_session": self.by_session})
        assert self.matrix_ is not None and self.item_counts_ is not None
        sparse.save_npz(directory / "pairs.npz", self._with_live())
        np.save(directory / "item_counts.npy", self.item_counts_)

    @classmethod
    def load(cls, directory: Path) -> CovisitRetriever:
        config, items, categories = cls._load_common(directory)
        source = cls(config["name"], config["window"], config["alpha"], config["event_types"],
                     config["decay"], config.get("by_session", True))
        source.items_, source.categories_ = items, categories
        source.matrix_ = sparse.load_npz(directory / "pairs.npz").tocsr()
        source.item_counts_ = np.load(directory / "item_counts.npy", allow_pickle=False)
        return source


def _csr_rows(matrix: sparse.csr_matrix, rows: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`matrix[rows]` as (owner position in `rows`, column, value) of each stored entry, in
    storage order (what scipy's row indexing gives, without building a matrix)."""
    starts = matrix.indptr[rows]
    lengths = matrix.indptr[rows + 1] - starts
    at = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths) + np.arange(lengths.sum())
    return np.repeat(np.arange(len(rows)), lengths), matrix.indices[at], matrix.data[at]
