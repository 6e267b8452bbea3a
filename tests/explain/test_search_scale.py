"""Search explanations on one scale: the serving ranker's contributions sum to the shown score
(the rest is named), reasons cite shares of that score, words as the shopper typed them."""

from __future__ import annotations

import pytest

from shopsense.domain import Product
from shopsense.explain.reasons import reasons_for
from shopsense.pipeline.search import SearchEngine

PRODUCTS = [
    Product("h1", "Sony noise cancelling headphones", category="手机数码 > 耳机", brand="Sony",
            price=1999),
    Product("h2", "Bose QuietComfort headphones", category="手机数码 > 耳机", brand="Bose",
            price=2299),
    Product("h3", "索尼 降噪 耳机", category="手机数码 > 耳机", brand="索尼", price=1899),
    Product("a1", "Gree air conditioner", category="家电 > 空调", brand="Gree", price=2999),
]


@pytest.fixture(scope="module")
def engine() -> SearchEngine:
    return SearchEngine.build(PRODUCTS)


def test_contributions_sum_to_the_shown_score(engine: SearchEngine) -> None:
    for query in ("noise cancelling headphones", "耳机", "headphones"):
        for r in engine.search(query, k=5).results:
            parts = r.evidence["contributions"]
            assert abs(sum(parts.values()) + r.evidence["unexplained"] - r.score) < 1e-4
            if "ranker" in r.signals:  # ranked: nothing left unexplained
                assert abs(r.evidence["unexplained"]) < 1e-4


def test_reasons_cite_words_as_typed_on_the_score_scale(engine: SearchEngine) -> None:
    top = engine.search("noise cancelling headphones", k=1).results[0]
    terms = {t for hits in top.evidence["matched"].values() for t in hits}
    assert {"noise", "cancelling", "headphones"} <= terms
    assert not {"nois", "cancel", "headphon"} & terms
    reasons = reasons_for(top, {p.item_id: p for p in PRODUCTS})
    matched = next(r for r in reasons if r.code == "matched_terms")
    assert "cancelling" in matched.text_en and "cancell," not in matched.text_en
    assert 0 < matched.contribution <= top.score + 1e-6
    assert sum(r.contribution for r in reasons if r.contribution > 0) <= top.score + 1e-4
