"""An operator's promotion or roll back pins the version: a training that finishes later keeps
its version and card for the console but points the serving pointers back at the pinned one
(so a restarted worker loads the pinned models too), pruning keeps the pinned search index, and
`POST /v1/admin/models/unpin` (admin key only, audited) lets trainings serve again. The real
two-trainings path runs in test_model_console.py (make test-long)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from shopsense.pipeline.recommend import models_root
from shopsense.pipeline.search_index import CURRENT, PINNED, _prune
from shopsense.training.cards import read_card, write_card
from shopsense.training.pin import pin, pinned, restore_pinned, unpin


def _version(home: Path, version: str, index: str, trained_at: float | None = None) -> None:
    """What a training leaves: a recs version directory, a search index version, pointers at
    both, status.json and the card."""
    (models_root(home) / version).mkdir(parents=True)
    search = home / "models" / "search"
    (search / index).mkdir(parents=True)
    (search / index / "config.json").write_text("{}")
    (models_root(home) / "current").write_text(version)
    (search / CURRENT).write_text(index)
    summary = {"version": version, "recs": {"training": "full"}, "seconds": 1.0,
               **({"trained_at": trained_at} if trained_at is not None else {})}
    (home / "models" / "status.json").write_text(json.dumps(summary))
    write_card(home, summary)


def _serving(home: Path) -> tuple[str, str, str]:
    return ((models_root(home) / "current").read_text(),
            (home / "models" / "search" / CURRENT).read_text(),
            json.loads((home / "models" / "status.json").read_text())["version"])


def test_a_training_while_pinned_points_back_at_the_pinned_version(tmp_path: Path) -> None:
    home = tmp_path
    _version(home, "20260101T000000-1", "v1")
    assert restore_pinned(home) is None and pinned(home) is None  # nothing pinned: no-op
    pin(home, "20260101T000000-1", "key:ops", "rollback", "v2 was worse")
    _version(home, "20260102T000000-1", "v2")  # the next scheduled training
    assert _serving(home) == ("20260102T000000-1", "v2", "20260102T000000-1")
    assert restore_pinned(home) == "20260101T000000-1"
    assert _serving(home) == ("20260101T000000-1", "v1", "20260101T000000-1")
    assert read_card(home, "20260102T000000-1") is not None  # kept for the console
    assert pinned(home)["actor"] == "key:ops" and pinned(home)["note"] == "v2 was worse"
    assert unpin(home)["version"] == "20260101T000000-1"
    assert pinned(home) is None and unpin(home) is None
    assert not (home / "models" / "search" / PINNED).exists()


def test_the_serving_version_keeps_its_training_time(tmp_path: Path) -> None:
    """"Trained at" and "events after training" (console, /v1/admin/models) read the time
    recorded when the version was trained, not status.json's mtime, which a rollback to an
    older version, a copy of the home or a restored backup moves."""
    from shopsense.training.build import trained_at_of

    home, status = tmp_path, tmp_path / "models" / "status.json"
    _version(home, "20260101T000000-1", "v1", trained_at=1_000.0)
    _version(home, "20260102T000000-1", "v2", trained_at=2_000.0)
    pin(home, "20260101T000000-1", "key:ops", "rollback", "v2 was worse")
    assert restore_pinned(home) == "20260101T000000-1"  # v1's status written again now
    assert trained_at_of(json.loads(status.read_text()), status) == 1_000.0
    os.utime(status, (time.time(), time.time()))  # a copy of the home
    assert trained_at_of(json.loads(status.read_text()), status) == 1_000.0
    legacy = {"version": "old"}  # written before the time was recorded: the file's time
    assert trained_at_of(legacy, status) == status.stat().st_mtime


def test_a_pin_whose_models_are_gone_is_lifted(tmp_path: Path) -> None:
    home = tmp_path
    _version(home, "20260101T000000-1", "v1")
    pin(home, "20260101T000000-1", "key:ops", "promote")
    (models_root(home) / "20260101T000000-1").rmdir()  # removed (retention, by hand)
    _version(home, "20260102T000000-1", "v2")
    assert restore_pinned(home) is None and pinned(home) is None
    assert _serving(home)[0] == "20260102T000000-1"


def test_pruning_keeps_the_pinned_search_index(tmp_path: Path) -> None:
    root = tmp_path / "search"
    for n, name in enumerate(["v1", "v2", "v3", "v4"]):
        (root / name).mkdir(parents=True)
        os.utime(root / name, (time.time() - 100 + n, time.time() - 100 + n))
    (root / PINNED).write_text("v1")
    _prune(root, "v4")
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == ["v1", "v3", "v4"]
    (root / PINNED).unlink()
    _prune(root, "v4")
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == ["v3", "v4"]


def test_unpin_over_http_is_admin_only_audited_and_listed(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from shopsense.api.app import create_app
    from shopsense.api.keys import create_key
    from shopsense.config import Settings
    from shopsense.pipeline.shop import Shop

    home = tmp_path / "home"
    settings = Settings(home=home)
    shop = Shop(settings)
    _version(home, "20260101T000000-1", "v1")
    pin(home, "20260101T000000-1", "key:ops", "rollback")
    admin, public = create_key(shop.store, "admin"), create_key(shop.store, "search")
    with TestClient(create_app(settings, shop)) as client:
        listed = client.get("/v1/admin/models/versions", headers={"X-API-Key": admin}).json()
        assert listed["pinned"]["version"] == "20260101T000000-1"
        refused = client.post("/v1/admin/models/unpin", headers={"X-API-Key": public})
        assert refused.status_code == 403 and set(refused.json()["error"]) == {
            "code", "message", "field"}
        assert pinned(home) is not None
        done = client.post("/v1/admin/models/unpin", headers={"X-API-Key": admin})
        assert done.status_code == 200 and done.json()["was"]["version"] == "20260101T000000-1"
        assert client.post("/v1/admin/models/unpin",
                           headers={"X-API-Key": admin}).json()["was"] is None
        listed = client.get("/v1/admin/models/versions", headers={"X-API-Key": admin}).json()
        assert listed["pinned"] is None
        bad = client.post("/v1/admin/models/promote", headers={"X-API-Key": admin},
                          json={"version": "20260101T000000-1", "pin": "sometimes"})
        assert bad.status_code == 422 and bad.json()["error"]["field"]
    audit = shop.store.execute("SELECT action, detail FROM audit_log WHERE action = "
                               "'models.unpin'")
    assert [(a, json.loads(d)["version"]) for a, d in audit] == [
        ("models.unpin", "20260101T000000-1")]
