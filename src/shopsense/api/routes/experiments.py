"""Online experiments (admin scope) under /v1/admin/experiments: list, create (an A/B test
or a team-draft interleaving on `for_you` or `search`), one experiment, stop it, its report.
Thin: definitions and serving in pipeline/experiments.py, storage in store/experiments.py,
the report in evaluation/experiment_report.py (docs/API.md, "Experiments").
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Path, Query

from shopsense.api.deps import api_error, get_shop, require_admin
from shopsense.evaluation.experiment_report import report
from shopsense.pipeline import experiments
from shopsense.pipeline.shop import Shop
from shopsense.store.experiments import ExperimentRecord

router = APIRouter(prefix="/v1/admin/experiments", tags=["admin"])
ID = Path(..., pattern=r"^x[0-9a-f]{8}$", description="The experiment's id (x + 8 hex).")
EXAMPLE = {"name": "fusion vs learned ranker", "kind": "ab", "surface": "for_you",
           "traffic": 1.0, "metric": "clicks",
           "arms": [{"name": "control", "share": 0.5, "overlay": {}},
                    {"name": "fusion", "share": 0.5, "overlay": {"ranker": "fusion"}}]}


def _get(shop: Shop, experiment_id: str) -> ExperimentRecord:
    record = experiments.registry_of(shop).repo.get(experiment_id)
    if record is None:
        raise api_error(404, "not_found", f"no experiment {experiment_id!r}", "id")
    return record


@router.get("", summary="Experiments, newest first")
def list_experiments(status: str | None = Query(None, pattern="^(running|stopped)$"),
                     shop: Shop = Depends(get_shop), _: str = Depends(require_admin)
                     ) -> dict[str, Any]:
    repo = experiments.registry_of(shop).repo
    return {"experiments": [experiments.summary(r, len(repo.assignments(r.id)))
                            for r in repo.list(status)]}


@router.post("", status_code=201, summary="Start an A/B test or an interleaving")
def create_experiment(body: Any = Body(..., examples=[EXAMPLE]),
                      shop: Shop = Depends(get_shop), _: str = Depends(require_admin)
                      ) -> dict[str, Any]:
    try:
        record = experiments.create(shop, body)
    except experiments.Conflict as exc:
        raise api_error(409, "conflict", str(exc), "surface") from None
    return experiments.summary(record, 0)


@router.get("/{experiment_id}", summary="One experiment")
def get_experiment(experiment_id: str = ID, shop: Shop = Depends(get_shop),
                   _: str = Depends(require_admin)) -> dict[str, Any]:
    record = _get(shop, experiment_id)
    return experiments.summary(record, len(experiments.registry_of(shop).repo.assignments(
        record.id)))


@router.post("/{experiment_id}/stop", summary="Stop an experiment (its report stays)")
def stop_experiment(experiment_id: str = ID, shop: Shop = Depends(get_shop),
                    _: str = Depends(require_admin)) -> dict[str, Any]:
    _get(shop, experiment_id)
    return experiments.summary(experiments.stop(shop, experiment_id))


@router.get("/{experiment_id}/report", summary="Per-arm outcomes, SRM, always-valid test")
def experiment_report(experiment_id: str = ID, shop: Shop = Depends(get_shop),
                      _: str = Depends(require_admin)) -> dict[str, Any]:
    return report(shop.store, _get(shop, experiment_id))
