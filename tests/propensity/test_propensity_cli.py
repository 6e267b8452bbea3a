"""The propensity commands over a real SQLite data home and real files."""

from __future__ import annotations

import dataclasses
import json

import orjson
from typer.testing import CliRunner

from shopsense.cli import app
from shopsense.ids import Pseudonymizer
from shopsense.store import open_store


def test_propensity_audience_and_eval_commands(tmp_path, shop_events, shop_products) -> None:
    home = tmp_path / "home"
    pseudonyms = Pseudonymizer.from_home(home)
    store = open_store(f"sqlite:///{home / 'shop.db'}")
    store.upsert_products(list(shop_products.values()))
    store.add_events([dataclasses.replace(e, user_id=pseudonyms.user(e.user_id),
                                          session_id=pseudonyms.session(e.session_id))
                      for e in shop_events])
    store.close()
    runner = CliRunner()

    result = runner.invoke(app, ["--home", str(home), "propensity", "--user", "user3", "--json"])
    assert result.exit_code == 0, result.output
    shopper = json.loads(result.stdout)
    assert 0 < shopper["probability"] < 1 and shopper["known_shopper"]
    reasons = shopper["raised_by"] + shopper["lowered_by"]
    assert reasons and all(r["text_zh"] and r["value"] >= 0 for r in reasons)
    assert shopper["groups"] and all(g["text_en"] for g in shopper["groups"])
    assert (home / "models" / "propensity-logistic-7d" / "config.json").exists()

    result = runner.invoke(app, ["--home", str(home), "audience", "--category", "美妆",
                                 "--n", "7", "--json"])
    assert result.exit_code == 0, result.output
    audience = json.loads(result.stdout)
    assert len(audience["shoppers"]) == 7
    assert audience["shoppers"][0]["user_id"].startswith("u_")

    events_file = tmp_path / "events.jsonl"
    events_file.write_bytes(b"".join(orjson.dumps(dataclasses.asdict(e)) + b"\n"
                                     for e in shop_events))
    products_file = tmp_path / "products.jsonl"
    products_file.write_bytes(b"".join(orjson.dumps(dataclasses.asdict(p)) + b"\n"
                                       for p in shop_products.values()))
    result = runner.invoke(app, ["eval", "propensity", "--events", str(events_file),
                                 "--catalog", str(products_file), "--models", "logistic",
                                 "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["models"]["logistic"]["general"]["auc"] > 0.7
    assert len(report["models"]["logistic"]["general"]["reliability"]) >= 3
