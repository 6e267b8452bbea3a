"""The model console: promotions stored in the store (SQLite file, PostgreSQL when a server is at
hand) and audited; an eval report's headline figures (with their intervals) on a version's card;
and, on a real home trained twice, the versions listed with their figures, one-click promote of
the older version (its saved models really serve, the promotion says who and when), roll back,
and the refusals (unknown version, the serving one, a public key) in the documented shape."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from shopsense.store.promotions import StorePromotionRepository
from shopsense.training.cards import attach_eval, eval_figures, list_cards, read_card, write_card


def test_promotions_are_stored_newest_first_and_audited(store) -> None:
    repo = StorePromotionRepository(store)
    assert repo.history() == [] and repo.latest_for("v1") is None
    first = repo.record("v2", "v1", "promote", "key:ops", "better recs")
    second = repo.record("v1", "v2", "rollback", "key:ops2", "")
    assert [p.version for p in repo.history()] == ["v1", "v2"]
    assert repo.latest_for("v2") == first and repo.latest_for("v1").action == "rollback"
    assert second.previous == "v2" and second.at >= first.at
    assert StorePromotionRepository(store).history(1)[0].actor == "key:ops2"  # another replica
    audit = store.execute("SELECT actor, action FROM audit_log WHERE action LIKE 'models.%'")
    assert [tuple(r) for r in audit] == [("key:ops", "models.promote"),
                                         ("key:ops2", "models.rollback")]
    with pytest.raises(ValueError):
        repo.record("v3", "v1", "delete", "key:ops", "")


def test_a_real_eval_report_lands_on_the_card(tmp_path: Path) -> None:
    # A private demo shop: the session's shared one gets events stamped "now" from other tests
    # (tests/privacy), which leave the propensity's held-out window empty (AUC undefined).
    from tests.conftest import build_demo_shop

    from shopsense.evaluation.report import build_report, write_report

    demo_shop = build_demo_shop(tmp_path / "home")
    report = build_report(demo_shop, sections=("search", "propensity"))
    paths = write_report(report, tmp_path / "eval" / "report")
    figures = eval_figures(json.loads(Path(paths["json"]).read_text()))
    search = figures["search"]
    low, high = search["shopsense"]["ndcg@10_ci"]
    assert low <= search["shopsense"]["ndcg@10"] <= high and search["queries"] > 20
    assert 0 <= search["bm25"]["ndcg@10"] <= 1
    assert 0 <= figures["propensity"]["auc"] <= 1 and "ece" in figures["propensity"]
    write_card(tmp_path, {"version": "20260101T000000-1", "seconds": 3.0,
                          "recs": {"training": "full"}})
    card = attach_eval(tmp_path, "20260101T000000-1", Path(paths["json"]))
    assert card is not None and card["eval"]["search"] == search
    assert read_card(tmp_path, "20260101T000000-1")["eval"]["propensity"] == \
        figures["propensity"]
    assert read_card(tmp_path, "../etc") is None and attach_eval(tmp_path, "nope",
                                                                 Path(paths["json"])) is None
    assert [c["version"] for c in list_cards(tmp_path)] == ["20260101T000000-1"]


@pytest.mark.slow
@pytest.mark.long  # two trainings and an evaluation in a child process: minutes
def test_train_twice_promote_the_older_and_roll_back(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient
    from tests.conftest import load_small_demo

    from shopsense.api.app import create_app
    from shopsense.api.keys import create_key
    from shopsense.config import Settings
    from shopsense.pipeline.recommend import models_root
    from shopsense.pipeline.shop import Shop
    from shopsense.training.cards import evaluate_version
    from shopsense.training.children import ChildProcess
    from shopsense.training.lifecycle import start_models, train_to_disk

    home = tmp_path / "home"
    load_small_demo(home)
    settings = Settings(home=home)
    first = train_to_disk(settings, max_minutes=0.1)["version"]
    time.sleep(1.1)  # version names are stamped to the second
    second = train_to_disk(settings, max_minutes=0.1)["version"]
    assert first != second and read_card(home, first)["search"]["serving"]
    shop = Shop(settings)
    start_models(shop, {})
    assert shop.models.version == second
    # the evaluation every background training is followed by, in a child process as there
    status: dict = {}
    card = evaluate_version(home, second, ChildProcess(), status, sasrec_cpu_seconds=5)
    assert status["eval_state"] == "done", status
    low, high = card["eval"]["search"]["shopsense"]["ndcg@10_ci"]
    assert low <= card["eval"]["search"]["shopsense"]["ndcg@10"] <= high
    assert 0 <= card["eval"]["recs"]["shopsense"]["hr@10"] <= 1
    admin, public = create_key(shop.store, "admin"), create_key(shop.store, "search")
    with TestClient(create_app(settings, shop)) as client:
        client.headers["X-API-Key"] = admin
        listed = client.get("/v1/admin/models/versions").json()
        assert listed["serving"] == second and listed["rollback_to"] == first
        assert [v["version"] for v in listed["versions"]] == [second, first]
        assert all(v["search"] and v["recs"]["events"] for v in listed["versions"])
        assert "status" not in listed["versions"][0] and listed["versions"][0]["eval"]
        evaluation = client.get("/v1/admin/eval").json()  # the Evaluation tab: filled
        assert evaluation["reports"] and evaluation["automatic"]["enabled"]
        refused = client.post("/v1/admin/models/promote", json={"version": first},
                              headers={"X-API-Key": public})
        assert refused.status_code == 403 and shop.models.version == second
        done = client.post("/v1/admin/models/promote", json={"version": first, "note": "A/B"})
        assert done.status_code == 200, done.text
        assert done.json()["serving"] == first == shop.models.version
        assert (models_root(home) / "current").read_text().strip() == first
        assert json.loads((home / "models" / "serving.json").read_text())["version"] == first
        promotion = done.json()["promotion"]
        assert promotion["actor"].startswith("key:") and promotion["previous"] == second
        served = client.get("/v1/recommend", params={"user": "u00001", "k": 5})
        assert served.status_code == 200 and served.json()["results"]
        listed = client.get("/v1/admin/models/versions").json()
        row = next(v for v in listed["versions"] if v["version"] == first)
        assert row["promotion"]["note"] == "A/B" and listed["rollback_to"] == second
        again = client.post("/v1/admin/models/promote", json={"version": first})
        assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
        back = client.post("/v1/admin/models/rollback", json={})
        assert back.status_code == 200 and shop.models.version == second
        assert back.json()["promotion"]["action"] == "rollback"
        assert back.json()["pinned"]["version"] == second
        # a training after the roll back keeps its version, but the pinned one serves on
        time.sleep(1.1)
        third = train_to_disk(settings, max_minutes=0.1)
        assert third["pinned"] and third["serving"] == second != third["version"]
        assert (models_root(home) / "current").read_text().strip() == second
        assert read_card(home, third["version"]) is not None
        assert client.post("/v1/admin/models/unpin").json()["was"]["version"] == second
        for bad, status in (({"version": "20990101T000000-1"}, 404),
                            ({"version": "../../etc"}, 422), ({}, 422)):
            answer = client.post("/v1/admin/models/promote", json=bad)
            assert answer.status_code == status, answer.text
            assert set(answer.json()["error"]) == {"code", "message", "field"}
    audit = shop.store.execute("SELECT action FROM audit_log WHERE action LIKE 'models.%'")
    assert [r[0] for r in audit] == ["models.promote", "models.rollback", "models.unpin"]
