"""Erasure everywhere: the CLI and the API run one service over every holder (store rows,
anonymous impressions of linked sessions, every saved model version, logs); after it, a
restart, the adoption of an older model or of one restored from a backup, and retention,
nothing under the home names the shopper by raw id or pseudonym."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from fastapi.testclient import TestClient
from privacy_helpers import save_trained_version, traces

from shopsense.analytics.impressions import ImpressionLog
from shopsense.api.app import create_app
from shopsense.api.keys import create_key
from shopsense.config import PrivacySettings, Settings
from shopsense.pipeline.recommend import models_root
from shopsense.pipeline.shop import Shop
from shopsense.privacy.maintenance import run_retention
from shopsense.training.lifecycle import load_trained_recs, quick_recs, wire_online_updates

RAW, RAW_SESSION, LATER_SESSION = "erin.erasable@example.com", "web-erin-anon-0001", "web-erin-2"
OLD = "20200101T000000-1"  # an old version (older than the model retention)


def _cli(home: Path, *args: str) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-m", "shopsense.cli", "--home", str(home), *args,
                          "--json"], capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout)


def _shopper_everywhere(shop: Shop) -> None:
    """Erin browses anonymously (events + impressions), signs in (links the session), shops,
    browses again in a second session linked later whose impressions stay anonymous, and
    her raw id lands in a log line."""
    now = time.time()
    item = sorted(shop.products)[:6]
    shop.record_events([
        {"session_id": RAW_SESSION, "item_id": item[0], "event_type": "view", "timestamp": now - 60},
        {"session_id": RAW_SESSION, "item_id": item[1], "event_type": "view", "timestamp": now - 50},
        {"user_id": RAW, "session_id": RAW_SESSION, "item_id": item[2], "event_type": "cart",
         "timestamp": now - 40},
        {"user_id": RAW, "item_id": item[3], "event_type": "purchase", "timestamp": now - 30},
        {"session_id": LATER_SESSION, "item_id": item[4], "event_type": "view", "timestamp": now - 20},
        {"user_id": RAW, "session_id": LATER_SESSION, "item_id": item[5], "event_type": "click",
         "timestamp": now - 10}])
    log = ImpressionLog(shop.store)
    for session in (RAW_SESSION, LATER_SESSION):  # anonymous rows of sessions linked later
        log.record(surface="for_you", items=item[:3], user_id=None,
                   session_id=shop.ids.session(session))
    logs = shop.settings.home / "logs"
    logs.mkdir(exist_ok=True)
    (logs / "server.log").write_text(f"INFO ok\nWARN slow request user={RAW}\nINFO done\n")


def _prepare(home: Path) -> tuple[Shop, str, list[str]]:
    shop = Shop(Settings(home=home))
    _shopper_everywhere(shop)
    save_trained_version(shop, OLD)
    time.sleep(1.1)  # versions are named by the second
    save_trained_version(shop)
    pseudonym = shop.ids.user(RAW)
    sessions = [shop.ids.session(s) for s in (RAW_SESSION, LATER_SESSION)]
    return shop, pseudonym, sessions


def test_cli_erasure_then_restart_adopt_and_restore(home: Path, tmp_path: Path) -> None:
    shop, pseudonym, sessions = _prepare(home)
    needles = (RAW, RAW_SESSION, LATER_SESSION, pseudonym, *sessions)
    assert len(traces(home, pseudonym)) >= 4  # the store, both versions' histories and ALS rows
    backup = tmp_path / "backup"
    shutil.copytree(models_root(home) / OLD, backup)
    shop.store.close()

    result = _cli(home, "users", "forget", RAW)
    assert result["erased"] and result["sessions_erased"] == 2
    assert result["removed"]["store"] >= 6 + 6  # 6 events, 2 links, 6 impression rows
    assert result["removed"]["models"] >= 4  # 2 versions x (history + ALS row)
    assert result["removed"]["logs"] == 1
    assert traces(home, *needles) == []  # shop.db, its WAL, models, logs: no VACUUM was run
    assert (home / "logs" / "server.log").read_text() == "INFO ok\nINFO done\n"

    restarted = Shop(Settings(home=home))
    engine = load_trained_recs(restarted)
    assert pseudonym not in engine.histories and pseudonym not in engine.sources["als"].users_
    assert restarted.profile_of(pseudonym).n_events == 0
    (models_root(home) / "current").write_text(OLD)  # adopt the older version
    older = load_trained_recs(restarted)
    assert older.info["version"] != engine.info["version"]
    assert all(s not in older.histories for s in (pseudonym, *sessions))
    # a version restored from a backup taken before the erasure: filtered at load by the
    # tombstones, then pruned by retention (older than privacy.model_retention_days)
    restored = "20190101T000000-1"
    shutil.copytree(backup, models_root(home) / restored)
    (models_root(home) / "current").write_text(restored)
    from_backup = load_trained_recs(restarted)
    assert pseudonym not in from_backup.histories
    assert pseudonym not in from_backup.sources["als"].users_
    (models_root(home) / "current").write_text(engine.info["version"])
    removed = run_retention(restarted)
    assert sorted(removed["model_versions"]) == sorted([restored, OLD])
    assert traces(home, *needles) == []


def test_cli_and_api_erase_the_same(home: Path, tmp_path: Path) -> None:
    """Issue 4: the CLI removed 13 rows where the API removed 23 (impressions stayed)."""
    twin = tmp_path / "twin"
    shutil.copytree(home, twin)
    results = []
    for target, via in ((home, "api"), (twin, "cli")):
        shop = Shop(Settings(home=target))
        _shopper_everywhere(shop)
        if via == "api":
            admin = create_key(shop.store, "admin")
            with TestClient(create_app(shop.settings, shop)) as client:
                reply = client.delete(f"/v1/users/{RAW}", headers={"X-API-Key": admin})
                assert reply.status_code == 200
                results.append(reply.json())
        else:
            shop.store.close()
            results.append(_cli(target, "users", "forget", RAW))
    api, cli = results
    assert api["removed"] == cli["removed"] and api["rows_removed"] == cli["rows_removed"]
    assert api["sessions_erased"] == cli["sessions_erased"] == 2
    for target in (home, twin):
        assert traces(target, RAW, Shop(Settings(home=target)).ids.user(RAW)) == []


def test_a_running_process_hears_a_cli_erasure(home: Path) -> None:
    """The server's memory (recommendation histories, profile cache, the ALS row) drops the
    shopper when another process erases, through the store's change feed."""
    from shopsense.privacy.maintenance import PrivacyMaintenance

    shop, pseudonym, sessions = _prepare(home)
    shop.models.recs = load_trained_recs(shop)
    wire_online_updates(shop)
    maintenance = PrivacyMaintenance(shop)
    assert shop.profile_of(pseudonym).n_events == 6
    assert pseudonym in shop.models.recs.histories
    _cli(home, "users", "forget", RAW)
    assert pseudonym in shop.models.recs.histories  # not yet heard
    assert maintenance.follow() == 1
    assert all(a not in shop.models.recs.histories for a in (pseudonym, *sessions))
    assert pseudonym not in shop.models.recs.sources["als"].users_
    assert shop.profile_of(pseudonym).n_events == 0
    assert maintenance.follow() == 0  # each notice once


def test_erasure_does_not_vacuum(home: Path) -> None:
    """Issue 13: every erasure vacuumed the whole database, even for an unknown shopper."""
    shop = Shop(Settings(home=home))
    shop.models.recs = quick_recs(shop)

    def no_vacuum() -> None:
        raise AssertionError("VACUUM during an erasure")

    shop.store.vacuum = no_vacuum
    unknown = shop.forget("nobody-at-all", actor="test")
    assert unknown["rows_removed"] == 0 and unknown["erased"]
    _shopper_everywhere(shop)
    assert shop.forget(RAW, actor="test")["rows_removed"] >= 12


def test_retention_purges_old_rows_logs_and_versions(home: Path) -> None:
    settings = Settings(home=home, privacy=PrivacySettings(retention_days=7,
                                                            model_retention_days=30))
    shop = Shop(settings)
    now = time.time()
    old, recent = now - 10 * 86400, now - 3600
    item = sorted(shop.products)[0]
    shop.record_events([{"session_id": "web-old-visitor", "item_id": item, "event_type": "view",
                         "timestamp": old},
                        {"session_id": "web-new-visitor", "item_id": item, "event_type": "view",
                         "timestamp": recent}])
    log = ImpressionLog(shop.store)
    log.record(surface="trending", items=[item], user_id=None,
               session_id=shop.ids.session("web-old-visitor"), timestamp=old)
    log.record(surface="trending", items=[item], user_id=None,
               session_id=shop.ids.session("web-new-visitor"), timestamp=recent)
    zero = home / "logs" / "zero_results.jsonl"
    zero.parent.mkdir(exist_ok=True)
    zero.write_text(json.dumps({"query": "old", "timestamp": old, "min_shoppers": 10}) + "\n"
                    + json.dumps({"query": "new", "timestamp": recent, "min_shoppers": 10}) + "\n")
    save_trained_version(shop, OLD)
    current = save_trained_version(shop)
    before = shop.store.count_events()
    removed = run_retention(shop)
    assert removed["events"] == before - shop.store.count_events() > 0
    assert removed["rows"] == {"web_impressions": 1}
    assert removed["zero_result_queries"] == 1
    assert removed["model_versions"] == [OLD] and current.is_dir()
    assert [json.loads(x)["query"] for x in zero.read_text().splitlines()] == ["new"]
    assert not list(shop.store.iter_events(until=now - 7 * 86400))
    assert any(a == "retention_purge" for (a,) in shop.store.execute(
        "SELECT action FROM audit_log"))


def test_erasure_after_a_secret_rotation_reaches_saved_models(home: Path) -> None:
    """A rotation re-keys the saved versions too: they still serve the shopper, and a later
    erasure finds her there (old and new pseudonyms both gone)."""
    from shopsense.ids import Pseudonymizer

    shop, old_pseudonym, _ = _prepare(home)
    shop.store.close()
    rotated = _cli(home, "users", "rekey")
    assert rotated["model_entries_rekeyed"] > 0
    new_pseudonym = Pseudonymizer.from_home(home).user(RAW)
    assert new_pseudonym != old_pseudonym
    assert traces(home, old_pseudonym) == []
    restarted = Shop(Settings(home=home))
    assert new_pseudonym in load_trained_recs(restarted).histories
    restarted.store.close()
    _cli(home, "users", "forget", RAW)
    assert traces(home, RAW, old_pseudonym, new_pseudonym) == []


def test_cli_purge_runs_the_same_retention(home: Path) -> None:
    shop = Shop(Settings(home=home))
    item = sorted(shop.products)[0]
    shop.record_events([{"session_id": "web-ancient", "item_id": item, "event_type": "view",
                         "timestamp": time.time() - 400 * 86400}])
    ImpressionLog(shop.store).record(surface="trending", items=[item], user_id=None,
                                     session_id=shop.ids.session("web-ancient"),
                                     timestamp=time.time() - 400 * 86400)
    shop.store.close()
    result = _cli(home, "users", "purge", "--older-than-days", "365")
    assert result["removed"] == 1 and result["rows"] == {"web_impressions": 1}
    assert traces(home, Shop(Settings(home=home)).ids.session("web-ancient")) == []
