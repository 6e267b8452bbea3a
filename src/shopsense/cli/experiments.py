"""`shopsense experiments create|list|stop|report`: online experiments on a home's store (the
same definitions, checks and report as /v1/admin/experiments; a running server picks a new or
stopped experiment up within seconds)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from shopsense.cli.common import emit, fail, settings, sub_app

ARM_HELP = ("NAME or NAME:OVERLAY_JSON, e.g. control  fusion:'{\"ranker\": \"fusion\"}' "
            "(equal shares; use --spec for others)")


def _shop(ctx: typer.Context) -> Any:
    from shopsense.cli.home import open_home
    from shopsense.pipeline.shop import Shop

    cfg = settings(ctx)
    return Shop(cfg, open_home(cfg))


def _arm(text: str) -> dict[str, Any]:
    name, sep, overlay = text.partition(":")
    if not sep:
        return {"name": name, "overlay": {}}
    try:
        return {"name": name, "overlay": json.loads(overlay)}
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"--arm {name}: the overlay is not JSON ({exc.msg})") from None


def _spec(spec: Path | None, name: str | None, kind: str, surface: str, traffic: float,
          metric: str, arms: list[str]) -> Any:
    if spec is not None:
        text = sys.stdin.read() if str(spec) == "-" else spec.read_text(encoding="utf-8")
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise typer.BadParameter(f"--spec is not JSON ({exc.msg})") from None
    return {"name": name, "kind": kind, "surface": surface, "traffic": traffic,
            "metric": metric, "arms": [_arm(a) for a in arms]}


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    group = sub_app(app, "experiments", "Online experiments: A/B tests and interleaving.")

    @group.command("create")
    def create(ctx: typer.Context,
               spec: Path = typer.Option(None, "--spec", help="JSON definition (docs/API.md, "
                                         "\"Experiments\"); - reads stdin"),
               name: str = typer.Option(None, "--name"),
               kind: str = typer.Option("ab", "--kind", help="ab | interleaving"),
               surface: str = typer.Option("for_you", "--surface", help="for_you | search"),
               traffic: float = typer.Option(1.0, "--traffic", help="Share of shoppers in it."),
               metric: str = typer.Option("clicks", "--metric",
                                          help="clicks | add_to_cart | conversion | revenue"),
               arm: list[str] = typer.Option([], "--arm", help=ARM_HELP),
               as_json: bool = typer.Option(False, "--json")) -> None:
        """Start an experiment (one per surface at a time)."""
        from shopsense.pipeline import experiments
        from shopsense.pipeline.shop import InputError

        try:
            record = experiments.create(_shop(ctx), _spec(spec, name, kind, surface, traffic,
                                                          metric, arm))
        except InputError as exc:
            fail(f"{exc.field}: {exc.reason}")
        except experiments.Conflict as exc:
            fail(str(exc))
        emit(experiments.summary(record, 0), as_json,
             f"started {record.id} ({record.kind} on {record.surface}): {record.name}")

    @group.command("list")
    def list_(ctx: typer.Context,
              status: str = typer.Option(None, "--status", help="running | stopped"),
              as_json: bool = typer.Option(False, "--json")) -> None:
        """Experiments, newest first, with their visitors so far."""
        from shopsense.pipeline import experiments

        if status not in (None, "running", "stopped"):
            fail("--status must be running or stopped")
        repo = experiments.registry_of(_shop(ctx)).repo
        rows = [experiments.summary(r, len(repo.assignments(r.id))) for r in repo.list(status)]
        human = "\n".join(f"{r['id']}  {r['status']:<8} {r['kind']:<12} {r['surface']:<8} "
                          f"{r['visitors']:>7} visitors  {r['name']}" for r in rows) \
            or "no experiments"
        emit({"experiments": rows}, as_json, human)

    @group.command("stop")
    def stop(ctx: typer.Context, experiment_id: str = typer.Argument(...),
             as_json: bool = typer.Option(False, "--json")) -> None:
        """Stop an experiment: its shoppers get the shop's configuration again."""
        from shopsense.pipeline import experiments

        try:
            record = experiments.stop(_shop(ctx), experiment_id)
        except KeyError:
            fail(f"no experiment {experiment_id!r}")
        emit(experiments.summary(record), as_json, f"{record.id} stopped")

    @group.command("report")
    def report(ctx: typer.Context, experiment_id: str = typer.Argument(...),
               as_json: bool = typer.Option(False, "--json")) -> None:
        """Per-arm outcomes with intervals, the SRM check and the always-valid test."""
        from shopsense.evaluation.experiment_report import report as build
        from shopsense.pipeline import experiments

        shop = _shop(ctx)
        record = experiments.registry_of(shop).repo.get(experiment_id)
        if record is None:
            fail(f"no experiment {experiment_id!r}")
        emit(build(shop.store, record), as_json)
