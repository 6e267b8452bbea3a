"""Synthetic shop whose right answer is known: shoppers of one kind buy one kind of product."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from shopsense.domain import Event, Product
from shopsense.models.interactions import Interactions, interactions_from_events
from shopsense.models.sasrec import SASRecConfig
from shopsense.pipeline.recommend import RecommendationEngine
from shopsense.training.recs import TrainConfig, train_all

KINDS = [
    ("Sports > Running Shoes", "running shoes"),
    ("Home > Coffee", "coffee beans"),
    ("Electronics > Phone Cases", "phone case"),
    ("Sports > Yoga", "yoga mat"),
    ("Beauty > Skin Care", "face cream"),
]
ADJECTIVES = ["light", "classic", "premium", "budget", "travel", "pro", "eco", "deluxe",
              "mini", "max", "soft", "bold"]


@pytest.fixture(autouse=True)
def _seed() -> None:
    random.seed(0)
    np.random.seed(0)  # noqa: NPY002 - seeds any legacy global-RNG use
    torch.manual_seed(0)


def make_products(per_kind: int = 12) -> list[Product]:
    products = []
    for k, (category, noun) in enumerate(KINDS):
        for j in range(per_kind):
            products.append(Product(item_id=f"k{k}i{j}", title=f"{ADJECTIVES[j]} {noun}",
                                    category=category, brand=f"brand{j % 3}",
                                    price=float(10 * (k + 1) + j)))
    return products


def make_events(n_users: int = 150, per_kind: int = 12, seed: int = 0) -> list[Event]:
    """Each shopper of kind k walks items of kind k in order (i, i+1, ...), 3 per session."""
    rng = random.Random(seed)
    events = []
    t = 1_700_000_000.0
    for u in range(n_users):
        kind = u % len(KINDS)
        start = rng.randrange(per_kind)
        length = rng.randint(5, 9)
        for step in range(length):
            item = f"k{kind}i{(start + step) % per_kind}"
            kind_of_event = "purchase" if step % 3 == 2 else "view"
            t += rng.uniform(30, 300) if step % 3 else 7200
            events.append(Event(event_id=f"e{len(events)}", event_type=kind_of_event,
                                timestamp=t, user_id=f"u{u}", session_id=f"u{u}s{step // 3}",
                                item_id=item))
    events.sort(key=lambda e: e.timestamp)
    return events


@pytest.fixture(scope="session")
def products() -> list[Product]:
    return make_products()


@pytest.fixture(scope="session")
def events() -> list[Event]:
    return make_events()


@pytest.fixture(scope="session")
def interactions(events: list[Event]) -> Interactions:
    return interactions_from_events(events)


SMALL = TrainConfig(sasrec=SASRecConfig(dim=16, max_len=10, max_epochs=40, patience=40,
                                        batch_size=32, dropout=0.1, lr=1e-2, bf16=False),
                    ranker_users=150)


@pytest.fixture(scope="session")
def engine(interactions: Interactions, products: list[Product]) -> RecommendationEngine:
    """Every source and the ranker, trained once for the whole recs suite."""
    return train_all(interactions, products, SMALL)
