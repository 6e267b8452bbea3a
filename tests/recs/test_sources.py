"""Retriever contract suite, parametrised over every candidate source, plus known answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from shopsense.domain import Event, Product
from shopsense.models.context import RecContext
from shopsense.models.interactions import Interactions
from shopsense.models.sequences import ItemIndex
from shopsense.pipeline.recommend import SOURCE_KINDS, RecommendationEngine
from shopsense.retrieve.base import Retriever
from shopsense.retrieve.content import ContentRetriever
from shopsense.retrieve.covisit import CovisitRetriever
from shopsense.retrieve.popular import TrendingRetriever

SOURCES = ("popular", "trending", "covisit", "bought_together", "als", "content", "sasrec")
PERSONAL = ["covisit", "als", "content"]  # sasrec: see the next-item test


@pytest.fixture(scope="module")
def fitted(engine: RecommendationEngine) -> dict[str, Any]:
    """The sources as `train_all` fitted them (each shopper's last event held out)."""
    assert set(engine.sources) == set(SOURCES)
    assert {type(src) for src in engine.sources.values()} == set(SOURCE_KINDS.values())
    return engine.sources


def _context(kind: int = 1) -> RecContext:
    return RecContext(user_id=None, recent_items=(f"k{kind}i2", f"k{kind}i3", f"k{kind}i4"))


@pytest.mark.parametrize("name", list(SOURCES))
def test_contract(fitted: dict[str, Any], name: str) -> None:
    source = fitted[name]
    assert isinstance(source, Retriever)
    exclude = {"k1i5", "k1i1"}
    got = source.retrieve(_context(), 8, exclude=exclude)
    assert len(got) <= 8
    ids = [c.item_id for c in got]
    assert len(set(ids)) == len(ids)
    assert not exclude.intersection(ids)
    scores = [c.score for c in got]
    assert scores == sorted(scores, reverse=True)
    assert all(c.signals.get(source.name) == c.score for c in got)
    assert source.retrieve(_context(), 0) == []


@pytest.mark.parametrize("name", list(SOURCES))
def test_save_load_round_trip(fitted: dict[str, Any], name: str, tmp_path: Path) -> None:
    source = fitted[name]
    source.save(tmp_path / name)
    again = type(source).load(tmp_path / name)
    before = [(c.item_id, round(c.score, 5)) for c in source.retrieve(_context(), 10)]
    after = [(c.item_id, round(c.score, 5)) for c in again.retrieve(_context(), 10)]
    assert before == after


@pytest.mark.parametrize("name", PERSONAL)
def test_known_answer_same_kind(fitted: dict[str, Any], name: str) -> None:
    """A shopper who looked at coffee gets coffee: most of the top 5 are the same kind."""
    for kind in range(5):
        got = fitted[name].retrieve(_context(kind), 5, exclude=_context(kind).recent_items)
        same = sum(c.item_id.startswith(f"k{kind}i") for c in got)
        assert same >= 3, (name, kind, [c.item_id for c in got])


@pytest.mark.parametrize("name", ["covisit", "sasrec"])
def test_sequence_sources_know_what_comes_next(fitted: dict[str, Any], name: str) -> None:
    """Shoppers walk i, i+1, i+2: after k1i2..k1i4 the next item k1i5 is in the top 3."""
    got = [c.item_id for c in fitted[name].retrieve(_context(1), 3, exclude=_context(1).recent_items)]
    assert "k1i5" in got


def test_category_filter_limits_popular(fitted: dict[str, Any]) -> None:
    got = fitted["popular"].retrieve(RecContext(category="Sports"), 30)
    assert got and all(c.item_id.startswith(("k0", "k3")) for c in got)
    assert fitted["popular"].retrieve(RecContext(category="Sports > Yoga"), 30)[0].item_id[:2] == "k3"


def test_covisit_observe_takes_effect_at_once(fitted: dict[str, Any], tmp_path: Path) -> None:
    fitted["covisit"].save(tmp_path / "c")
    source = CovisitRetriever.load(tmp_path / "c")  # a private copy: the fixture is shared
    assert all(c.item_id != "k4i0" for c in source.retrieve("k0i0", 50))
    for n, item in enumerate(["k0i0", "k4i0"] * 3):
        source.observe(Event(event_id=f"live{n}", event_type="view", timestamp=2e9 + n,
                             session_id="live", item_id=item))
    got = source.retrieve("k0i0", 50)
    assert "k4i0" in [c.item_id for c in got]
    assert next(c for c in got if c.item_id == "k4i0").evidence["because_item"] == "k0i0"
    source.save(tmp_path / "again")  # what was observed online survives a save
    assert "k4i0" in [c.item_id for c in CovisitRetriever.load(tmp_path / "again").retrieve(
        "k0i0", 50)]


def test_content_serves_new_items_from_text(products: list[Product]) -> None:
    """An item nobody interacted with still gets similar items from its title."""
    new = Product(item_id="new1", title="ultra light running shoes", category="Sports > Running Shoes")
    catalogue = [*products, new]
    items = ItemIndex(p.item_id for p in catalogue)
    source = ContentRetriever().fit(None, items, catalogue)
    got = source.retrieve("new1", 5, exclude={"new1"})
    assert sum(c.item_id.startswith("k0") for c in got) >= 4


def test_trending_prefers_rising_items(interactions: Interactions, products: list[Product]) -> None:
    items = ItemIndex(p.item_id for p in products)
    source = TrendingRetriever().fit(interactions, items, products)
    now = source.short_.now_
    for n in range(20):
        source.observe(Event(event_id=f"t{n}", event_type="purchase", timestamp=now,
                             user_id=f"x{n}", item_id="k2i7"))
    assert source.retrieve(RecContext(), 1)[0].item_id == "k2i7"
    assert np.isfinite(source.score_all(RecContext())).sum() >= 1


def test_recent_indices_follow_the_items_asked_and_the_catalogue() -> None:
    """A source encodes a request's recent items once (a read-only memo); other items, or a
    catalogue refitted in place, are encoded again."""
    products = [Product(f"p{n}", f"item {n}") for n in range(5)]
    source = ContentRetriever().fit(None, ItemIndex(p.item_id for p in products), products,
                                    vectors=np.ones((5, 4), np.float32))
    first = source.recent_indices(RecContext(recent_items=("p1", "p3", "unknown")))
    assert first.tolist() == [1, 3] and not first.flags.writeable
    assert source.recent_indices(RecContext(recent_items=("p1", "p3", "unknown"))) is first
    assert source.recent_indices(RecContext(recent_items=("p3", "p4"))).tolist() == [3, 4]
    source.fit(None, ItemIndex(["p4", "p3"]), products, vectors=np.ones((2, 4), np.float32))
    assert source.recent_indices(RecContext(recent_items=("p3", "p4"))).tolist() == [1, 0]
