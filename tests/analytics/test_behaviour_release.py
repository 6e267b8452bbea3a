"""Behaviour aggregates on a store whose answers are known by construction, the sensitivity
bound that the DP noise relies on (checked as a property over random stores), and the
release: exact at huge epsilon, cached while nothing changes, charged when data change."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopsense.analytics.aggregates import (
    DAY,
    SPEC_BY_NAME,
    SPECS,
    bounded_counts,
    catalogue_terms,
    read_zero_result_log,
    window_for,
    zero_result_spec,
)
from shopsense.analytics.report import ReleaseParams, behaviour_release, release_epsilon
from shopsense.domain import Event, Product
from shopsense.privacy.dp import PrivacyLedger
from shopsense.store import open_store

T0 = 1_790_000_000.0 - (1_790_000_000.0 % DAY)  # midnight UTC
PRODUCTS = [
    Product("a1", "格力 空调 1.5匹", category="家电 > 空调", brand="格力", price=2999.0),
    Product("a2", "美的 空调", category="家电 > 空调", brand="美的", price=2599.0),
    Product("s1", "Nike running shoes", category="鞋靴 > 运动鞋", brand="Nike", price=599.0),
]
_seq = iter(range(10**9))


def ev(kind: str, t: float, user: str | None, session: str, item: str | None = None,
       query: str | None = None, platform: str = "web") -> Event:
    return Event(f"e{next(_seq)}", kind, t, user, session, item, query, None, platform)


def make_store(events: Iterable[Event]):
    store = open_store("memory://")
    store.upsert_products(PRODUCTS)
    store.add_events(list(events))
    return store


def counts(store, name: str, cap: int = 10, days: int = 7) -> dict[str, int]:
    spec = SPEC_BY_NAME[name]
    return bounded_counts(store, spec, window_for(store, days), spec.cap(cap)).counts


@pytest.fixture
def known_store():
    d1, d2 = T0 + 3600, T0 + DAY + 3600
    events = [
        # u1: views and carts the AC on day 1, buys it on day 2 (platform app)
        ev("view", d1, "u1", "s1", "a1", platform="app"), ev("cart", d1 + 60, "u1", "s1", "a1", platform="app"),
        ev("view", d1 + 90, "u1", "s1", "a2", platform="app"),
        ev("purchase", d2, "u1", "s2", "a1", platform="app"),
        # u2 (new on day 2): searches, clicks within 5 minutes -> a clicked search
        ev("search", d2, "u2", "s3", query="格力空调"), ev("click", d2 + 300, "u2", "s3", "a1"),
        # guest session g1: searches twice, clicks only after 2 hours -> abandoned searches
        ev("search", d2, None, "g1", query="Nike Shoes"), ev("search", d2 + 10, None, "g1", query="nike shoes"),
        ev("click", d2 + 7200, None, "g1", "s1"),
    ]
    return make_store(events)


def test_funnel_counts_shoppers_per_day_and_stage(known_store) -> None:
    day1, day2 = (window_for(known_store, 7).days[-2:])
    got = counts(known_store, "funnel_daily")
    assert got == {f"{day1}|view": 1, f"{day1}|cart": 1, f"{day2}|purchase": 1,
                   f"{day2}|view": 2}  # u2's click and g1's click count as views
    by_cat = counts(known_store, "funnel_category")
    assert by_cat == {"家电|view": 2, "家电|cart": 1, "家电|purchase": 1, "鞋靴|view": 1}


def test_new_returning_active_and_platforms(known_store) -> None:
    day1, day2 = window_for(known_store, 7).days[-2:]
    assert counts(known_store, "new_returning") == {
        f"{day1}|new": 1, f"{day2}|returning": 1, f"{day2}|new": 2}
    assert counts(known_store, "active_daily") == {day1: 1, day2: 3}
    assert counts(known_store, "platform_split") == {"app": 1, "web": 2}


def test_search_click_through_and_queries(known_store) -> None:
    assert counts(known_store, "search_ctr") == {"clicked": 1, "abandoned": 2}
    assert counts(known_store, "top_queries") == {"格力空调": 1, "nike shoes": 1}
    assert counts(known_store, "no_click_queries") == {"nike shoes": 1}
    assert counts(known_store, "query_terms") == {"格力": 1, "空调": 1, "nike": 1}
    assert "运动鞋" in catalogue_terms(known_store) and "nike" in catalogue_terms(known_store)


def test_each_shopper_is_capped() -> None:
    # One shopper active on 20 days adds at most `cap` to the active-days histogram.
    store = make_store(ev("view", T0 + d * DAY + 60, "heavy", f"h{d}", "a1") for d in range(20))
    total = sum(counts(store, "active_daily", cap=5, days=30).values())
    assert total == 5
    assert sum(counts(store, "active_daily", cap=50, days=30).values()) == 20


actor_events = st.lists(
    st.tuples(st.sampled_from(["view", "click", "cart", "purchase", "search"]),
              st.integers(0, 6 * 24), st.sampled_from(["a1", "a2", "s1"]),
              st.sampled_from(["空调", "nike shoes", "格力", "tv"]),
              st.sampled_from(["web", "app"])), min_size=1, max_size=25)


def _events_of(actor: str, rows, anonymous: bool) -> list[Event]:
    out = []
    for n, (kind, hour, item, query, platform) in enumerate(rows):
        session = f"{actor}-s{n % 3}"
        out.append(ev(kind, T0 + hour * 3600, None if anonymous else actor, session,
                      None if kind == "search" else item, query if kind == "search" else None,
                      platform))
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(others=st.lists(st.tuples(actor_events, st.booleans()), min_size=0, max_size=4),
       newcomer=actor_events, cap=st.integers(1, 4))
def test_one_shopper_moves_each_histogram_by_at_most_its_sensitivity(others, newcomer, cap) -> None:
    """The bound the noise is calibrated to: adding one shopper (any events, own sessions)
    changes a histogram by <= cap in L1 and <= per_key on any key."""
    base = [e for n, (rows, anon) in enumerate(others) for e in _events_of(f"o{n}", rows, anon)]
    without = make_store(base)
    with_one = make_store(base + _events_of("new", newcomer, False))
    end = T0 + 6 * DAY
    for spec in SPECS:
        bound = spec.cap(cap)
        a = bounded_counts(without, spec, window_for(without, 7, end), bound).counts
        b = bounded_counts(with_one, spec, window_for(with_one, 7, end), bound).counts
        diffs = [abs(a.get(k, 0) - b.get(k, 0)) for k in a.keys() | b.keys()]
        assert sum(diffs) <= bound, spec.name
        assert max(diffs, default=0) <= min(spec.per_key, bound), spec.name


def test_release_is_exact_at_huge_epsilon_and_cached_until_data_change(known_store) -> None:
    ledger = PrivacyLedger(known_store)
    params = ReleaseParams(epsilon=1e7, days=7, seed=3)
    first = behaviour_release(known_store, params, ledger=ledger)
    agg = first["aggregates"]
    assert {r["key"]: r["count"] for r in agg["search_ctr"]["rows"]} == {"clicked": 1, "abandoned": 2}
    assert {r["key"] for r in agg["platform_split"]["rows"]} == {"web", "app", "mini_program", "other"}
    assert first["derived"]["search_ctr"] == pytest.approx(1 / 3, abs=1e-3)
    assert first["cached"] is False
    assert ledger.spent()[0] == pytest.approx(release_epsilon(1e7))
    again = behaviour_release(known_store, params, ledger=ledger)
    assert again["cached"] is True and ledger.spent()[0] == pytest.approx(release_epsilon(1e7))
    known_store.add_events([ev("view", T0 + DAY + 9000, "u9", "s9", "a2")])
    third = behaviour_release(known_store, params, ledger=ledger)
    assert third["cached"] is False and len(ledger.entries()) == 2


def test_release_at_small_epsilon_is_noisy_but_well_formed(known_store) -> None:
    ledger = PrivacyLedger(known_store)
    release = behaviour_release(known_store, ReleaseParams(epsilon=0.1, mechanism="gaussian",
                                                           days=7, seed=4), ledger=ledger)
    for agg in release["aggregates"].values():
        assert all(r["count"] >= 0 and isinstance(r["count"], int) for r in agg["rows"])
        assert agg["stddev"] > 1.0
    # Open-key aggregates are thresholded: single-shopper queries do not leak.
    assert release["aggregates"]["top_queries"]["rows"] == []
    assert release["privacy"]["delta"] == pytest.approx(1e-5)


def test_zero_result_queries_come_from_the_engine_log(known_store, tmp_path) -> None:
    log = tmp_path / "zero_results.jsonl"
    log.write_text('{"query": "Nike Shoes", "timestamp": 1}\nnot json\n{"query": ""}\n',
                   encoding="utf-8")
    zero = read_zero_result_log(log)
    assert zero == {"nike shoes"}
    spec = zero_result_spec(zero)
    assert bounded_counts(known_store, spec, window_for(known_store, 7), 2).counts == {
        "nike shoes": 1}
    ledger = PrivacyLedger(known_store)
    release = behaviour_release(known_store, ReleaseParams(epsilon=1e7, days=7, seed=1),
                                ledger=ledger, zero_result_queries=zero)
    assert "zero_result_queries" in release["aggregates"]
    assert release["privacy"]["epsilon"] == pytest.approx(release_epsilon(1e7) + 1e7)


def test_click_through_by_surface_from_logged_impressions(known_store) -> None:
    from shopsense.analytics.impressions import SURFACE_CTR, ImpressionLog

    log = ImpressionLog(known_store)
    assert not log.has_rows()
    d2 = T0 + DAY + 3600
    log.record(surface="search", items=["a1", "a2"], user_id="u2", session_id="s3",
               query="格力空调", total=2, timestamp=d2 + 100)  # u2 clicks a1 at d2 + 300
    log.record(surface="for_you", items=["s1"], user_id=None, session_id="g1",
               timestamp=d2 + 50)  # g1 clicks s1 only two hours later
    log.record(surface="search", items=[], user_id=None, session_id="g1", query="zzz", total=0,
               timestamp=d2 + 60)
    assert bounded_counts(known_store, SURFACE_CTR, window_for(known_store, 7), 10).counts == {
        "search|clicked": 1, "search|not_clicked": 1, "for_you|not_clicked": 1}
    with pytest.raises(ValueError):
        log.record(surface="banner", items=[], user_id="u", session_id=None)
    release = behaviour_release(known_store, ReleaseParams(epsilon=1e7, days=7, seed=2),
                                ledger=PrivacyLedger(known_store))
    assert release["derived"]["surface_ctr"]["search"] == pytest.approx(0.5, abs=1e-3)


def test_impressions_are_stitched_and_erased_with_the_shopper(known_store) -> None:
    from shopsense.analytics.impressions import TABLE, ImpressionLog

    log = ImpressionLog(known_store)
    log.record(surface="trending", items=["a1"], user_id=None, session_id="anon-9")
    log.record(surface="search", items=["a2"], user_id="u9", session_id="anon-9", query="x")
    rows = known_store.execute(f"SELECT DISTINCT user_id FROM {TABLE} WHERE session_id = 'anon-9'")
    assert rows == [("u9",)]
    known_store.forget_user("u9")
    assert known_store.execute(f"SELECT COUNT(*) FROM {TABLE}")[0][0] == 0
