"""Nearest-neighbour search over unit vectors: exact below a size threshold, approximate above.

`ExactVectorIndex` keeps an (n, dim) matrix (float32; float16 when it only re-scores) and scans
it. `ApproximateVectorIndex` wraps an exact index (same `search()` / `add()` / `remove()`), adds
a faiss IVF index of 4-bit product-quantised codes scanned with SIMD ("fast scan", dim / 4
bytes a vector) for the coarse search and re-scores the shortlist from the exact store.
`make_vector_index` picks one by size. Additions and removals are applied in place.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from shopsense.index.catalog import tombstone
from shopsense.index.filter import ProductFilter


class VectorIndex(Protocol):
    dim: int
    applies_filters: bool  # whether search() evaluates `where` itself

    def add(self, item_ids: Sequence[str], vectors: np.ndarray) -> None: ...

    def remove(self, item_ids: Iterable[str]) -> int: ...

    def search(self, query: np.ndarray, k: int, *, where: ProductFilter | None = None
               ) -> tuple[list[str], np.ndarray]:
        """Top-`k` (item_ids, cosines) for a (dim,) unit query, best first. An index that
        holds product attributes (pgvector) applies `where`; in-process ones ignore it."""
        ...

    def vectors_of(self, item_ids: Sequence[str]) -> np.ndarray: ...

    def __len__(self) -> int: ...

    def save(self, directory: Path) -> None: ...


STORE_DTYPES = ("float32", "float16")


class ExactVectorIndex:
    """Brute-force inner product over a growing matrix; removed rows are tombstoned.

    `dtype="float16"` halves the memory of the store (cosines then differ by ~1e-3); it suits
    an index that re-scores shortlists, not full scans (numpy has no fast float16 product)."""

    kind = "exact"
    applies_filters = False

    def __init__(self, dim: int, dtype: str = "float32") -> None:
        if dim <= 0:
            raise ValueError("dim must be positive")
        if dtype not in STORE_DTYPES:
            raise ValueError(f"vector store dtype {dtype!r} is not one of {STORE_DTYPES}")
        self.dim = dim
        self.dtype = dtype
        self.vectors_ = np.zeros((0, dim), dtype=dtype)
        self.item_ids_: list[str] = []
        self.row_of_: dict[str, int] = {}
        self.alive_ = np.zeros(0, dtype=bool)
        self._n = 0  # rows in use (the matrix grows geometrically)
        self._half: _HalfScan | None = None  # half-precision copies of rows for `search`

    def __len__(self) -> int:
        return len(self.row_of_)

    def add(self, item_ids: Sequence[str], vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, dtype=self.dtype).reshape(-1, self.dim)
        if len(item_ids) != len(vectors):
            raise ValueError(f"{len(item_ids)} ids for {len(vectors)} vectors")
        self.remove(item_ids)
        need = self._n + len(item_ids)
        if self._n == 0 and len(self.vectors_) == 0:  # first batch: adopt, do not copy
            self.vectors_ = np.ascontiguousarray(vectors)
            self.alive_ = np.zeros(need, dtype=bool)
        elif need > len(self.vectors_):
            grown = np.zeros((max(need, int(len(self.vectors_) * 1.25) + 16), self.dim),
                             dtype=self.dtype)
            grown[:self._n] = self.vectors_[:self._n]
            self.vectors_ = grown
            alive = np.zeros(len(grown), dtype=bool)
            alive[:self._n] = self.alive_[:self._n]
            self.alive_ = alive
        self.vectors_[self._n:need] = vectors
        self.alive_[self._n:need] = True
        for offset, item_id in enumerate(item_ids):
            self.row_of_[item_id] = self._n + offset
            self.item_ids_.append(item_id)
        self._n = need

    def remove(self, item_ids: Iterable[str]) -> int:
        return tombstone(self.row_of_, self.alive_, item_ids)

    def scores(self, query: np.ndarray) -> np.ndarray:
        """Cosine of every row in use (dead rows: -inf); shape (rows,)."""
        query = np.asarray(query, dtype=np.float32)
        out = np.empty(self._n, dtype=np.float32)
        for start in range(0, self._n, 65_536):  # float16 rows are widened a block at a time
            stop = min(start + 65_536, self._n)
            out[start:stop] = self.vectors_[start:stop].astype(np.float32, copy=False) @ query
        out[~self.alive_[:self._n]] = -np.inf
        return out

    def search(self, query: np.ndarray, k: int, *, where: ProductFilter | None = None
               ) -> tuple[list[str], np.ndarray]:
        """`where` is ignored: no product attributes here (the pipeline filters after)."""
        query = np.asarray(query, dtype=np.float32)
        found = self._half_scan(query, k)
        if found is not None:
            return found
        scores = self.scores(query)
        return self._top(scores, np.arange(len(scores)), k)

    def _half_scan(self, query: np.ndarray, k: int) -> tuple[list[str], np.ndarray] | None:
        """The exact top `k` read from half the bytes: a SIMD scan of half-precision copies of
        the rows (faiss), its shortlist and the rows added since re-scored in float32. None
        (the full scan answers) where the shortlist cannot be shown to hold the exact top k:
        a row left out scores at most the shortlist's last approximate score plus the
        rounding bound, which must stay under the k-th exact score. A cold search's float32
        scan read the whole matrix from memory (3,200 x 512: ~0.55 ms); this reads half."""
        if self.dtype != "float32" or self._n < _HALF_SCAN_MIN_ROWS or k <= 0:
            return None
        half = self._half
        if half is None or self._n - half.rows > max(1024, half.rows // 8):
            half = self._half = _HalfScan.of(self.vectors_[:self._n])
            if half is None:
                return None
        want = min(half.rows, 2 * k + 32)
        approx, rows = half.index.search(query[None], want)
        approx, rows = approx[0], rows[0]
        ids, scores = self.rescore(query, np.concatenate([rows, np.arange(half.rows, self._n)]),
                                   k)
        if want < half.rows:  # rows were left out: is each below the k-th listed score?
            bound = half.error * float(np.linalg.norm(query))
            if len(ids) < k or not float(approx[-1]) + bound < float(scores[-1]):
                return None
        return ids, scores

    def rescore(self, query: np.ndarray, rows: np.ndarray, k: int
                ) -> tuple[list[str], np.ndarray]:
        """Exact top-`k` among the given rows."""
        rows = rows[(rows >= 0) & (rows < self._n)]
        rows = rows[self.alive_[rows]]
        scores = self.vectors_[rows].astype(np.float32) @ np.asarray(query, dtype=np.float32)
        return self._top(scores, rows, k)

    def _top(self, scores: np.ndarray, rows: np.ndarray, k: int) -> tuple[list[str], np.ndarray]:
        k = min(k, int(np.isfinite(scores).sum()))
        if k <= 0:
            return [], np.zeros(0, dtype=np.float32)
        part = np.arange(len(scores))
        if len(scores) > k:  # keep every tie at the boundary so ties resolve by row
            part = np.flatnonzero(scores >= -np.partition(-scores, k - 1)[k - 1])
        order = part[np.lexsort((rows[part], -scores[part]))][:k]
        return [self.item_ids_[r] for r in rows[order]], scores[order].astype(np.float32)

    def vectors_of(self, item_ids: Sequence[str]) -> np.ndarray:
        """(len(item_ids), dim); zero rows for unknown ids."""
        rows = np.fromiter((self.row_of_.get(i, -1) for i in item_ids), dtype=np.int64,
                           count=len(item_ids))
        unknown = rows < 0
        if unknown.all():
            return np.zeros((len(item_ids), self.dim), dtype=np.float32)
        # one gather into a new array (a row at a time: ~2 ms at 250; np.zeros then writing
        # into it: ~1 ms, the fresh pages touched on every call)
        out = np.take(self.vectors_, np.where(unknown, 0, rows), axis=0)
        out = out.astype(np.float32, copy=False)
        out[unknown] = 0.0
        return out

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        live = np.flatnonzero(self.alive_[:self._n])
        np.save(directory / "vectors.npy", self.vectors_[live])
        (directory / "vector_ids.json").write_text(json.dumps(
            [self.item_ids_[r] for r in live], ensure_ascii=False))
        (directory / "vector_config.json").write_text(json.dumps(
            {"kind": self.kind, "dim": self.dim, "dtype": self.dtype}))

    @classmethod
    def load(cls, directory: Path) -> ExactVectorIndex:
        config = json.loads((directory / "vector_config.json").read_text())
        index = cls(int(config["dim"]), config.get("dtype", "float32"))
        ids = json.loads((directory / "vector_ids.json").read_text(encoding="utf-8"))
        index.add(ids, np.load(directory / "vectors.npy"))
        return index


_HALF_SCAN_MIN_ROWS = 2048  # below, the float32 matrix (4 MB at 512-d) is read as fast


class _HalfScan:
    """A faiss flat index of float16 codes of an exact index's first `rows` rows (ids = row
    numbers), and `error`: the most a score it gives can differ from the float32 product,
    per unit of the query's norm (fp16 rounding of each component, 2^-11 relative, plus the
    float32 sums of both products, over the longest row)."""

    def __init__(self, index: object, rows: int, error: float) -> None:
        self.index, self.rows, self.error = index, rows, error

    @classmethod
    def of(cls, vectors: np.ndarray) -> _HalfScan | None:
        import faiss

        norms = np.linalg.norm(vectors, axis=1)
        if not np.isfinite(norms).all() or np.abs(vectors).max(initial=0.0) > 6e4:
            return None  # beyond float16's range
        dim = vectors.shape[1]
        index = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_fp16,
                                           faiss.METRIC_INNER_PRODUCT)
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        error = (2.0 ** -11 + 2 * dim * 2.0 ** -24) * float(norms.max(initial=0.0)) * 1.01
        return cls(index, len(vectors), error)


class ApproximateVectorIndex:
    """faiss IVF shortlist over an exact index, re-scored from the exact store.

    The coarse index holds 4-bit product-quantised residuals (one sub-quantiser per 2
    dimensions, scanned with SIMD): at 1M x 512-d it is 128 MB and a query probing 83 of 1,000
    lists scans them in ~0.9 ms, where 8-bit scalar codes took 512 MB and ~4.6 ms; re-scoring
    the same 200-item shortlist exactly leaves recall unchanged (Home Depot USE vectors:
    recall@10 / @50 0.876 / 0.837 either way; benchmarks/README.md).
    Defaults: sqrt(n) lists trained on 40 points each, probing 1/12 of them (at least 16)."""

    kind = "approximate"
    applies_filters = False

    def __init__(self, exact: ExactVectorIndex, *, n_lists: int | None = None,
                 n_probe: int | None = None, shortlist: int = 200, seed: int = 0) -> None:
        self.exact = exact
        self.dim = exact.dim
        self.n_lists = n_lists
        self.n_probe = n_probe
        self.shortlist = shortlist
        self.seed = seed
        self.ivf_: object | None = None

    def __len__(self) -> int:
        return len(self.exact)

    def fit(self) -> ApproximateVectorIndex:
        """Train the coarse quantiser on the exact index's live vectors and index them all."""
        import faiss

        live = np.flatnonzero(self.exact.alive_[:self.exact._n])
        if live.size == 0:
            raise ValueError("cannot train an approximate index on an empty exact index")
        n_lists = self.n_lists or int(max(1, min(np.sqrt(live.size), live.size // 39)))
        ivf = faiss.IndexIVFPQFastScan(faiss.IndexFlatIP(self.dim), self.dim, n_lists,
                                       pq_subquantizers(self.dim), 4,
                                       faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(self.seed)
        sample = live if live.size <= 40 * n_lists else np.sort(
            rng.choice(live, 40 * n_lists, replace=False))
        ivf.cp.seed = self.seed
        ivf.train(self._float32(sample))
        self.ivf_, self.n_lists = ivf, n_lists
        self._index_rows(live)
        self.n_probe = self.n_probe or max(16, n_lists // 12)
        ivf.nprobe = self.n_probe
        return self

    def _float32(self, rows: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(self.exact.vectors_[rows], dtype=np.float32)

    def _index_rows(self, rows: np.ndarray) -> None:
        """Add exact-store rows to the IVF lists, a block at a time (no full float32 copy)."""
        for start in range(0, len(rows), 65_536):
            block = rows[start:start + 65_536].astype(np.int64)
            self.ivf_.add_with_ids(self._float32(block), block)  # type: ignore[attr-defined]

    def add(self, item_ids: Sequence[str], vectors: np.ndarray) -> None:
        self.remove(item_ids)
        start = self.exact._n
        self.exact.add(item_ids, vectors)
        if self.ivf_ is not None:
            self._index_rows(np.arange(start, self.exact._n, dtype=np.int64))

    def remove(self, item_ids: Iterable[str]) -> int:
        item_ids = list(item_ids)
        rows = [self.exact.row_of_[i] for i in item_ids if i in self.exact.row_of_]
        if self.ivf_ is not None and rows:
            self.ivf_.remove_ids(np.asarray(rows, dtype=np.int64))
        return self.exact.remove(item_ids)

    def search(self, query: np.ndarray, k: int, *, where: ProductFilter | None = None
               ) -> tuple[list[str], np.ndarray]:
        """`where` is ignored, as in the exact index."""
        if self.ivf_ is None:
            return self.exact.search(query, k)
        query = np.asarray(query, dtype=np.float32).reshape(1, -1)
        _, rows = self.ivf_.search(query, max(k, self.shortlist))
        return self.exact.rescore(query[0], rows[0], k)

    def vectors_of(self, item_ids: Sequence[str]) -> np.ndarray:
        return self.exact.vectors_of(item_ids)

    def save(self, directory: Path) -> None:
        """The exact vectors only; the IVF lists are retrained on load (seeded)."""
        self.exact.save(directory)
        config = json.loads((directory / "vector_config.json").read_text())
        config.update(kind=self.kind, n_probe=self.n_probe, shortlist=self.shortlist,
                      seed=self.seed)
        (directory / "vector_config.json").write_text(json.dumps(config))


def make_vector_index(dim: int, item_ids: Sequence[str], vectors: np.ndarray,
                      exact_threshold: int, *, seed: int = 0) -> ExactVectorIndex | ApproximateVectorIndex:
    """Exact index when fewer than `exact_threshold` items, else an approximate one around a
    float16 exact store (it only re-scores shortlists there)."""
    if len(item_ids) < exact_threshold:
        exact = ExactVectorIndex(dim)
        exact.add(item_ids, vectors)
        return exact
    exact = ExactVectorIndex(dim, dtype="float16")
    exact.add(item_ids, vectors)
    return ApproximateVectorIndex(exact, seed=seed).fit()


def pq_subquantizers(dim: int) -> int:
    """Sub-quantisers of the coarse codes: one per 2 dimensions (a divisor of `dim`); one per
    4 lost a third of recall@10 on clustered 32-d data (tests/search/test_vector.py)."""
    m = max(1, dim // 2)
    while dim % m:
        m -= 1
    return m


def load_vector_index(directory: Path) -> ExactVectorIndex | ApproximateVectorIndex:
    config = json.loads((directory / "vector_config.json").read_text())
    exact = ExactVectorIndex.load(directory)
    if config.get("kind") != "approximate":
        return exact
    return ApproximateVectorIndex(exact, n_probe=config["n_probe"],
                                  shortlist=config["shortlist"], seed=config["seed"]).fit()
