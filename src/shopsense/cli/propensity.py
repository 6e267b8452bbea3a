"""Commands: `shopsense propensity`, `shopsense audience`, `shopsense eval propensity`, and the
shop's standing merchandising rules (`shopsense rules show | set FILE`)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from shopsense.cli.common import emit, fail, settings, sub_app

MODEL_HELP = "logistic | gbm"


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    _register_rules(app)

    @app.command("propensity")
    def propensity(
        ctx: typer.Context,
        user: str = typer.Option(..., "--user", help="Raw user id (pseudonymised here)."),
        category: str = typer.Option(None, "--category", help="P(buy in this category path)."),
        horizon: float = typer.Option(7.0, "--horizon", help="Days ahead."),
        model: str = typer.Option("logistic", "--model", help=MODEL_HELP),
        retrain: bool = typer.Option(False, "--retrain", help="Refit on the store first."),
        top: int = typer.Option(5, "--explain", help="Features to show."),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Probability that one shopper buys within the horizon, with its reasons."""
        from shopsense.ids import Pseudonymizer
        from shopsense.models.propensity_store import shopper_report

        cfg = settings(ctx)
        fitted = _load(cfg, horizon, model, retrain)
        report = shopper_report(fitted, Pseudonymizer.from_home(cfg.home).user(user),
                                category=category, top=top)
        lines = [f"{user}: P(buy{' in ' + category if category else ''} within {horizon:g} days)"
                 f" = {report['probability']:.3f}"]
        lines += [f"  {g['contribution']:+.2f}  {g['text_en']} / {g['text_zh']}"
                  for g in report["groups"]]
        lines += ["  features:"] + [
            f"  {r['contribution']:+.2f}  {r['text_en']} / {r['text_zh']}: {r['value']:.4g}"
            for r in report["raised_by"] + report["lowered_by"]]
        emit({"user": user, **report}, as_json, "\n".join(lines))

    @app.command("audience")
    def audience(
        ctx: typer.Context,
        category: str = typer.Option(None, "--category", help="Category path, e.g. '家电 > 空调'."),
        item: str = typer.Option(None, "--item", help="Item id instead of a category."),
        n: int = typer.Option(100, "--n", min=1),
        horizon: float = typer.Option(7.0, "--horizon"),
        model: str = typer.Option("logistic", "--model", help=MODEL_HELP),
        retrain: bool = typer.Option(False, "--retrain"),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """The N shoppers (pseudonyms) most likely to buy in a category or an item."""
        from shopsense.models.propensity_store import audience_report

        fitted = _load(settings(ctx), horizon, model, retrain)
        try:
            report = audience_report(fitted, category=category, item_id=item, n=n)
        except (KeyError, RuntimeError) as exc:
            fail(str(exc))
        lines = [f"{r['user_id']}  {r['probability']:.3f}" for r in report["shoppers"]]
        emit(report, as_json, "\n".join(lines) or "(nobody)")

    @eval_app.command("propensity")
    def eval_propensity(
        events: Path = typer.Option(..., "--events", exists=True, dir_okay=False),
        catalog: Path = typer.Option(None, "--catalog", exists=True, dir_okay=False),
        horizon: float = typer.Option(7.0, "--horizon"),
        models: str = typer.Option("logistic,gbm", "--models", help="Comma-separated."),
        seed: int = typer.Option(0, "--seed"),
        until: str = typer.Option(None, "--until",
                                  help="End the stream here (ISO 8601 or unix seconds); the "
                                       "test window is the horizon before it."),
        out: Path = typer.Option(None, "--out", help="Also write the JSON report here."),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """AUC, Brier, ECE and reliability of both models on the last `horizon` days."""
        from shopsense.evaluation.propensity import (
            evaluate_propensity,
            load_events,
            load_products,
            summary_table,
        )
        from shopsense.ingest.validate import parse_timestamp

        products = load_products(catalog) if catalog is not None else {}
        try:
            end = parse_timestamp(until) if until is not None else None
            report = evaluate_propensity(load_events(events), products, horizon_days=horizon,
                                         models=[m.strip() for m in models.split(",")], seed=seed,
                                         until=end)
        except ValueError as exc:
            fail(str(exc))
        if out is not None:
            out.write_text(json.dumps(report, ensure_ascii=False, indent=2))
        emit(report, as_json, summary_table(report))


def _register_rules(app: typer.Typer) -> None:
    rules_app = sub_app(app, "rules", "The shop's standing merchandising rules (<home>/rules.json).")

    @rules_app.command("show")
    def show(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
        """Print the shop's rules."""
        from shopsense.rank.rules import load_shop_rules

        emit(load_shop_rules(settings(ctx).home).model_dump(), as_json)

    @rules_app.command("set")
    def set_rules(ctx: typer.Context,
                  path: Path = typer.Argument(..., exists=True, dir_okay=False),
                  as_json: bool = typer.Option(False, "--json")) -> None:
        """Validate a rules JSON file and make it the shop's rules."""
        from pydantic import ValidationError

        from shopsense.rank.rules import Rules, save_shop_rules

        try:
            rules = Rules.model_validate_json(path.read_text(encoding="utf-8"))
        except ValidationError as exc:
            fail(f"{path}: {exc}")
            raise
        written = save_shop_rules(settings(ctx).home, rules)
        emit({"written": str(written), **rules.model_dump()}, as_json, f"rules saved to {written}")


def _load(cfg, horizon: float, model: str, retrain: bool):  # type: ignore[no-untyped-def]
    from shopsense.models.propensity_store import model_dir, propensity_for_store
    from shopsense.store import open_store

    store = open_store(cfg.store_url)
    try:
        return propensity_for_store(store, model_dir(cfg.home, model, horizon),
                                    horizon_days=horizon, model=model, retrain=retrain)
    except ValueError as exc:
        fail(str(exc))
        raise
