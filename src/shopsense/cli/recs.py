"""Commands: `shopsense train`, `shopsense recommend`, `shopsense eval recs`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer

from shopsense.cli.common import console, emit, fail, settings

SURFACES = "for-you | similar | bought-together | trending | next | new-shopper | new-item"


def _result_row(result: Any) -> dict[str, Any]:
    product = result.product
    return {"item_id": result.item_id, "score": round(result.score, 6),
            "title": product.title if product else None,
            "category": product.category if product else None,
            "signals": {k: round(v, 6) for k, v in result.signals.items()},
            "evidence": result.evidence}


def _ray_address() -> str:
    from shopsense.scale.settings import ScaleSettings

    return ScaleSettings().ray_address


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    @app.command("train")
    def train(ctx: typer.Context, as_json: bool = typer.Option(False, "--json"),
              max_minutes: float = typer.Option(15.0, "--max-minutes",
                                                help="Time budget for the sequential model."),
              everything: bool = typer.Option(True, "--all/--recs-only",
                                              help="Also query understanding, search indexes "
                                                   "and propensity (default)."),
              ray_workers: int = typer.Option(0, "--ray-workers", min=0,
                                              help="Train the sequential model data-parallel "
                                                   "on N Ray workers (SHOPSENSE_SCALE_RAY_"
                                                   "ADDRESS: a cluster; empty: local Ray). "
                                                   "0: one process (default)."),
              incremental: bool = typer.Option(False, "--incremental",
                                               help="Continue the serving SASRec on the events "
                                                    "since it was trained (plus a replay "
                                                    "sample) instead of training from scratch."),
              search_judgments: Path = typer.Option(None, "--search-judgments", exists=True,
                                                    dir_okay=False,
                                                    help="Judgments (jsonl / csv) the search "
                                                         "ranker learns from beside the "
                                                         "click log.")
              ) -> None:
        """Train every model on the store's data; artefacts versioned under the home."""
        from shopsense.training.lifecycle import train_to_disk
        from shopsense.training.recs import train_from_store

        cfg = settings(ctx)
        ray = {"ray_workers": ray_workers, "ray_address": _ray_address() if ray_workers else "",
               "incremental": incremental}
        with _progress(not as_json) as report:
            try:
                summary = (train_to_disk(cfg, max_minutes=max_minutes, progress=report,
                                         judgments=search_judgments, **ray)
                           if everything else
                           train_from_store(cfg, max_minutes=max_minutes, progress=report,
                                            **ray))
            except ValueError as exc:
                fail(str(exc))
        summary.setdefault("path", str(cfg.home / "models"))
        emit(summary, as_json, f"trained recommendations {summary['version']} -> "
                               f"{summary['path']}")

    @app.command("recommend")
    def recommend(
        ctx: typer.Context,
        user: str = typer.Option(None, "--user", help="Raw user id (pseudonymised here)."),
        item: str = typer.Option(None, "--item", help="Item id (similar / bought-together)."),
        session: str = typer.Option(None, "--session-items", help="Comma-separated item ids."),
        surface: str = typer.Option("for-you", "--surface", help=SURFACES),
        category: str = typer.Option(None, "--category", help="Trending in this category."),
        k: int = typer.Option(10, "--k", min=1, max=1000),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Recommendations for a shopper, an item, a session or a category."""
        from shopsense.pipeline.recommend import recommend_surface

        cfg = settings(ctx)
        try:
            results = recommend_surface(cfg, surface, user=user, item=item, category=category,
                                        session_items=session.split(",") if session else [], k=k)
        except (FileNotFoundError, ValueError, KeyError) as exc:
            fail(str(exc))
        rows = [_result_row(r) for r in results]
        emit({"surface": surface, "user": user, "item": item, "k": k, "results": rows}, as_json,
             "\n".join(f"{r['item_id']}  {r['score']:.4f}  {r['title'] or ''}" for r in rows)
             or "(no recommendations)")

    @eval_app.command("recs")
    def eval_recs(
        events: Path = typer.Option(..., "--events", help="Events file/dir or `user item ...` file."),
        catalog: Path = typer.Option(None, "--catalog", help="Products (titles seed the model)."),
        k: int = typer.Option(10, "--k", min=1),
        threads: int = typer.Option(1, "--threads", min=1, max=8, help="Torch threads."),
        max_minutes: float = typer.Option(15.0, "--max-minutes",
                                          help="Training budget in CPU-minutes."),
        loss: str = typer.Option("auto", "--loss", help="SASRec loss: auto | full | sampled."),
        title_term: bool = typer.Option(False, "--title-term",
                                        help="SASRec + a learned title-cosine term (needs "
                                             "--catalog titles; see docs/FEDERATED.md)."),
        served: bool = typer.Option(False, "--served",
                                    help="Also score the served path (every source, the "
                                         "ranker, feedback, rules, variety cap)."),
        engine_dir: Path = typer.Option(None, "--engine-dir",
                                        help="With --served: save the trained engine here, "
                                             "or score the one saved here without training."),
        served_users: int = typer.Option(None, "--served-users", min=1,
                                         help="With --served: score the served path on this "
                                              "many shoppers (seeded sample; the blend is "
                                              "compared on the same ones). Default: all."),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Leave-one-out, full ranking: the blend (and the served path) vs popularity, with
        95 % bootstrap intervals."""
        from shopsense.evaluation.recs import evaluate_recs
        from shopsense.evaluation.served import evaluate_served

        if loss not in ("auto", "full", "sampled"):
            fail(f"--loss must be auto, full or sampled, got {loss!r}")
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))
        options = {"threads": threads, "time_budget_s": max_minutes * 60.0, "loss": loss,
                   "title_term": title_term}
        try:  # epochs go to stderr; stdout keeps the JSON
            report = (evaluate_served(events, catalog, k=k, model_options=options,
                                      on_epoch=_print_epoch, engine_dir=engine_dir,
                                      served_users=served_users)
                      if served else evaluate_recs(events, catalog, k=k, model_options=options,
                                                   on_epoch=_print_epoch))
        except (FileNotFoundError, ValueError) as exc:
            fail(str(exc))
        rows = [(key, report[key]) for key in (
            "served", "served_stock_at_event", "blend", "blend_servable",
            "blend_on_served_users", "baseline_popularity") if key in report]
        bar = [f"bar ({report['bar']['rule']}) {label}: {row['served']} - {row['versus']} "
               f"{row['gap']:+.4f} [{row['gap_ci'][0]:+.4f}, {row['gap_ci'][1]:+.4f}] "
               f"{'met' if row['met'] else 'NOT met'}"
               for label, row in report.get("bar", {}).items() if isinstance(row, dict)]
        emit(report, as_json, "\n".join([
            *(f"{name:<22} ndcg@10 {m['ndcg@10']:.4f} [{m['ndcg@10_ci'][0]:.4f}, "
              f"{m['ndcg@10_ci'][1]:.4f}]  hr@10 {m['hr@10']:.4f}" for name, m in rows), *bar])
            + f"\ntrain {report['blend']['train_seconds']} s, "
              f"peak RSS {report['peak_rss_mb']} MiB\n"
            + curve_text(report["sasrec_only"].get("training", {})))


def curve_text(training: dict[str, Any]) -> str:
    """The validation curve and how SASRec's training ended, as lines for the terminal."""
    conv = training.get("convergence", {})
    lines = [f"sasrec ({training.get('loss')} softmax): {training.get('epochs')} epochs, "
             f"{training.get('cpu_seconds')} CPU-s ({training.get('cpu_seconds_per_epoch')} "
             "a epoch), best epoch " + str(training.get("best_epoch"))]
    lines += [f"  epoch {n}: {cpu:8.1f} CPU-s  valid ndcg@10 {value:.4f}"
              for n, (cpu, value) in enumerate(conv.get("curve", []), start=1)]
    if conv.get("converged"):
        lines.append("converged: the validation curve flattened")
    elif conv.get("stopped_by") == "budget":
        more = conv.get("extrapolated") or {}
        guess = ", ".join(f"{k.removeprefix('at_').replace('_cpu_s', ' CPU-s')}: {v:.4f}"
                          for k, v in more.items() if k.startswith("at_"))
        lines.append("NOT converged: stopped by the CPU budget"
                     + (f"; extrapolated valid ndcg@10 {guess}, plateau {more['plateau']:.4f}"
                        if more else ""))
    return "\n".join(lines)


def _print_epoch(row: dict[str, float]) -> None:
    console.print(f"epoch {int(row['epoch'])}: loss {row['loss']:.4f}  "
                  f"valid ndcg@10 {row.get('valid_ndcg@10', float('nan')):.4f}  "
                  f"({row['seconds']:.0f} s)")


class _progress:
    """Rich progress display for `train` (a no-op reporter when quiet)."""

    def __init__(self, show: bool) -> None:
        self.show = show
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> Any:
        if not self.show:
            return lambda stage, info: None
        from rich.progress import Progress

        self.bar = Progress(console=console, transient=False)
        self.bar.__enter__()
        self.task = self.bar.add_task("training", total=None)
        return self.report

    def report(self, stage: str, info: dict[str, Any]) -> None:
        if stage == "sasrec.epoch":
            self.bar.update(self.task, description=f"sasrec epoch {int(info['epoch'])} "
                            f"valid ndcg@10 {info.get('valid_ndcg@10', 0):.4f}")
        elif stage == "source.start":
            self.bar.update(self.task, description=f"fitting {info['source']}")
        elif stage == "source.done":
            self.bar.console.print(f"  {info['source']}: {info['seconds']:.1f} s")
        elif stage.startswith("ranker") or stage == "stage":
            self.bar.console.print(f"  {stage}: {info}")

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)
