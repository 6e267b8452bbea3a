"""`shopsense analytics release|ledger` over a real SQLite home: a release is charged once,
re-asking is free, --csv writes the noisy counts, the ledger lists the spend."""

from __future__ import annotations

import csv
import json
import time

from typer.testing import CliRunner

from shopsense.cli import app
from shopsense.domain import Event, Product
from shopsense.store import open_store


def test_release_then_ledger(tmp_path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'shop.db'}")
    store.upsert_products([Product("a1", "格力 空调", category="家电 > 空调", brand="格力",
                                   price=2999.0)])
    now = time.time()
    store.add_events([Event(f"e{n}", kind, now - n * 600, f"u{n % 4}", f"s{n % 4}", "a1")
                      for n, kind in enumerate(["view", "cart", "purchase", "view"] * 5)])
    store.close()
    runner = CliRunner()
    base = ["--home", str(tmp_path), "analytics"]
    first = runner.invoke(app, [*base, "release", "--epsilon", "0.5", "--days", "3", "--json",
                                "--csv", str(tmp_path / "out.csv")])
    assert first.exit_code == 0, first.output
    body = json.loads(first.stdout)
    assert body["cached"] is False and body["privacy"]["epsilon_per_aggregate"] == 0.5
    again = json.loads(runner.invoke(app, [*base, "release", "--epsilon", "0.5", "--days", "3",
                                           "--json"]).stdout)
    assert again["cached"] is True and again["privacy"]["seq"] == body["privacy"]["seq"]
    rows = list(csv.DictReader((tmp_path / "out.csv").open(encoding="utf-8")))
    assert {r["aggregate"] for r in rows} >= {"funnel_daily", "category_share"}
    ledger = json.loads(runner.invoke(app, [*base, "ledger", "--json"]).stdout)
    assert len(ledger["entries"]) == 1
    assert ledger["spent_epsilon"] == body["privacy"]["epsilon"]
    bad = runner.invoke(app, [*base, "release", "--mechanism", "exponential"])
    assert bad.exit_code != 0
