"""Reasons cite a result's contributions grouped (keyword, meaning, each intent / adjustment).
A search groups the ranker's part once per cached query stage and adds the shopper's parts
per request (`Contributions.grouped`); the reasons must be exactly those of grouping the shown
contributions from scratch, for every result of every search and shopper."""

from __future__ import annotations

import random
import time
from dataclasses import replace

import pytest

from shopsense.domain import UserProfile
from shopsense.explain.reasons import (
    _KEYWORD_PARTS,
    _MEANING_PARTS,
    Contributions,
    _parts,
    group_parts,
    reasons_for,
)
from shopsense.pipeline.search import SearchEngine

QUERIES = ["空调", "格力空调", "air conditioner", "运动鞋", "running shoes", "冰箱",
           "refrigerator", "手机", "smartphone", "television", "便宜的空调", "cheap phone",
           "李宁 运动鞋", "not nike shoes", "xyzzy"]


@pytest.mark.parametrize("seed", range(30))
def test_grouping_ahead_sums_as_grouping_afresh(seed: int) -> None:
    rng = random.Random(seed)
    names = [*sorted(_KEYWORD_PARTS), *sorted(_MEANING_PARTS), "intent.category",
             "intent.brand", "popularity", "base"]
    ranker = {n: round(rng.uniform(-1, 1) * 10 ** rng.randint(-6, 1), 6)
              for n in rng.sample(names, rng.randint(0, len(names)))}
    shown = {n: round(rng.uniform(-2, 2), 6) for n in
             rng.sample(["personal.boost", "personal.dismiss_penalty", "intent.boost",
                         "intent.value"], rng.randint(0, 4))}
    both = Contributions({**ranker, **shown})
    both.grouped = group_parts(shown.items(), dict(group_parts(ranker.items())))
    assert _parts({"contributions": both}) == _parts({"contributions": dict(both)})


def _profiles(engine: SearchEngine, now: float) -> list[UserProfile | None]:
    some = [r.item_id for r in engine.search("空调", k=3).results]
    return [None,
            UserProfile("fan", category_affinity={"鞋靴 > 运动鞋": 0.3, "家电 > 空调": 0.2},
                        brand_affinity={"李宁": 0.5, "格力": 0.4}, price_band=(100.0, 3000.0)),
            UserProfile("picky", dismissed={i: now - 3600 for i in some[:2]},
                        category_affinity={"家电": 1.0})]


def test_search_reasons_are_those_of_the_shown_contributions(
        bilingual_engine: SearchEngine) -> None:
    now = time.time()
    ahead = 0
    for profile in _profiles(bilingual_engine, now):
        for query in QUERIES:
            for r in bilingual_engine.search(query, k=10, profile=profile, now=now).results:
                shown = r.evidence.get("contributions")
                if getattr(shown, "grouped", None) is not None:
                    ahead += 1
                afresh = replace(r, evidence={**r.evidence, "contributions": dict(shown or {})})
                assert reasons_for(r, {}) == reasons_for(afresh, {}), (query, r.item_id)
                assert _parts(r.evidence) == _parts(afresh.evidence)
    assert ahead > 50
