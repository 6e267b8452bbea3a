"""User profiles: weighted, decayed affinities; price band; recent items; dismissals."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shopsense.domain import Event
from shopsense.features.profile import build_profile, profiles_from_events

DAY = 86_400.0
T = 1_700_000_000.0


def ev(kind: str, days_ago: float, item: str, user: str = "a") -> Event:
    return Event(f"{kind}{days_ago}{item}{user}", kind, T - days_ago * DAY, user_id=user,
                 item_id=item)


def test_affinities_follow_event_weights_and_recency(shop_products) -> None:
    events = [ev("view", 1, "p0_0"), ev("cart", 1, "p2_0"), ev("view", 1, "p1_0", user="b")]
    profile = build_profile("a", events, shop_products, T)
    # cart weighs 3, view 1, same age: 面霜 gets 3/4 of the category share
    assert profile.category_affinity == pytest.approx({"美妆 > 面霜": 0.75, "家电 > 空调": 0.25})
    assert sum(profile.brand_affinity.values()) == pytest.approx(1.0)
    assert profile.n_events == 2
    old_new = [ev("view", 30, "p0_0"), ev("view", 0, "p1_0")]
    decayed = build_profile("a", old_new, shop_products, T, half_life_days=30)
    assert decayed.category_affinity["家电 > 冰箱"] == pytest.approx(2 / 3)


def test_recent_items_band_purchases_and_dismissals(shop_products) -> None:
    events = [ev("view", 5, "p0_0"), ev("view", 4, "p0_1"), ev("view", 3, "p0_0"),
              ev("dismiss", 2, "p1_1"), ev("dismiss", 2, "p1_2"), ev("purchase", 1, "p1_2"),
              ev("view", -1, "p3_0")]  # in the future of `now`: ignored
    profile = build_profile("a", events, shop_products, T)
    assert profile.recent_items == ("p1_2", "p0_0", "p0_1")
    assert profile.dismissed == {"p1_1": T - 2 * DAY}  # bought later: no longer dismissed
    assert profile.purchased == {"p1_2": T - DAY}
    low, high = profile.price_band
    assert shop_products["p0_0"].price <= low <= high <= shop_products["p1_2"].price
    assert build_profile("nobody", events, shop_products, T).category_affinity == {}


def test_batch_profiles_match_single(shop_events, shop_products) -> None:
    sample = shop_events[:3000]
    batch = profiles_from_events(sample, shop_products, T + 30 * DAY)
    for user in list(batch)[:5]:
        assert batch[user] == build_profile(user, sample, shop_products, T + 30 * DAY)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["view", "cart", "purchase", "dismiss", "rate"]),
                          st.floats(0, 100), st.sampled_from(["p0_0", "p1_3", "p2_5", "p3_7"])),
                max_size=25))
def test_property_affinities_are_distributions(shop_products, rows) -> None:
    events = [ev(kind, age, item) for kind, age, item in rows]
    profile = build_profile("a", events, shop_products, T)
    for table in (profile.category_affinity, profile.brand_affinity):
        assert not table or sum(table.values()) == pytest.approx(1.0)
        assert all(v >= 0 for v in table.values())
    assert len(profile.recent_items) == len(set(profile.recent_items))
    assert set(profile.dismissed) <= {i for k, _, i in rows if k == "dismiss"}
    assert set(profile.purchased) == {i for k, _, i in rows if k == "purchase"}


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 33])
def test_quartiles_interpolate_as_numpy_does(n) -> None:
    """The price band's quartiles (a hand-written replacement for np.percentile, which cost
    ~1 ms a call on the recommendation path) match numpy's default interpolation."""
    import random

    import numpy as np

    from shopsense.features.profile import quartiles

    rng = random.Random(n)
    for _ in range(20):
        values = [rng.uniform(1, 5000) for _ in range(n)]
        assert np.allclose(quartiles(values), np.percentile(values, [25, 75]))
