"""Experiments end to end over a real HTTP server on loopback: created, validated, served,
reported, stopped and erased through /v1/admin/experiments and the shopper endpoints, the
demo's simulated shoppers replayed against both arms, the dashboard tab served; and the
`shopsense experiments` commands on the same home."""

from __future__ import annotations

import json
import os
import socket
import threading
import time

import httpx
import pytest
from typer.testing import CliRunner

from shopsense.evaluation.simulate import load_tastes, simulate_experiment
from shopsense.pipeline import experiments

VARIANT = {"ranker": "fusion", "sources": ["covisit", "popular"]}


def _free_port() -> int:
    first = int(os.environ.get("SHOPSENSE_TEST_PORT_BASE", "8700"))
    for port in range(first, first + 50):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip("no free port in the test range")


@pytest.fixture(scope="module")
def served(exp_shop):
    import uvicorn

    from shopsense.api.app import create_app
    from shopsense.api.keys import create_key

    keys = {"search": create_key(exp_shop.store, "search"),
            "admin": create_key(exp_shop.store, "admin")}
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(exp_shop.settings, exp_shop),
                                           host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
        yield http, keys, exp_shop
    server.should_exit = True
    thread.join(timeout=10)


def _admin(keys) -> dict:
    return {"X-API-Key": keys["admin"]}


def _body(kind: str = "ab", **kw) -> dict:
    return {"name": f"e2e {kind}", "kind": kind, "surface": "for_you", "metric": "clicks",
            "arms": [{"name": "learned", "overlay": {}}, {"name": "fusion", "overlay": VARIANT}],
            **kw}


def test_bad_requests_get_the_documented_error_shape(served, clean) -> None:
    http, keys, _ = served
    cases = [({**_body(), "kind": "bandit"}, 422, "kind"),
             ({**_body(), "traffic": 2}, 422, "traffic"),
             ({**_body(), "arms": []}, 422, "arms"),
             (_body(arms=[{"name": "a"}, {"name": "b", "overlay": {"ranker": "x"}}]), 422,
              "arms[1].overlay.ranker"),
             ([1, 2], 422, "body")]
    for body, status, field in cases:
        got = http.post("/v1/admin/experiments", json=body, headers=_admin(keys))
        assert got.status_code == status, got.text
        error = got.json()["error"]
        assert error["field"] == field and error["code"] == "invalid" and error["message"]
    raw = http.post("/v1/admin/experiments", content=b"{not json",
                    headers={**_admin(keys), "Content-Type": "application/json"})
    assert raw.status_code in (400, 422) and raw.json()["error"]["code"]
    assert http.post("/v1/admin/experiments", json=_body(),
                     headers={"X-API-Key": keys["search"]}).status_code in (401, 403)
    missing = http.get("/v1/admin/experiments/x0000dead", headers=_admin(keys))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert http.get("/v1/admin/experiments/../../etc", headers=_admin(keys)).status_code \
        in (404, 422)
    bad = http.get("/v1/admin/experiments/NOT-AN-ID/report", headers=_admin(keys))
    assert bad.status_code == 422 and bad.json()["error"]["field"]
    assert http.get("/v1/admin/experiments", params={"status": "paused"},
                    headers=_admin(keys)).status_code == 422


def test_ab_end_to_end_through_the_api(served, clean) -> None:
    http, keys, shop = served
    created = http.post("/v1/admin/experiments", json=_body(), headers=_admin(keys))
    assert created.status_code == 201, created.text
    xid = created.json()["id"]
    clash = http.post("/v1/admin/experiments", json=_body(), headers=_admin(keys))
    assert clash.status_code == 409 and clash.json()["error"]["code"] == "conflict"
    search_key = {"X-API-Key": keys["search"]}
    users = sorted({e.user_id for e in shop.store.iter_events() if e.user_id})[:40]
    raw_ids = [json.loads(line)["user_id"] for line in
               (shop.settings.home / "demo" / "shoppers_truth.jsonl").read_text().splitlines()]
    arms_seen = set()
    for raw in raw_ids[:40]:  # a storefront: answer -> impression (with the tag) -> click
        token = http.post("/v1/shopper-tokens", json={"user_id": raw},
                          headers=_admin(keys)).json()["token"]  # the shopper's own cookie
        answer = http.get("/v1/recommend", params={"user": raw, "k": 6},
                          headers={**search_key, "X-Shopper-Token": token}).json()
        x = answer["experiment"]
        assert x["id"] == xid and x["tag"] == f"{xid}:{x['arm']}"
        arms_seen.add(x["arm"])
        items = [r["item_id"] for r in answer["results"]]
        got = http.post("/v1/impressions", headers=search_key, json={
            "request_id": answer["request_id"], "surface": "for_you", "user_id": raw,
            "items": items, "policy": answer["policy"], "arm": x["tag"]})
        assert got.json()["accepted"] == 1
        event = {"event_type": "click", "user_id": raw, "item_id": items[0],
                 "request_id": answer["request_id"]}
        assert http.post("/v1/events", json=[event], headers=search_key).json()[
            "clicks_attributed"] == 1
    assert arms_seen == {"learned", "fusion"} and users
    tastes = load_tastes(shop.settings.home / "demo" / "shoppers_truth.jsonl")
    sim = simulate_experiment(shop, tastes, xid, sessions=300, k=8, seed=2)
    assert sim["in_experiment"] == sim["lists"] == 300 and sim["clicks"] > 0
    report = http.get(f"/v1/admin/experiments/{xid}/report", headers=_admin(keys)).json()
    arms = report["arms"]
    assert arms["learned"]["visitors"] + arms["fusion"]["visitors"] == report["visitors"] > 40
    assert arms["learned"]["lists"] + arms["fusion"]["lists"] == 340
    assert 0 < arms["fusion"]["ctr"] <= 1 and arms["fusion"]["ctr_ci"][0] <= arms["fusion"][
        "ctr"] <= arms["fusion"]["ctr_ci"][1]
    assert {"sample_ratio", "comparisons", "series"} <= set(report)
    assert "fusion" in report["comparisons"] and "p_value" in report["comparisons"]["fusion"]
    listed = http.get("/v1/admin/experiments", headers=_admin(keys)).json()["experiments"]
    assert listed[0]["id"] == xid and listed[0]["visitors"] == report["visitors"]
    stopped = http.post(f"/v1/admin/experiments/{xid}/stop", headers=_admin(keys)).json()
    assert stopped["status"] == "stopped" and stopped["stopped_at"]
    answer = http.get("/v1/recommend", params={"user": raw_ids[0], "k": 6},
                      headers=_admin(keys)).json()
    assert "experiment" not in answer
    again = http.get(f"/v1/admin/experiments/{xid}/report", headers=_admin(keys)).json()
    assert again["visitors"] == report["visitors"] and again["status"] == "stopped"
    # erasure removes the shopper's assignment
    pseudonym = shop.actor(raw_ids[0])
    repo = experiments.registry_of(shop).repo
    assert pseudonym in {a.actor for a in repo.assignments(xid)}
    erased = http.delete(f"/v1/users/{raw_ids[0]}", headers=_admin(keys))
    assert erased.status_code == 200, erased.text
    assert pseudonym not in {a.actor for a in repo.assignments(xid)}


def test_interleaving_end_to_end_and_on_the_dashboard(served, clean) -> None:
    http, keys, shop = served
    created = http.post("/v1/admin/experiments", json=_body("interleaving"),
                        headers=_admin(keys))
    assert created.status_code == 201
    xid = created.json()["id"]
    tastes = load_tastes(shop.settings.home / "demo" / "shoppers_truth.jsonl")
    sim = simulate_experiment(shop, tastes, xid, sessions=400, k=8, seed=5)
    assert sim["in_experiment"] == 400
    report = http.get(f"/v1/admin/experiments/{xid}/report", headers=_admin(keys)).json()
    assert report["lists"] == 400 and report["lists_with_clicks"] > 50
    assert report["wins"]["learned"] + report["wins"]["fusion"] + report["ties"] == \
        report["lists_with_clicks"]
    assert len(report["series"]["p_value"]) == min(report["lists_with_clicks"], 200)
    assert not report["balance"]["mismatch"]
    page = http.get("/admin")
    assert page.status_code == 200 and "/static/experiments.js" in page.text
    script = http.get("/static/experiments.js")
    assert script.status_code == 200
    for text in ("/v1/admin/experiments", "echarts", "x_p_plot"):
        assert text in script.text
    strings = http.get("/static/i18n.js").text
    for text in ("tab_experiments", "在线实验", "Experiments", "始终有效 p 值", "Always-valid p"):
        assert text in strings
    admin_js = http.get("/static/admin.js").text
    assert '"experiments"' in admin_js and "SSExperiments" in admin_js
    assert http.get("/v1/admin/experiments", params={"status": "running"},
                    headers=_admin(keys)).json()["experiments"][0]["id"] == xid


def test_cli_create_list_report_stop(exp_shop, clean) -> None:
    from shopsense.cli import app

    runner = CliRunner()
    home = ["--home", str(exp_shop.settings.home)]
    out = runner.invoke(app, [*home, "experiments", "create", "--name", "cli test",
                              "--arm", "learned", "--arm", f"fusion:{json.dumps(VARIANT)}",
                              "--metric", "conversion", "--json"])
    assert out.exit_code == 0, out.output
    made = json.loads(out.stdout)
    assert made["status"] == "running" and made["arms"][1]["overlay"]["sources"] == [
        "covisit", "popular"]
    bad = runner.invoke(app, [*home, "experiments", "create", "--name", "x", "--arm", "a",
                              "--arm", "b:{not json"])
    assert bad.exit_code != 0
    bad = runner.invoke(app, [*home, "experiments", "create", "--name", "x", "--arm", "a",
                              "--arm", "b", "--kind", "bandit"])
    assert bad.exit_code == 2 and "kind" in bad.output
    listed = json.loads(runner.invoke(app, [*home, "experiments", "list", "--json"]).stdout)
    assert listed["experiments"][0]["id"] == made["id"]
    report = runner.invoke(app, [*home, "experiments", "report", made["id"], "--json"])
    assert report.exit_code == 0 and json.loads(report.stdout)["metric"] == "conversion"
    assert runner.invoke(app, [*home, "experiments", "report", "x0000dead"]).exit_code == 2
    stop = runner.invoke(app, [*home, "experiments", "stop", made["id"], "--json"])
    assert json.loads(stop.stdout)["status"] == "stopped"
    experiments.registry_of(exp_shop).refresh()
