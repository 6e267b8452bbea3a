"""SASRec's scores at a very large catalogue: a quantised scan of the whole item table,
then exact scores for the best few thousand items only.

The exact request reads the whole (n_items, dim) float32 table (256 MB at 1M x 64: 14-16 ms
of one core, memory-bound) and hands a 1M-long vector to the blend, its log-softmax and three
top-k passes. `QuantisedScan` keeps the table as 4-bit product-quantised codes (faiss
fast-scan PQ, dim / 2 sub-quantisers of 2 dims, inner product: 16 bytes an item, 16 MB at
1M) and scans them with SIMD for the `candidates` best items by quantised score (~2 ms at
1M), which are then scored exactly from the float32 table (a gather of their rows). Every
other item's exact score is computed only if something asks for it (`SparseRow.rest`: a
ranker feature of an item another source proposed). The log-softmax normaliser over every
item is the candidates' exact exponentials plus the other items' mass estimated from a
fixed uniform sample of `sample` items scored exactly (unbiased for that mass; the same
shift for every item of a request, so it changes no order within the request: its error is
stated in benchmarks/README.md). Used from `SASRecConfig.scan_min_items` items
(`SASRec.request_scores`); the exact path below it is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shopsense.models.sparse_scores import SparseRow


@dataclass
class QuantisedScan:
    """`index` (faiss IndexPQFastScan over `table`'s rows), `sample` (ascending item
    indices) and `sample_rows` (their float32 rows, contiguous), `candidates` per request."""

    index: object
    sample: np.ndarray
    sample_rows: np.ndarray
    candidates: int

    @classmethod
    def build(cls, table: np.ndarray, candidates: int = 2048, sample: int = 32_768,
              seed: int = 0, train_rows: int = 65_536) -> QuantisedScan:
        """PQ codebooks trained (one thread) on up to `train_rows` rows drawn with `seed`."""
        import faiss

        table = np.ascontiguousarray(table, dtype=np.float32)
        n, dim = table.shape
        rng = np.random.default_rng(seed)
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        try:
            index = faiss.IndexPQFastScan(dim, max(1, dim // 2), 4, faiss.METRIC_INNER_PRODUCT)
            rows = rng.choice(n, min(n, train_rows), replace=False) if n > train_rows \
                else np.arange(n)
            index.train(table[np.sort(rows)])
            index.add(table)
        finally:
            faiss.omp_set_num_threads(threads)
        drawn = np.sort(rng.choice(n, min(n, sample), replace=False))
        return cls(index, drawn, np.ascontiguousarray(table[drawn]), int(candidates))

    def request(self, state: np.ndarray, table: np.ndarray) -> SparseRow:
        """One request's SASRec logits as a `SparseRow`: the scan's `candidates` best items
        with their exact scores, every other item's exact score on demand, and the
        estimated log-softmax normaliser."""
        state = np.ascontiguousarray(state, dtype=np.float32)
        n = len(table)  # one query: faiss scans it on one thread (it splits over queries)
        _, found = self.index.search(state[None], min(self.candidates, n))  # type: ignore[attr-defined]
        index = np.unique(found[found >= 0])
        values = (table[index] @ state).astype(np.float64)

        def rest(wanted: np.ndarray) -> np.ndarray:
            return (table[wanted] @ state).astype(np.float64)

        return SparseRow(n, index, values, rest=rest,
                         normaliser=self.normaliser(state, index, values, n))

    def normaliser(self, state: np.ndarray, index: np.ndarray, values: np.ndarray,
                   n: int) -> float:
        """log sum_i exp(s_i): the candidates' terms exactly, the other n - |candidates|
        items' as their count x the mean exp over the sample items outside the candidates."""
        top = float(values.max()) if values.size else 0.0
        total = float(np.exp(values - top).sum())
        if index.size:  # `index` ascending: membership by binary search
            at = np.minimum(np.searchsorted(index, self.sample), index.size - 1)
            outside = index[at] != self.sample
        else:
            outside = np.ones(self.sample.size, dtype=bool)
        others = n - index.size
        if others > 0 and outside.any():
            drawn = (self.sample_rows @ state)[outside].astype(np.float64)  # no row copy
            total += others * float(np.exp(drawn - top).mean())
        return top + float(np.log(total))
