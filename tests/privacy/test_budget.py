"""A privacy budget that means something: epsilon <= 10 and delta <= 1e-4 per rolling 30 days
by default, empty windows refused before any spending, and a ledger that two replicas racing
on one store (SQLite file, PostgreSQL) cannot overspend."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest
from privacy_helpers import charge_repeatedly

from shopsense.analytics.report import EmptyWindow, ReleaseParams, behaviour_release, open_ledger
from shopsense.config import Settings
from shopsense.domain import Event, Product
from shopsense.privacy.dp import BudgetExceeded, PrivacyLedger
from shopsense.store import open_store


def _charge(ledger: PrivacyLedger, epsilon: float, delta: float = 1e-6) -> int:
    return ledger.charge("behaviour", mechanism="laplace", epsilon=epsilon, delta=delta)


def test_default_budget_is_stated_and_bounded(tmp_path: Path) -> None:
    privacy = Settings(home=tmp_path).privacy
    assert privacy.dp_budget_epsilon == 10.0 and privacy.dp_budget_delta == 1e-4
    assert privacy.dp_budget_days == 30.0
    ledger = open_ledger(open_store("memory://"), privacy)
    assert ledger.describe()["budget"] == 10.0 and ledger.describe()["window_days"] == 30.0
    # a default release costs what the settings say, and the budget allows only a few a month
    from shopsense.analytics.report import release_epsilon

    per_release = release_epsilon(privacy.dp_epsilon)
    assert 1.0 <= per_release <= 2.0 and int(10.0 // per_release) <= 8


def test_rolling_window_and_delta_are_accounted() -> None:
    store = open_store("memory://")
    ledger = PrivacyLedger(store, budget=10.0, delta_budget=1e-4, window_days=30)
    _charge(ledger, 6.0)
    with pytest.raises(BudgetExceeded, match="epsilon"):
        _charge(ledger, 6.0)
    assert len(ledger.entries()) == 1  # a refused release records nothing
    with store.transaction() as cur:  # the first release ages out of the window
        cur.execute("UPDATE privacy_ledger SET at = ?", (time.time() - 31 * 86400,))
    assert ledger.spent() == (0.0, 0.0) and ledger.spent_all_time()[0] == 6.0
    _charge(ledger, 6.0)
    with pytest.raises(BudgetExceeded, match="delta"):
        _charge(ledger, 0.1, delta=2e-4)
    _charge(ledger, 0.1, delta=5e-5)
    assert ledger.spent()[1] == pytest.approx(5e-5 + 1e-6)
    assert ledger.remaining() == pytest.approx(3.9)


def _store_with(events: list[Event]) -> object:
    store = open_store("memory://")
    store.upsert_products([Product("a1", "Tent", category="Outdoor", price=99.0)])
    store.add_events(events)
    return store


@pytest.mark.parametrize("offset_days", [None, 400.0])  # no events; only future-dated ones
def test_empty_windows_are_refused_before_spending(offset_days: float | None) -> None:
    events = [] if offset_days is None else [
        Event(f"e{n}", "view", time.time() + offset_days * 86400, f"u{n}", None, "a1")
        for n in range(5)]
    store = _store_with(events)
    ledger = PrivacyLedger(store, budget=10.0)
    with pytest.raises(EmptyWindow):
        behaviour_release(store, ReleaseParams(epsilon=0.1, days=30, seed=1), ledger=ledger)
    assert ledger.entries() == [] and ledger.spent() == (0.0, 0.0)


def test_a_release_over_real_data_spends_what_it_says() -> None:
    now = time.time()
    store = _store_with([Event(f"e{n}", "view", now - n * 60, f"u{n % 7}", None, "a1")
                         for n in range(50)])
    ledger = PrivacyLedger(store, budget=10.0, delta_budget=1e-4)
    body = behaviour_release(store, ReleaseParams(epsilon=0.1, days=7, seed=1), ledger=ledger)
    assert ledger.spent()[0] == pytest.approx(body["privacy"]["epsilon"])
    assert body["privacy"]["budget"] == 10.0 and body["privacy"]["delta_budget"] == 1e-4
    assert body["privacy"]["budget_window_days"] == 30.0


def _race(store_url: str, budget: float) -> tuple[int, float]:
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        start_at = time.time() + 8.0  # both processes loaded and connected by then
        done = pool.starmap(charge_repeatedly, [(store_url, 150, 0.1, budget, start_at)] * 2)
    ledger = PrivacyLedger(open_store(store_url), budget=budget)
    return sum(done), ledger.spent()[0]


def test_two_replicas_racing_on_one_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    PrivacyLedger(open_store(url), budget=10.0)  # the table, before the replicas start
    done, spent = _race(url, 10.0)
    assert done == 100 and spent == pytest.approx(10.0)


def test_two_replicas_racing_on_postgresql() -> None:
    services = pytest.importorskip("shopsense.scale.services",
                                   reason="scale extra not installed (psycopg)")
    running = services.for_tests()
    if not running.postgres_url:
        pytest.skip(f"no PostgreSQL: {running.skipped.get('postgres', 'not started')}")
    url = services.fresh_postgres_url(running.postgres_url)
    PrivacyLedger(open_store(url), budget=10.0)
    done, spent = _race(url, 10.0)
    assert done == 100 and spent == pytest.approx(10.0)
