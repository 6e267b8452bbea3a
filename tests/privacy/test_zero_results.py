"""Zero-result queries are logged only once k distinct shoppers searched them; erasure takes
a pending contribution back, retention drops old lines, verbatim lines of older versions go."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shopsense.api.app import create_app
from shopsense.api.keys import TOKEN_HEADER, create_key, issue_shopper_token
from shopsense.config import PrivacySettings, Settings
from shopsense.pipeline.shop import Shop
from shopsense.privacy.querylog import ZeroResultLog


def _queries(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [json.loads(line)["query"] for line in path.read_text().splitlines()]


def test_one_shopper_never_releases_a_query(tmp_path: Path) -> None:
    log = ZeroResultLog(tmp_path / "zero.jsonl", min_shoppers=3)
    for _ in range(50):  # one shopper typing her e-mail address again and again
        assert log.record("alice@example.com", "u_" + "a" * 32) is None
    assert log.record("alice@example.com", None) is None  # no shopper: counts for nobody
    assert _queries(tmp_path / "zero.jsonl") == [] and log.pending("alice@example.com") == 1


def test_k_distinct_shoppers_release_once(tmp_path: Path) -> None:
    path = tmp_path / "zero.jsonl"
    log = ZeroResultLog(path, min_shoppers=3)
    assert log.record("Blue  Tent", "u_1") is None
    assert log.record("blue tent", "u_2") is None
    entry = log.record("BLUE TENT", "s_3")
    assert entry is not None and entry["query"] == "blue tent" and entry["min_shoppers"] == 3
    assert log.record("blue tent", "u_4") is None  # written once
    assert _queries(path) == ["blue tent"]
    assert "u_1" not in path.read_text()  # who searched it is not written
    assert ZeroResultLog(path, min_shoppers=3).released == {"blue tent"}  # after a restart


def test_erasure_takes_a_pending_contribution_back(tmp_path: Path) -> None:
    log = ZeroResultLog(tmp_path / "zero.jsonl", min_shoppers=3)
    log.record("rare thing", "u_1")
    log.record("rare thing", "u_2")
    assert log.forget("u_2") == 1 and log.pending("rare thing") == 1
    assert log.record("rare thing", "u_3") is None  # only 2 distinct shoppers now
    assert log.record("rare thing", "u_4") is not None


def test_old_verbatim_lines_and_retention(tmp_path: Path) -> None:
    path = tmp_path / "zero.jsonl"
    now = time.time()
    path.write_text(json.dumps({"query": "bob's phone 13800138000", "timestamp": now}) + "\n"
                    + json.dumps({"query": "kept", "timestamp": now, "min_shoppers": 10}) + "\n"
                    + json.dumps({"query": "old", "timestamp": now - 9e6, "min_shoppers": 10})
                    + "\n")
    log = ZeroResultLog(path, min_shoppers=10)
    assert _queries(path) == ["kept", "old"]  # lines written without the threshold are gone
    assert log.purge_before(now - 86400) == 1 and _queries(path) == ["kept"]
    with pytest.raises(ValueError):
        ZeroResultLog(path, min_shoppers=0)


def test_the_running_shop_logs_through_the_threshold(demo_shop_with_search) -> None:
    """Over HTTP: nine shoppers searching a nonsense word log nothing; the tenth does; an
    anonymous flood of the same word logs nothing, and neither do raw ids the caller cannot
    vouch for (no token: rotating `session=` would else make up shoppers)."""
    shop, client, headers = demo_shop_with_search
    path = shop.settings.home / "logs" / "zero_results.jsonl"
    word = "qzxjvkw"
    for _ in range(30):
        assert client.get("/v1/search", params={"q": word}, headers=headers).json()["total"] == 0
    for n in range(30):
        client.get("/v1/search", params={"q": word, "session": f"web-fake-{n:05d}"},
                   headers=headers)
    assert word not in _queries(path)

    def own(actor: str) -> dict[str, str]:
        return {**headers, TOKEN_HEADER: issue_shopper_token(shop.ids.secret_chain, actor, 600)[0]}

    for n in range(9):
        session = f"web-z-{n:05d}"
        client.get("/v1/search", params={"q": word, "session": session},
                   headers=own(shop.ids.session(session)))
    assert word not in _queries(path)
    client.get("/v1/search", params={"q": word, "user": "zed"}, headers=own(shop.ids.user("zed")))
    assert _queries(path).count(word) == 1


@pytest.fixture
def demo_shop_with_search(home: Path):
    from shopsense.training.lifecycle import quick_models, wire_online_updates

    shop = Shop(Settings(home=home, privacy=PrivacySettings(zero_result_min_shoppers=10)))
    shop.swap_models(quick_models(shop))
    wire_online_updates(shop)
    key = create_key(shop.store, "search")
    with TestClient(create_app(shop.settings, shop)) as client:
        yield shop, client, {"X-API-Key": key}
