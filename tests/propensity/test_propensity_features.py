"""Behaviour features are point-in-time: hand-checked values, and nothing after the cutoff
can change them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shopsense.domain import Event
from shopsense.features.behaviour import (
    CATEGORY_FEATURES,
    GENERAL_FEATURES,
    category_features,
    features_as_of,
    general_features,
    purchase_labels,
)
from shopsense.features.frame import EventFrame

DAY = 86_400.0
T = 1_700_000_000.0
G = {name: i for i, name in enumerate(GENERAL_FEATURES)}


def ev(kind: str, days_ago: float, item: str | None = "p0_0", user: str = "a",
       session: str = "s1", platform: str = "app") -> Event:
    return Event(f"{kind}{days_ago}{item}{user}", kind, T - days_ago * DAY, user_id=user,
                 session_id=session, item_id=item, platform=platform)


def test_hand_checked_values(shop_products) -> None:
    events = [ev("view", 0.5), ev("view", 3), ev("view", 20, session="s2", platform="web"),
              ev("cart", 2), ev("cart", 10, item="p1_0"), ev("purchase", 9, item="p1_0"),
              ev("purchase", 12, item="p1_0")]
    frame = EventFrame.build(events, shop_products)
    x = general_features(frame, T, frame.codes(["a", "nobody"]))
    a = x[0]
    assert a[G["views_1d"]] == pytest.approx(math.log1p(1))
    assert a[G["views_7d"]] == pytest.approx(math.log1p(2))
    assert a[G["views_30d"]] == pytest.approx(math.log1p(3))
    assert a[G["carts_30d"]] == pytest.approx(math.log1p(2))
    assert a[G["purchases_all"]] == pytest.approx(math.log1p(2))
    assert a[G["days_since_purchase"]] == pytest.approx(math.log1p(9))
    # the cart of p0_0 two days ago was not bought; the cart of p1_0 was bought a day later
    assert a[G["cart_abandon_rate_30d"]] == pytest.approx(0.5)
    assert a[G["open_carts_7d"]] == pytest.approx(math.log1p(1))
    assert a[G["spend_all"]] == pytest.approx(math.log1p(2 * shop_products["p1_0"].price))
    assert a[G["sessions_30d"]] == pytest.approx(math.log1p(2))
    assert a[G["share_web_30d"]] == pytest.approx(1 / 7)
    assert x[1][G["recency_days"]] == pytest.approx(math.log1p(365))
    cat = category_features(frame, T, frame.codes(["a"]), "家电 > 冰箱")[0]
    assert cat[CATEGORY_FEATURES.index("cat_purchases_all")] == pytest.approx(math.log1p(2))
    assert cat[CATEGORY_FEATURES.index("cat_views_30d")] == 0.0
    df = features_as_of(events, shop_products, T, ["a"])
    assert list(df.columns) == list(GENERAL_FEATURES)
    np.testing.assert_allclose(df.loc["a"].to_numpy(), a)


def test_labels_cover_the_window_only(shop_products) -> None:
    events = [ev("purchase", -1), ev("purchase", -10, user="b"), ev("view", 1, user="c")]
    frame = EventFrame.build(events, shop_products)
    labels = purchase_labels(frame, T, T + 7 * DAY, frame.codes(["a", "b", "c"]))
    assert labels.tolist() == [True, False, False]


@settings(max_examples=12, deadline=None)
@given(future=st.lists(st.tuples(st.sampled_from(["view", "cart", "purchase", "dismiss"]),
                                 st.floats(0.0, 30.0), st.sampled_from(["a", "b", "z"])),
                       max_size=20))
def test_no_leakage_from_events_after_the_cutoff(shop_events, shop_products, future) -> None:
    cutoff = shop_events[len(shop_events) // 2].timestamp
    past = [e for e in shop_events if e.timestamp < cutoff]
    extra = [Event(f"f{i}", kind, cutoff + days * DAY, user_id=f"user{user}", item_id="p0_1")
             for i, (kind, days, user) in enumerate(future)]
    users = ["user1", "user2", "usera", "userz"]
    before = EventFrame.build(past, shop_products)
    after = EventFrame.build(past + extra + [e for e in shop_events if e.timestamp >= cutoff],
                             shop_products)
    np.testing.assert_allclose(general_features(before, cutoff, before.codes(users)),
                               general_features(after, cutoff, after.codes(users)))
    np.testing.assert_allclose(
        category_features(before, cutoff, before.codes(users), "家电"),
        category_features(after, cutoff, after.codes(users), "家电"))


def test_every_feature_is_described_and_values_invert(shop_products) -> None:
    from shopsense.features.describe import FEATURE_TEXT, readable_value

    assert set(FEATURE_TEXT) == set(GENERAL_FEATURES) | set(CATEGORY_FEATURES)
    assert all(en and zh and en != zh for en, zh in FEATURE_TEXT.values())
    assert readable_value("views_7d", math.log1p(3)) == pytest.approx(3)
    assert readable_value("share_web_30d", 0.25) == 0.25


def test_feature_groups_cover_every_feature_once() -> None:
    from shopsense.features.describe import FEATURE_GROUPS, group_contributions

    members = [name for _, _, names in FEATURE_GROUPS.values() for name in names]
    assert sorted(members) == sorted(GENERAL_FEATURES + CATEGORY_FEATURES)
    grouped = group_contributions([("views_7d", 0.5), ("views_30d", -0.2), ("carts_7d", -0.1)])
    assert grouped[0][0] == "browsing" and grouped[0][1] == pytest.approx(0.3)
    assert grouped[1] == ("carting", -0.1)
