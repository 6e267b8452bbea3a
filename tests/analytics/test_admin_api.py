"""/v1/admin over a real app and SQLite file: admin scope enforced, DP release, charts as
real PNGs, CSV export, the ledger, evaluation reports (written by the real evaluation code's
report builder) with their plots, and model status."""

from __future__ import annotations

import csv
import io
import json
import os
import time
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from shopsense.api.app import create_app
from shopsense.api.keys import create_key
from shopsense.config import Settings
from shopsense.domain import Event, Product
from shopsense.evaluation.propensity import binary_report
from shopsense.pipeline.shop import Shop

PNG = b"\x89PNG\r\n\x1a\n"
DAY = 86_400.0


@pytest.fixture
def admin_env(tmp_path: Path):
    settings = Settings(home=tmp_path)
    shop = Shop(settings)
    shop.store.upsert_products([
        Product("a1", "格力 空调", category="家电 > 空调", brand="格力", price=2999.0),
        Product("s1", "Nike shoes", category="鞋靴 > 运动鞋", brand="Nike", price=599.0)])
    start = time.time() - 5 * DAY
    events = [Event(f"e{n}", kind, start + n * 2000, f"u{n % 7}", f"s{n % 11}", item,
                    "空调" if kind == "search" else None, None, ("web", "app")[n % 2])
              for n, (kind, item) in enumerate([("search", None), ("view", "a1"), ("cart", "a1"),
                                                ("purchase", "a1"), ("view", "s1")] * 30)]
    shop.store.add_events(events)
    app = create_app(settings, shop)
    admin, search = create_key(shop.store, "admin"), create_key(shop.store, "search")
    with TestClient(app) as client:
        yield client, {"X-API-Key": admin}, {"X-API-Key": search}, tmp_path


def test_admin_scope_is_required(admin_env) -> None:
    client, _admin, search, _ = admin_env
    assert client.get("/v1/admin/analytics").status_code == 401
    assert client.get("/v1/admin/models", headers=search).status_code == 403
    assert client.get("/v1/admin/charts/funnel_daily.png", headers=search).status_code == 403


def test_release_charts_csv_and_ledger(admin_env) -> None:
    client, admin, _search, _ = admin_env
    assert client.get("/v1/admin/analytics", headers=admin).status_code == 404  # none yet
    body = client.post("/v1/admin/analytics", headers=admin,
                       json={"epsilon": 0.5, "mechanism": "gaussian", "days": 7}).json()
    assert body["privacy"]["mechanism"] == "gaussian"
    assert body["privacy"]["spent_epsilon_total"] == pytest.approx(body["privacy"]["epsilon"])
    latest = client.get("/v1/admin/analytics", headers=admin).json()
    assert latest["privacy"]["seq"] == body["privacy"]["seq"]
    for name in ("funnel_daily", "brand_share", "top_queries"):
        png = client.get(f"/v1/admin/charts/{name}.png?lang=zh", headers=admin)
        assert png.status_code == 200 and png.content.startswith(PNG), name
    assert client.get("/v1/admin/charts/nope.png", headers=admin).status_code == 404
    rows = list(csv.DictReader(io.StringIO(
        client.get("/v1/admin/analytics/export.csv", headers=admin).text)))
    assert {r["aggregate"] for r in rows} >= {"funnel_daily", "platform_split"}
    assert all(int(r["count"]) >= 0 for r in rows)
    ledger = client.get("/v1/admin/privacy/ledger", headers=admin).json()
    assert len(ledger["entries"]) == 1 and ledger["budget"] > ledger["spent_epsilon"]


def test_budget_exhaustion_is_a_409(admin_env) -> None:
    client, admin, _search, _ = admin_env
    big = {"epsilon": 0.4, "days": 7}  # 0.4 x 12.5 = 5 per release; budget 10 in 30 days
    statuses = [client.post("/v1/admin/analytics", headers=admin,
                            json={**big, "refresh": True}).status_code for _ in range(3)]
    assert statuses[-1] == 409 and 200 in statuses


def test_eval_reports_and_plots(admin_env) -> None:
    client, admin, _search, home = admin_env
    empty = client.get("/v1/admin/eval", headers=admin).json()
    assert empty["reports"] == [] and "shopsense eval" in empty["how_to"]
    rng = np.random.default_rng(0)
    prob = rng.uniform(0, 1, 400)
    y = (rng.uniform(0, 1, 400) < prob).astype(float)
    report = {"models": {"logistic": {"general": binary_report(y, prob)},
                         "gbm": {"general": binary_report(y, np.clip(prob * 0.8, 0, 1))}},
              "baselines": {"previous_window_rate": binary_report(y, np.full(400, y.mean())),
                            "heuristic_recent_activity_auc": 0.61}}
    (home / "eval").mkdir()
    (home / "eval" / "propensity.json").write_text(json.dumps(report))
    listed = client.get("/v1/admin/eval", headers=admin).json()["reports"]
    assert listed[0]["name"] == "propensity.json"
    metrics = listed[0]["metrics"]
    assert metrics["logistic"]["auc"] == pytest.approx(report["models"]["logistic"]["general"]["auc"])
    assert "auc" in metrics["baseline:previous_window_rate"]  # lines up with the models' auc
    assert metrics["baseline"]["heuristic_recent_activity_auc"] == 0.61
    assert "n" not in metrics["logistic"]  # counts are not metrics
    assert set(listed[0]["calibration"]) >= {"logistic.general", "gbm.general"}
    for kind in ("metrics", "calibration"):
        png = client.get(f"/v1/admin/eval/charts/{kind}.png?file=propensity.json", headers=admin)
        assert png.status_code == 200 and png.content.startswith(PNG)
    assert client.get("/v1/admin/eval/charts/metrics.png?file=x.json", headers=admin).status_code == 404


def test_model_status_reports_sizes_and_freshness(admin_env) -> None:
    client, admin, _search, _ = admin_env
    status = client.get("/v1/admin/models", headers=admin).json()
    assert status["store"]["products"] == 2 and status["store"]["events"] == 150
    assert status["store"]["events_by_type"]["purchase"] == 30
    assert status["version"] == "none" and status["trained_at"] is None
    assert status["freshness"]["last_event_age_s"] > 0
    assert os.environ.get("OMP_NUM_THREADS") == "1"


def test_metric_tables_of_search_and_recs_report_shapes() -> None:
    from shopsense.analytics.evalreports import common_metrics, metric_table

    search = {"ndcg@10": 0.61, "recall@100": 0.9, "p99_ms": 41.0, "queries": 120,
              "baseline_bm25": {"ndcg@10": 0.52, "recall@100": 0.8, "p99_ms": 3.0},
              "notes": ["x"]}
    table = metric_table(search, "search")
    assert table == {"search": {"ndcg@10": 0.61, "recall@100": 0.9},
                     "baseline_bm25": {"ndcg@10": 0.52, "recall@100": 0.8}}
    recs = {"shopsense": {"ndcg@10": 0.2, "hr@10": 0.4, "train_seconds": 30},
            "baseline_popularity": {"ndcg@10": 0.1, "hr@10": 0.2}, "peak_rss_mb": 900}
    assert metric_table(recs)["baseline_popularity"] == {"ndcg@10": 0.1, "hr@10": 0.2}
    many = {f"m{i}": {f"metric{j}": 0.5 for j in range(i + 1)} for i in range(12)}
    assert all(len(row) <= 8 for row in common_metrics(metric_table(many)).values())


def test_metric_names_shorten_only_when_unambiguous() -> None:
    from shopsense.analytics.evalreports import metric_table

    data = {"models": {"m": {"general": {"auc": 0.7, "ece": 0.02}, "category": {"auc": 0.6}}}}
    assert metric_table(data)["m"] == {"general.auc": 0.7, "category.auc": 0.6, "ece": 0.02}
