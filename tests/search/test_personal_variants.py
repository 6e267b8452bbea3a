"""The dismissed-variant penalty (rank/personal.py `_variants`) against the pairwise loop it
replaced: every candidate checked against every dismissed item, the first of the largest
penalties kept. Random catalogues with shared brands and categories, vectors close and far,
dismissals of different ages, candidates that were themselves dismissed."""

from __future__ import annotations

import random

import numpy as np
import pytest

from shopsense.domain import Product, UserProfile
from shopsense.rank.personal import PersonalReranker


def _pairwise(rr: PersonalReranker, profile: UserProfile, products: list[Product], now: float,
              vectors: np.ndarray | None, gone: list[Product],
              gone_vectors: np.ndarray | None) -> tuple[np.ndarray, list[dict]]:
    penalty = np.zeros(len(products), np.float32)
    evidence: list[dict] = [{} for _ in products]
    cos = vectors @ gone_vectors.T if vectors is not None and gone_vectors is not None else None
    for j, product in enumerate(products):
        if product.item_id in profile.dismissed:
            continue
        for d, other in enumerate(gone):
            same = (product.brand and product.brand == other.brand
                    and product.category == other.category)
            close = cos is not None and cos[j, d] >= rr.variant_cosine
            if same or close:
                value = rr.variant_penalty * rr.decay(profile.dismissed[other.item_id], now)
                if value > penalty[j]:
                    penalty[j] = value
                    evidence[j]["variant_of_dismissed"] = other.item_id
    return penalty, evidence


def _unit(rng: np.random.Generator, n: int, base: np.ndarray) -> np.ndarray:
    out = base[rng.integers(0, len(base), n)] + rng.normal(0, 0.25, (n, base.shape[1]))
    return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("seed", range(40))
def test_variants_match_the_pairwise_loop(seed: int) -> None:
    rng, pick = np.random.default_rng(seed), random.Random(seed)
    brands = ["", "Gree", "格力", "Nike", "Apple"][: pick.randint(1, 5)]
    categories = ["家电 > 空调", "鞋 > 跑鞋", "手机数码 > 手机"][: pick.randint(1, 3)]
    catalogue = [Product(f"P{i:03d}", f"t{i}", brand=pick.choice(brands),
                         category=pick.choice(categories)) for i in range(60)]
    now = 1_800_000_000.0
    dismissed = pick.sample(catalogue, pick.randint(1, 6))
    # equal ages give equal penalties: the first dismissed item must win the tie
    ages = [pick.choice([0.0, 86400.0 * 3, 86400.0 * 30]) for _ in dismissed]
    profile = UserProfile("u", dismissed={p.item_id: now - a for p, a in
                                          zip(dismissed, ages, strict=True)})
    candidates = pick.sample(catalogue, pick.randint(1, 40))
    with_vectors = seed % 4 != 0
    base = rng.normal(size=(3, 8))
    vectors = _unit(rng, len(candidates), base) if with_vectors else None
    gone_vectors = _unit(rng, len(dismissed), base) if with_vectors else None
    rr = PersonalReranker(variant_cosine=0.8)
    got = rr.adjust(profile, candidates, now, vectors, dismissed, gone_vectors)
    want_penalty, want_evidence = _pairwise(rr, profile, candidates, now, vectors, dismissed,
                                            gone_vectors)
    own = np.array([c.item_id in profile.dismissed for c in candidates])
    assert np.array_equal(got.penalty[~own], want_penalty[~own])
    assert [e.get("variant_of_dismissed") for e in got.evidence] == \
        [e.get("variant_of_dismissed") for e in want_evidence]


def test_some_cases_have_variants() -> None:
    """The random cases above are not all empty: variants by kind and by vector both occur."""
    rr = PersonalReranker(variant_cosine=0.8)
    gone = Product("D", "d", brand="Gree", category="家电 > 空调")
    kin = Product("K", "k", brand="Gree", category="家电 > 空调")
    near = Product("N", "n", brand="Nike", category="鞋 > 跑鞋")
    far = Product("F", "f", brand="", category="家电 > 空调")
    profile = UserProfile("u", dismissed={"D": 1_800_000_000.0})
    vectors = np.array([[1, 0], [0.99, 0.141], [0, 1]], np.float32)
    got = rr.adjust(profile, [kin, near, far], 1_800_000_000.0, vectors, [gone],
                    np.array([[1, 0]], np.float32))
    assert [e.get("variant_of_dismissed") for e in got.evidence] == ["D", "D", None]
    assert got.penalty.tolist() == [1.5, 1.5, 0.0]
