"""Who holds which events: every split keeps each event exactly once, in order."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shopsense.federated.splits import Client, SplitSpec, make_clients, split_by_platform


def _data(n_users: int = 200, n_items: int = 50, seed: int = 0):
    rng = np.random.default_rng(seed)
    users = [f"u{i}" for i in range(n_users)]
    seqs = [rng.integers(0, n_items, size=int(rng.integers(1, 15))) for _ in users]
    return users, seqs


@pytest.mark.parametrize("text", ["platform", "shop", "dirichlet:0.1", "dirichlet:1"])
def test_every_event_lands_in_exactly_one_client(text: str) -> None:
    users, seqs = _data()
    clients = make_clients(SplitSpec.parse(text), users, seqs, 3, n_items=50)
    assert len(clients) == 3
    held = sum(c.n_events for c in clients)
    assert held == sum(len(s) for s in seqs)
    if text != "platform":  # shoppers are disjoint between shops
        owners = [u for c in clients for u in c.users]
        assert len(owners) == len(set(owners)) == len(users)


def test_platform_split_keeps_order_and_uses_real_platforms() -> None:
    users = ["a", "b"]
    seqs = [np.array([1, 2, 3, 4]), np.array([5, 6])]
    platforms = [["web", "app", "web", "app"], ["app", "app"]]
    clients = split_by_platform(users, seqs, 2, platforms)
    web, app = clients
    assert web.name == "web" and web.users == ["a"]
    assert web.sequences[0].tolist() == [1, 3]
    assert app.users == ["a", "b"] and app.sequences[0].tolist() == [2, 4]
    assert web.meta["synthetic_platforms"] is False


def test_small_alpha_makes_shops_more_different() -> None:
    """Dirichlet(0.1) concentrates each item group in one shop; Dirichlet(100) spreads it."""
    rng = np.random.default_rng(1)
    n_items, users = 40, [f"u{i}" for i in range(600)]
    groups = np.arange(n_items) // 4  # 10 groups
    seqs = []
    for _ in users:
        g = int(rng.integers(0, 10))
        seqs.append(rng.integers(4 * g, 4 * g + 4, size=6))

    def concentration(alpha: float) -> float:
        clients = make_clients(SplitSpec("dirichlet", alpha), users, seqs, 4,
                               item_groups=groups, seed=3)
        counts = np.zeros((10, 4))
        for c, client in enumerate(clients):
            for s in client.sequences:
                counts[groups[s[0]], c] += 1
        return float((counts.max(axis=1) / counts.sum(axis=1)).mean())

    assert concentration(0.1) > concentration(100.0) + 0.2


@pytest.mark.parametrize("text", ["", "dirichlet", "dirichlet:0", "shop:2", "cities", "platform:1"])
def test_bad_split_names_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        SplitSpec.parse(text)


def test_too_many_clients_for_the_data_is_an_error() -> None:
    with pytest.raises(ValueError, match="hold no shoppers"):
        make_clients(SplitSpec("shop"), ["a"], [np.array([1, 2])], 3)


def test_erased_shoppers_leave_the_client() -> None:
    client = Client("web", ["a", "b"], [np.array([1]), np.array([2])])
    assert client.without({"a"}).users == ["b"]


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 6), st.integers(0, 1000))
def test_platform_split_never_loses_or_invents_events(n_clients: int, seed: int) -> None:
    users, seqs = _data(30, seed=seed)
    clients = split_by_platform(users, seqs, n_clients, seed=seed)
    for u, s in zip(users, seqs, strict=True):
        parts = [c.sequences[c.users.index(u)] for c in clients if u in c.users]
        assert sorted(np.concatenate(parts).tolist()) == sorted(s.tolist())
