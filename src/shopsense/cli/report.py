"""`shopsense eval report`: every component on the store's own data, with baselines and CIs."""

from __future__ import annotations

from pathlib import Path

import typer

from shopsense.cli.common import console, emit, settings


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    @eval_app.command("report")
    def report(ctx: typer.Context,
               out: Path = typer.Option(None, "--out", help="Default: <home>/eval/report"),
               sasrec_cpu_seconds: float = typer.Option(120.0, "--sasrec-cpu-seconds"),
               only: list[str] = typer.Option([], "--only", help="search | understand | recs | "
                                              "propensity | beyond | counterfactual"),
               as_json: bool = typer.Option(False, "--json")) -> None:
        """Evaluate search, recommendations, understanding and propensity; HTML + JSON."""
        from shopsense.cli.home import open_home
        from shopsense.evaluation.report import build_report, write_report
        from shopsense.pipeline.shop import Shop
        from shopsense.training.lifecycle import load_models, quick_models

        cfg = settings(ctx)
        shop = Shop(cfg, open_home(cfg))
        with console.status("loading models"):
            shop.swap_models(load_models(shop) or quick_models(shop))
        sections = tuple(only) or ("search", "understand", "recs", "propensity", "beyond",
                                   "counterfactual")
        with console.status("evaluating " + ", ".join(sections)):
            result = build_report(shop, sasrec_cpu_seconds=sasrec_cpu_seconds, sections=sections)
        paths = write_report(result, out or cfg.home / "eval" / "report")
        emit({**paths, "summary": _summary(result)}, as_json)


def _summary(result: dict) -> dict:
    out = {}
    if "search" in result:
        out["search_ndcg@10"] = result["search"]["ndcg@10"]
        out["search_bm25_ndcg@10"] = result["search"]["baseline_bm25"]["ndcg@10"]
    if "recs" in result:
        out["recs_ndcg@10"] = result["recs"]["blend"]["ndcg@10"]
        out["recs_popularity_ndcg@10"] = result["recs"]["baseline_popularity"]["ndcg@10"]
    if "understand" in result:
        out["understand_category_accuracy"] = result["understand"]["category_accuracy"]
    return out
