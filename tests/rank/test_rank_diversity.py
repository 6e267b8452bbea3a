"""Diversity: caps hold, MMR trades relevance for variety, pins stay put."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shopsense.domain import Candidate, Product
from shopsense.rank.diversity import (
    attribute_similarity,
    cap_per_category,
    category_key,
    diversify,
    mmr,
)

CATEGORIES = ("家电 > 空调", "家电 > 冰箱", "美妆 > 面霜", "食品 > 零食")
PRODUCTS = {f"i{n}": Product(f"i{n}", f"item {n}", category=CATEGORIES[n % 4 if n < 8 else 0],
                             brand="A" if n % 2 else "B") for n in range(24)}


def test_mmr_with_lambda_one_keeps_score_order_and_lower_lambda_diversifies() -> None:
    # three air conditioners first
    cands = [Candidate(f"i{n}", 10.0 - rank) for rank, n in enumerate((0, 8, 12, 1, 2))]
    sim = attribute_similarity(PRODUCTS)
    assert [c.item_id for c in mmr(cands, sim, k=5, lambda_=1.0)] == ["i0", "i8", "i12", "i1", "i2"]
    varied = mmr(cands, sim, k=3, lambda_=0.3)
    assert len({PRODUCTS[c.item_id].category for c in varied}) == 3
    assert varied[1].signals["mmr.redundancy"] <= 0.5


def test_pinned_candidate_stays_at_its_position() -> None:
    cands = [Candidate(f"i{n}", 10.0 - n) for n in range(6)]
    cands[5].evidence["pinned_position"] = 1
    out = diversify(cands, PRODUCTS, k=4, similarity=attribute_similarity(PRODUCTS), lambda_=0.5)
    assert out[1].item_id == "i5" and len(out) == 4


@settings(max_examples=150, deadline=None)
@given(
    scores=st.lists(st.floats(-10, 10), min_size=0, max_size=24),
    cap=st.integers(1, 4), k=st.integers(1, 30), level=st.sampled_from([None, 1]),
)
def test_property_caps_hold(scores: list[float], cap: int, k: int, level: int | None) -> None:
    cands = [Candidate(f"i{n}", s) for n, s in enumerate(scores)]
    out = cap_per_category(cands, PRODUCTS, max_per_category=cap, k=k, level=level)
    counts: dict[str, int] = {}
    for c in out:
        key = category_key(PRODUCTS[c.item_id], level)
        counts[key] = counts.get(key, 0) + 1
    assert all(v <= cap for v in counts.values())
    assert len(out) <= k and len({c.item_id for c in out}) == len(out)
    n_keys = len({category_key(PRODUCTS[c.item_id], level) for c in cands})
    assert len(out) == min(k, len(cands), sum(
        min(cap, sum(category_key(PRODUCTS[c.item_id], level) == key for c in cands))
        for key in {category_key(PRODUCTS[c.item_id], level) for c in cands})) or n_keys == 0
    filled = diversify(cands, PRODUCTS, k=k, max_per_category=cap, level=level, backfill=True)
    assert len(filled) == min(k, len(cands))


@settings(max_examples=100, deadline=None)
@given(scores=st.lists(st.floats(-10, 10), min_size=0, max_size=24),
       cat_cap=st.integers(1, 5), brand_cap=st.integers(1, 5), k=st.integers(1, 30))
def test_property_brand_and_category_caps_hold_together(scores: list[float], cat_cap: int,
                                                        brand_cap: int, k: int) -> None:
    cands = [Candidate(f"i{n}", s) for n, s in enumerate(scores)]
    out = diversify(cands, PRODUCTS, k=k, max_per_category=cat_cap, max_per_brand=brand_cap,
                    similarity=attribute_similarity(PRODUCTS), lambda_=0.5, backfill=False)
    for key_of, cap in ((lambda p: p.category, cat_cap), (lambda p: p.brand, brand_cap)):
        keys = [key_of(PRODUCTS[c.item_id]) for c in out]
        assert all(keys.count(key) <= cap for key in keys)
    assert len(out) <= k


@settings(max_examples=200, deadline=None)
@given(
    scores=st.lists(st.floats(-5, 5, allow_nan=False), min_size=0, max_size=24),
    k=st.integers(1, 12),
    cat_cap=st.one_of(st.none(), st.integers(1, 4)),
    brand_cap=st.one_of(st.none(), st.integers(1, 4)),
    backfill=st.booleans(),
)
def test_one_pass_capped_greedy_equals_the_step_by_step_loop(
        scores: list[float], k: int, cat_cap: int | None, brand_cap: int | None,
        backfill: bool) -> None:
    # without a similarity the loop's values never change: the one-pass path must pick the
    # same items in the same order as the general loop (forced here by a zero similarity)
    cands = [Candidate(f"i{n}", s) for n, s in enumerate(scores)]
    options = {"k": k, "lambda_": 1.0, "max_per_category": cat_cap, "max_per_brand": brand_cap,
               "backfill": backfill}
    fast = diversify(cands, PRODUCTS, **options)
    loop = diversify(cands, PRODUCTS, similarity=lambda a, b: 0.0, **options)
    assert [c.item_id for c in fast] == [c.item_id for c in loop]


def test_diversify_returns_copies_and_leaves_its_input_alone() -> None:
    """Only the placed candidates are copied (an evaluation ranks hundreds per shopper), but
    the caller's candidates never change, in the capped pass and in the MMR pass."""
    cands = [Candidate(f"i{n}", 10.0 - n, {"s": float(n)}) for n in range(12)]
    before = [(c.item_id, c.score, dict(c.signals), dict(c.evidence)) for c in cands]
    capped = diversify(cands, PRODUCTS, k=6, lambda_=1.0, max_per_category=1)
    varied = diversify(cands, PRODUCTS, k=6, similarity=attribute_similarity(PRODUCTS),
                       lambda_=0.5)
    for out in (capped, varied):
        assert not {id(c) for c in out} & {id(c) for c in cands}
        out[0].signals["changed"] = 1.0
    assert "mmr.redundancy" in varied[1].signals
    assert [(c.item_id, c.score, c.signals, c.evidence) for c in cands] == before
