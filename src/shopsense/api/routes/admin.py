"""Operator endpoints (admin scope) under /v1/admin: differentially private behaviour
analytics, their charts and CSV export, the privacy ledger, evaluation reports with plots,
and model status. Thin: each route calls one function of `shopsense.analytics`.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from shopsense.analytics import charts, evalreports
from shopsense.analytics.aggregates import read_zero_result_log
from shopsense.analytics.readout import MIN_SAMPLE
from shopsense.analytics.report import (
    EmptyWindow,
    ReleaseParams,
    behaviour_release,
    latest_release,
    open_ledger,
    release_csv,
)
from shopsense.analytics.status import model_status
from shopsense.api.deps import api_error, get_shop, require_admin
from shopsense.pipeline.shop import Shop
from shopsense.privacy.dp import BudgetExceeded, PrivacyLedger
from shopsense.training.progress import read_progress

router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[Depends(require_admin)])
_PNG = {"Cache-Control": "no-store"}


class ReleaseIn(BaseModel):
    epsilon: float | None = Field(None, ge=0.001, le=100, description="Epsilon per aggregate "
                                  "(default: privacy.dp_epsilon).")
    mechanism: Literal["laplace", "gaussian"] = "laplace"
    delta: float = Field(1e-5, gt=0, lt=0.01)
    days: int = Field(90, ge=1, le=366)
    per_user_cap: int | None = Field(None, ge=1, le=1000)
    refresh: bool = Field(False, description="Spend budget on fresh noise even if nothing changed.")
    min_sample: int = Field(MIN_SAMPLE, ge=1, le=1_000_000, description="Rates from fewer "
                            "trials are withheld (post-processing; spends nothing).")


def ledger_of(request: Request) -> PrivacyLedger:
    """One ledger per app (created on first use); its budget follows the settings."""
    state = request.app.state
    if getattr(state, "privacy_ledger", None) is None:
        state.privacy_ledger = open_ledger(state.shop.store, state.settings.privacy)
        state.release_lock = threading.Lock()
    return state.privacy_ledger


def _latest(request: Request, min_sample: int = MIN_SAMPLE) -> dict[str, Any]:
    body = latest_release(ledger_of(request), min_sample)
    if body is None:
        raise api_error(404, "no_release", "no analytics release yet: POST /v1/admin/analytics")
    return body


@router.get("/analytics", summary="The latest DP analytics release (spends nothing)")
def get_analytics(request: Request, min_sample: int = Query(MIN_SAMPLE, ge=1, le=1_000_000)
                  ) -> dict[str, Any]:
    return _latest(request, min_sample)


@router.post("/analytics", summary="Release DP analytics (spends budget unless cached)")
def post_analytics(request: Request, body: ReleaseIn = Body(default_factory=ReleaseIn),
                   shop: Shop = Depends(get_shop)) -> dict[str, Any]:
    privacy = shop.settings.privacy
    params = ReleaseParams(epsilon=body.epsilon or privacy.dp_epsilon, mechanism=body.mechanism,
                           delta=body.delta, days=body.days,
                           per_user_cap=body.per_user_cap or privacy.per_user_cap,
                           min_sample=body.min_sample)
    ledger = ledger_of(request)
    with request.app.state.release_lock:
        zero = read_zero_result_log(shop.settings.home / "logs" / "zero_results.jsonl")
        try:
            return behaviour_release(shop.store, params, ledger=ledger, refresh=body.refresh,
                                     zero_result_queries=zero,
                                     entities_file=shop.settings.home / "entities.json")
        except BudgetExceeded as exc:
            raise api_error(409, "budget_exceeded", str(exc), "epsilon") from exc
        except EmptyWindow as exc:
            raise api_error(409, "empty_window", str(exc), "days") from exc


@router.get("/analytics/export.csv", summary="The latest release as CSV (noisy counts only)")
def export_csv(request: Request) -> Response:
    return Response(release_csv(_latest(request)), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": "attachment; filename=analytics.csv"})


@router.get("/privacy/ledger", summary="Every release with its epsilon and delta")
def get_ledger(request: Request, limit: int = Query(50, ge=1, le=1000)) -> dict[str, Any]:
    ledger = ledger_of(request)
    return {**ledger.describe(), "entries": [e.to_dict() for e in ledger.entries(limit)]}


@router.get("/charts/{name}.png", summary="A chart of the latest release (PNG)")
def get_chart(request: Request, name: str, lang: Literal["en", "zh"] = "en") -> Response:
    if name not in charts.CHART_NAMES:
        raise api_error(404, "not_found", f"unknown chart {name!r}", "name")
    release = _latest(request)
    if name not in release["aggregates"]:
        raise api_error(404, "not_found", f"release has no {name!r}; make a new one", "name")
    return Response(charts.release_chart(name, release, lang), media_type="image/png",
                    headers=_PNG)


@router.get("/eval", summary="The latest `shopsense eval` reports under <home>/eval")
def get_eval(shop: Shop = Depends(get_shop)) -> dict[str, Any]:
    reports = evalreports.latest_reports(shop.settings.home)
    return {"folder": str(evalreports.eval_dir(shop.settings.home)),
            "how_to": evalreports.HOW_TO, "reports": [r.summary() for r in reports]}


@router.get("/eval/charts/{kind}.png", summary="Metrics or calibration plot of one report")
def get_eval_chart(kind: Literal["metrics", "calibration"], file: str = Query(...),
                   shop: Shop = Depends(get_shop)) -> Response:
    report = evalreports.find_report(shop.settings.home, file)
    if report is None:
        raise api_error(404, "not_found", f"no eval report {file!r}", "file")
    if kind == "metrics":
        table = evalreports.common_metrics(evalreports.metric_table(report.data,
                                                                    Path(file).stem))
        if not table:
            raise api_error(404, "not_found", f"{file} has no [0, 1] metrics", "file")
        png = charts.grouped_metrics(table, f"{file}: metrics per model and baseline")
    else:
        curves = evalreports.calibration_curves(report.data)
        if not curves:
            raise api_error(404, "not_found", f"{file} has no calibration curve", "file")
        png = charts.calibration(curves[:6], f"{file}: calibration")
    return Response(png, media_type="image/png", headers=_PNG)


@router.get("/models", summary="Serving model versions, training time, data sizes, freshness, "
            "and the latest training run's stages with elapsed time and ETA")
def get_models(request: Request, shop: Shop = Depends(get_shop)) -> dict[str, Any]:
    manager = getattr(request.app.state, "model_manager", None)
    from shopsense.privacy.maintenance import retention_status

    body = model_status(shop, training=getattr(manager, "status", None))
    maintenance = getattr(request.app.state, "privacy", None)
    body["retention"] = {"last_run": retention_status(shop.store),
                         "retention_days": shop.settings.privacy.retention_days,
                         "model_retention_days": shop.settings.privacy.model_retention_days,
                         "interval_s": shop.settings.privacy.retention_interval_s,
                         "maintenance": getattr(maintenance, "status", None)}
    body["progress"] = read_progress(shop.settings.home)  # the latest training run
    return body
