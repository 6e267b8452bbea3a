"""`shopsense demo generate --out DIR` writes the seeded bilingual demo shop;
`shopsense demo run` generates it into the data home (once), loads it (once) and serves it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shopsense.cli.common import emit, fail, settings, sub_app
from shopsense.config import Settings
from shopsense.store.base import Store

if TYPE_CHECKING:
    from shopsense.demo import DemoPaths

Products = Annotated[int, typer.Option("--products", help="Number of products.")]
Users = Annotated[int, typer.Option("--users", help="Number of registered shoppers.")]
Days = Annotated[int, typer.Option("--days", help="Days of events, ending 2026-10-31.")]
Seed = Annotated[int, typer.Option("--seed", help="Same seed -> byte-identical files.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    demo_app = sub_app(app, "demo", "The bilingual demo shop.")

    @demo_app.command("generate")
    def generate_cmd(
        out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the demo files.")],
        seed: Seed = 7, products: Products = 3200, users: Users = 1200, days: Days = 60,
        as_json: AsJson = False,
    ) -> None:
        """Write products.jsonl, events.jsonl, categories.json, queries.jsonl, judgments.jsonl."""
        from shopsense.demo import generate_demo, summarize

        started = time.perf_counter()
        try:
            paths = generate_demo(out, seed=seed, n_products=products, n_users=users, days=days)
        except ValueError as exc:
            fail(str(exc))
        summary = summarize(paths) | {"seed": seed, "seconds": round(time.perf_counter() - started, 2)}
        counts = ", ".join(f"{name}: {n:,}" for name, n in summary["counts"].items())
        emit(summary, as_json, human=f"demo shop (seed {seed}) -> {out}  ({counts}) "
                                     f"in {summary['seconds']:.1f}s")

    @demo_app.command("run")
    def run_cmd(
        ctx: typer.Context, seed: Seed = 7, products: Products = 3200, users: Users = 1200,
        days: Days = 60, host: Annotated[str | None, typer.Option("--host")] = None,
        port: Annotated[int | None, typer.Option("--port")] = None,
        serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Start the server.")] = True,
        train: Annotated[bool, typer.Option("--train/--no-train",
                                            help="Train the full models in the background.")] = True,
        workers: Annotated[int, typer.Option("--workers", min=1, max=64,
                                             help="Server processes (see docs/API.md).")] = 1,
        as_json: AsJson = False,
    ) -> None:
        """Generate the demo into <home>/demo, load it into an empty store, then serve it."""
        from shopsense.demo import ensure_demo

        cfg = demo_settings(settings(ctx))
        try:
            paths, fresh = ensure_demo(cfg.home / "demo", seed=seed, n_products=products,
                                       n_users=users, days=days)
        except ValueError as exc:
            fail(str(exc))
        loaded = _load(cfg, paths, show_progress=not as_json)
        from shopsense.cli.home import open_home

        policy = _load_policy(open_home(cfg))
        emit({"demo": str(paths.products.parent), "generated": fresh, "loaded": loaded,
              "knowledge_passages": policy, "store": cfg.store_url}, as_json)
        if serve:
            _serve(cfg, host, port, train, workers)


    @demo_app.command("simulate")
    def simulate_cmd(
        ctx: typer.Context,
        sessions: Annotated[int, typer.Option("--sessions", min=1, help="For-you sessions.")],
        epsilon: Annotated[float, typer.Option("--epsilon", min=0.0, max=1.0,
                                               help="Exploration when recs.explore_epsilon "
                                                    "is not set (the demo explores).")] = 0.2,
        k: Annotated[int, typer.Option("--k", min=1, max=100)] = 10, seed: Seed = 0,
        compare: Annotated[str | None, typer.Option(
            "--compare", help="A:B (served | fusion | popular | shuffled): replay an A/B test "
                              "and a team-draft interleaving of two live configurations, and "
                              "A against itself, --runs times each; logs nothing.")] = None,
        runs: Annotated[int, typer.Option("--runs", min=1, max=10_000)] = 40,
        experiment: Annotated[str | None, typer.Option(
            "--experiment", help="ID of a running for_you experiment (`shopsense experiments "
                                 "create`): replay the sessions against its live arms, logged "
                                 "as traffic its report reads.")] = None,
        as_json: AsJson = False,
    ) -> None:
        """Replay the demo's simulated shoppers against the live for-you path: impressions
        with propensities and clicks are logged (for `shopsense eval report`)."""
        from shopsense.cli.home import open_home
        from shopsense.evaluation.simulate import load_tastes, simulate_sessions
        from shopsense.pipeline.shop import Shop
        from shopsense.training.lifecycle import load_models, quick_models

        cfg = demo_settings(settings(ctx), epsilon)
        try:
            tastes = load_tastes(cfg.home / "demo" / "shoppers_truth.jsonl")
        except FileNotFoundError as exc:
            fail(str(exc))
        shop = Shop(cfg, open_home(cfg))
        shop.swap_models(load_models(shop) or quick_models(shop))
        if compare:
            _compare(shop, tastes, compare, sessions, runs, k, seed, as_json)
            return
        if experiment:
            _experiment(shop, tastes, experiment, sessions, k, seed, as_json)
            return
        result = simulate_sessions(shop, tastes, sessions=sessions, k=k, seed=seed)
        emit(result, as_json, f"{result['lists']} lists shown ({result['policy']}), "
                              f"{result['clicks']} clicks, {result['clicks_per_list']} a list")


def _compare(shop: object, tastes: list, arms: str, sessions: int, runs: int, k: int,
             seed: int, as_json: bool) -> None:
    from shopsense.evaluation.compare import compare_arms

    a, _, b = arms.partition(":")
    try:
        result = compare_arms(shop, tastes, a, b, sessions=sessions, runs=runs, k=k,  # type: ignore[arg-type]
                              seed=seed)
    except ValueError as exc:
        fail(str(exc))
    ab, aa = result["a_vs_b"], result["a_vs_a"]
    emit(result, as_json, "\n".join(
        f"{name}: {ab[name]['detected_share']:.0%} of runs significant, median "
        f"{ab[name]['median_sessions']} sessions; A/A false positives "
        f"{aa[name]['detected_share']:.0%}" for name in ("interleaving", "ab")))


def _experiment(shop: object, tastes: list, experiment_id: str, sessions: int, k: int, seed: int,
                as_json: bool) -> None:
    from shopsense.evaluation.simulate import simulate_experiment

    try:
        result = simulate_experiment(shop, tastes, experiment_id, sessions=sessions,  # type: ignore[arg-type]
                                     k=k, seed=seed)
    except ValueError as exc:
        fail(str(exc))
    emit(result, as_json, f"{result['lists']} lists ({result['in_experiment']} in "
                          f"{experiment_id}), {result['clicks']} clicks, {result['carts']} "
                          f"carts, {result['purchases']} purchases")


def demo_settings(cfg: Settings, epsilon: float = 0.2) -> Settings:
    """The demo explores (recs.explore_epsilon) unless the shop set it."""
    if cfg.recs.explore_epsilon > 0 or epsilon <= 0:
        return cfg
    return cfg.model_copy(update={"recs": cfg.recs.model_copy(update={"explore_epsilon":
                                                                      epsilon})})


def _load(cfg: Settings, paths: DemoPaths, show_progress: bool) -> dict[str, int]:
    """Ingest the demo files into the home store, each only while its table is empty."""
    from shopsense.cli.core import run_ingest
    from shopsense.cli.home import open_home

    store = open_home(cfg)
    loaded = {"products": 0, "events": 0}
    if store.count_products() == 0:
        loaded["products"] = run_ingest(cfg, paths.products, "catalog", show_progress).accepted
    if store.count_events() == 0:
        loaded["events"] = run_ingest(cfg, paths.events, "events", show_progress).accepted
    return loaded


def _load_policy(store: Store) -> int:
    """The demo's bilingual policy document, into the knowledge base (once)."""
    from shopsense.demo.policy import POLICY_DOCUMENT
    from shopsense.knowledge import KnowledgeBase
    from shopsense.store.knowledge import knowledge_repository

    kb = KnowledgeBase(knowledge_repository(store))
    if any(d["doc_id"] == POLICY_DOCUMENT.name for d in kb.documents()):
        return 0
    return int(kb.load_file(POLICY_DOCUMENT)["passages"])


def _serve(cfg: Settings, host: str | None, port: int | None, train: bool = True,
           workers: int = 1) -> None:
    """Serve the API and storefront over the demo store (models warm up in the background)."""
    from shopsense.cli.core import serve_home

    serve_home(cfg, host=host, port=port, background_training=train, workers=workers)
