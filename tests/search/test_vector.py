"""Vector indexes: approximate vs exact recall, in-place add / remove, save / load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shopsense.index.vector import (
    ApproximateVectorIndex,
    ExactVectorIndex,
    load_vector_index,
    make_vector_index,
    pq_subquantizers,
)


def _clustered(n: int, dim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(40, dim))
    x = centres[rng.integers(0, 40, n)] + 0.6 * rng.normal(size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_exact_top_k_equals_brute_force() -> None:
    x = _clustered(500, 16, 0)
    index = ExactVectorIndex(16)
    index.add([str(i) for i in range(500)], x)
    ids, scores = index.search(x[7], 10)
    expected = np.argsort(-(x @ x[7]), kind="stable")[:10]
    assert ids == [str(i) for i in expected]
    assert ids[0] == "7" and scores[0] == pytest.approx(1.0, abs=1e-5)
    got = index.vectors_of(["3", "missing", "7", "3"])
    assert np.array_equal(got, np.stack([x[3], np.zeros(16, np.float32), x[7], x[3]]))
    assert index.vectors_of([]).shape == (0, 16)


def test_approximate_recall_against_exact() -> None:
    x = _clustered(20_000, 32, 1)
    ids = [str(i) for i in range(len(x))]
    approx = make_vector_index(32, ids, x, exact_threshold=10_000, seed=0)
    assert isinstance(approx, ApproximateVectorIndex)
    exact = approx.exact
    queries = _clustered(50, 32, 2)
    recall = np.mean([len(set(approx.search(q, 10)[0]) & set(exact.search(q, 10)[0])) / 10
                      for q in queries])
    assert recall >= 0.9


def test_approximate_add_and_remove_are_visible() -> None:
    x = _clustered(3000, 16, 3)
    index = make_vector_index(16, [str(i) for i in range(3000)], x, 1000)
    assert isinstance(index, ApproximateVectorIndex)
    probe = -x[0]
    index.add(["new"], probe[None, :])
    assert index.search(probe, 1)[0] == ["new"]
    index.remove(["new"])
    assert "new" not in index.search(probe, 5)[0]
    assert len(index) == 3000


def test_small_catalogues_get_an_exact_index() -> None:
    x = _clustered(100, 8, 4)
    assert isinstance(make_vector_index(8, [str(i) for i in range(100)], x, 1000),
                      ExactVectorIndex)


def test_save_load_keeps_results(tmp_path: Path) -> None:
    x = _clustered(2500, 16, 5)
    index = make_vector_index(16, [str(i) for i in range(2500)], x, 1000)
    index.remove(["3"])
    index.save(tmp_path)
    loaded = load_vector_index(tmp_path)
    assert type(loaded) is type(index)
    for q in x[:5]:
        assert loaded.search(q, 5)[0] == index.search(q, 5)[0]


def test_approximate_index_keeps_a_half_precision_store(tmp_path: Path) -> None:
    x = _clustered(2500, 16, 6)
    index = make_vector_index(16, [str(i) for i in range(2500)], x, 1000)
    assert isinstance(index, ApproximateVectorIndex)
    assert index.exact.vectors_.dtype == np.float16  # half the memory of float32
    ids, cosines = index.search(x[11], 5)
    assert ids[0] == "11"
    assert np.allclose(cosines, x[[int(i) for i in ids]] @ x[11], atol=2e-3)
    assert index.vectors_of(["11"]).dtype == np.float32
    index.save(tmp_path)
    loaded = load_vector_index(tmp_path)
    assert isinstance(loaded, ApproximateVectorIndex)
    assert loaded.exact.vectors_.dtype == np.float16
    assert loaded.search(x[11], 5)[0] == ids


@pytest.mark.parametrize("dim", [512, 384, 32, 16, 12, 10, 7, 1])
def test_coarse_codes_split_the_dimensions_evenly(dim: int) -> None:
    m = pq_subquantizers(dim)
    assert dim % m == 0 and 1 <= m <= max(1, dim // 2)


def test_rejects_mismatched_input() -> None:
    with pytest.raises(ValueError):
        ExactVectorIndex(0)
    with pytest.raises(ValueError):
        ExactVectorIndex(4).add(["a", "b"], np.zeros((1, 4), np.float32))
    with pytest.raises(ValueError, match="float64"):
        ExactVectorIndex(4, dtype="float64")


def _full_scan(index: ExactVectorIndex, query: np.ndarray, k: int) -> list[str]:
    """The float32 scan of every row, as `search` answered before its half-precision scan."""
    scores = index.scores(query)
    return index._top(scores, np.arange(len(scores)), k)[0]


@pytest.mark.parametrize("dim", [64, 512])
def test_half_precision_scan_gives_the_exact_top_k(dim: int) -> None:
    """A catalogue past 2,048 rows is scanned in half precision and the shortlist re-scored:
    the same ids in the same order as the float32 scan, after removals (dead rows in the
    shortlist) and additions (rows the half-precision copy does not hold yet, then a rebuild),
    for small and large k."""
    x = _clustered(6200, dim, 4)
    index = ExactVectorIndex(dim)
    index.add([str(i) for i in range(5000)], x[:5000])
    rng = np.random.default_rng(5)
    queries = [x[i] + 0.3 * rng.normal(size=dim).astype(np.float32) for i in range(0, 6000, 97)]
    queries = [q / np.linalg.norm(q) for q in queries]

    def check() -> None:
        for q in queries:
            for k in (1, 10, 50, 300):
                assert index._half_scan(q, k) is not None  # the bound held: no full scan
                assert index.search(q, k)[0] == _full_scan(index, q, k)

    check()
    first = index._half
    index.remove([str(i) for i in range(0, 5000, 3)])  # a third of the rows dead
    check()
    index.add([str(i) for i in range(5000, 5400)], x[5000:5400])  # scanned in float32
    check()
    assert index._half is first
    index.add([str(i) for i in range(5400, 6200)], x[5400:6200])  # past 1,024: rebuilt
    check()
    assert index._half is not first and index._half.rows == index._n


def test_half_precision_scan_steps_aside_when_it_cannot_prove_the_order() -> None:
    """Rows closer than the rounding bound (here 3,000 near-copies of one vector, the query
    just as close to each) leave the shortlist unprovable: the float32 scan answers, exactly.
    A small catalogue or a float16 store is never half-scanned."""
    rng = np.random.default_rng(6)
    base = rng.normal(size=128).astype(np.float32)
    x = base + 1e-5 * rng.normal(size=(3000, 128)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    index = ExactVectorIndex(128)
    index.add([str(i) for i in range(3000)], x)
    query = base / np.linalg.norm(base)
    assert index._half_scan(query, 20) is None
    assert index.search(query, 20)[0] == _full_scan(index, query, 20)
    small = ExactVectorIndex(128)
    small.add([str(i) for i in range(100)], x[:100])
    assert small._half_scan(query, 5) is None
    half_store = ExactVectorIndex(128, dtype="float16")
    half_store.add([str(i) for i in range(3000)], x)
    assert half_store._half_scan(query, 5) is None
