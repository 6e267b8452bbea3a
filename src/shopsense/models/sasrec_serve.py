"""SASRec serving: a shopper's state, every item's score, and a large catalogue's faster
paths (the two-stage IVF, models.sasrec_ivf; the quantised scan, models.sasrec_scan). The
base of `models.sasrec.SASRec`, which holds the network and the training."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from shopsense.models.parallel import _threads
from shopsense.models.sasrec_ivf import ItemPartition
from shopsense.models.sasrec_net import SASRecNet
from shopsense.models.sasrec_numpy import encode_small, numpy_weights
from shopsense.models.sasrec_scan import QuantisedScan
from shopsense.models.sequences import left_pad
from shopsense.models.sparse_scores import SparseRow

if TYPE_CHECKING:
    from shopsense.models.sasrec import SASRecConfig


class SASRecServing:
    """Scores from a trained `net_` (set by `SASRec`)."""

    config: SASRecConfig
    n_items_: int
    net_: SASRecNet | None
    _numpy_: tuple[SASRecNet, dict[str, Any]] | None
    _ivf_: tuple[SASRecNet, ItemPartition, np.ndarray] | None
    _scan_: tuple[SASRecNet, QuantisedScan, np.ndarray] | None

    def encode(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        """User/session states (B, dim) from dense-index histories (empty ones allowed).
        A few histories (a serving request) go through `_encode_small`, the same network in
        numpy; batches through torch."""
        if 0 < len(histories) <= 4:
            return self._encode_small(histories)
        net = self._require()
        net.eval()
        out = []
        with torch.no_grad(), _threads(self.config.threads):
            for start in range(0, len(histories), 1024):
                seqs = torch.from_numpy(left_pad(histories[start:start + 1024],
                                                 self.config.max_len))
                out.append(net(seqs)[:, -1, :].numpy())
        return np.concatenate(out) if out else np.zeros((0, net.out_dim), np.float32)

    def _encode_small(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        """`encode` in numpy for one request's histories (models.sasrec_numpy): ~5x less
        time than torch's per-operator overhead at this size, equal within float32 rounding
        (tests/recs/test_sasrec_serving.py). The weights are views that follow training."""
        net = self._require()
        if self._numpy_ is None or self._numpy_[0] is not net:
            self._numpy_ = (net, numpy_weights(net))
        return encode_small(self._numpy_[1], self.config.max_len, self.config.dim,
                            self.config.n_heads, histories)

    def item_vectors(self) -> np.ndarray:
        """(n_items, dim) output embeddings."""
        return self._require().item_weights().detach().numpy()

    def score(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        """Scores (B, n_items) of every item as the next one after each history (exact)."""
        return self.encode(histories) @ self.item_vectors().T

    def score_request(self, history: np.ndarray) -> np.ndarray:
        """One serving request's (n_items,) float64 scores: `score`'s below
        `ivf_min_items` items, two-stage above (exact on the items near the shopper's
        state, their list's mean score elsewhere: models.sasrec_ivf)."""
        two_stage = self._two_stage()
        if two_stage is None:
            return self.score([history])[0].astype(np.float64)
        return two_stage[0].scores(self.encode([history])[0], two_stage[1])

    def request_scores(self, history: np.ndarray) -> np.ndarray | SparseRow:
        """What a for-you request reads: `score_request`'s dense vector below
        `scan_min_items` items; above, the quantised scan's best `scan_candidates` items
        scored exactly, any other item's exact score on demand, and the estimated log-softmax
        normaliser (models.sasrec_scan), so no catalogue-long vector is written."""
        scanned = self._scanned()
        if scanned is None:
            return self.score_request(history)
        return scanned[0].request(self.encode([history])[0], scanned[1])

    def _scanned(self) -> tuple[QuantisedScan, np.ndarray] | None:
        """The quantised scan of this network's item table (built once per network, ~2
        CPU-s at 1M items) and the table; None below `scan_min_items`."""
        net = self.net_
        if net is None or not 0 < self.config.scan_min_items <= self.n_items_:
            return None
        if self._scan_ is None or self._scan_[0] is not net:
            table = np.ascontiguousarray(self.item_vectors(), dtype=np.float32)
            scan = QuantisedScan.build(table, self.config.scan_candidates,
                                       seed=self.config.seed)
            self._scan_ = (net, scan, table)
        return self._scan_[1], self._scan_[2]

    def _two_stage(self, partition: ItemPartition | None = None
                   ) -> tuple[ItemPartition, np.ndarray] | None:
        """The item partition of this network and its list-ordered table (built once per
        network: after training, on load, or on the first request of a network set from
        outside); None below `ivf_min_items`."""
        net = self.net_
        if net is None or not 0 < self.config.ivf_min_items <= self.n_items_:
            return None
        if self._ivf_ is None or self._ivf_[0] is not net:
            table = self.item_vectors()
            partition = partition or ItemPartition.build(table, seed=self.config.seed)
            self._ivf_ = (net, partition, partition.grouped(table))
        return self._ivf_[1], self._ivf_[2]

    def _require(self) -> SASRecNet:
        if self.net_ is None:
            raise RuntimeError("SASRec is not fitted")
        return self.net_
