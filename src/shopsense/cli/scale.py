"""`shopsense scale ...`: serve one replica of a scaled-out deployment, run an event-log
writer worker, start/stop the loopback test servers, apply store migrations."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import typer

from shopsense.cli.common import console, emit, settings, sub_app


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    scale_app = sub_app(app, "scale", "Scale-out: PostgreSQL, Redis, Kafka event log (by URL).")

    @scale_app.command("serve")
    def serve(ctx: typer.Context, host: str = typer.Option("127.0.0.1", "--host"),
              port: int = typer.Option(8000, "--port"),
              train: bool = typer.Option(False, "--train/--no-train",
                                         help="Also train on a schedule (one replica only)."),
              models: bool = typer.Option(True, "--models/--no-models",
                                          help="Load models; --no-models: an event-collection "
                                          "replica (events, feedback, profiles only).")
              ) -> None:
        """One stateless API replica over SHOPSENSE_STORE__URL + SHOPSENSE_SCALE_* engines."""
        from shopsense.scale.settings import ScaleSettings

        serve_replica(settings(ctx), ScaleSettings(), host=host, port=port, train=train,
                      models=models)

    @scale_app.command("worker")
    def worker(ctx: typer.Context, seconds: float = typer.Option(0.0, help="Stop after this "
                                                                 "long (0: until SIGTERM)."),
               as_json: bool = typer.Option(False, "--json")) -> None:
        """Consume the event log in the writer group: store + online state, exactly-once."""
        from shopsense.scale.settings import ScaleSettings
        from shopsense.scale.worker import run_writer

        stats = run_writer(settings(ctx).store_url, ScaleSettings(), seconds=seconds)
        emit(stats, as_json)

    @scale_app.command("services")
    def services(action: str = typer.Argument(..., help="start | stop | env"),
                 run_dir: Path = typer.Option(Path("/tmp/shopsense-services"), "--dir")) -> None:
        """Loopback PostgreSQL+pgvector, Redis and Tansu (Kafka protocol) for tests."""
        from shopsense.scale.services import main

        raise typer.Exit(main([action, str(run_dir)]))

    @scale_app.command("migrate")
    def migrate(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
        """Open the store once: applies pending schema migrations (idempotent)."""
        from shopsense.store import open_store

        store = open_store(settings(ctx).store_url)
        emit({"store": settings(ctx).store_url.split("@")[-1],
              "schema_version": store.get_meta("schema_version")}, as_json)
        store.close()


def serve_replica(cfg: Any, scale_cfg: Any, *, host: str, port: int, train: bool,
                  models: bool = True) -> None:
    """Open the shop, attach the scale-out engines, load (or quickly build) models in the
    background and serve until stopped."""
    import uvicorn

    from shopsense.api.app import create_app
    from shopsense.api.transport import server_options
    from shopsense.cli.home import open_home
    from shopsense.cli.serving import GRACE_S
    from shopsense.pipeline.shop import Shop
    from shopsense.scale.replica import scale_out
    from shopsense.training.lifecycle import (
        ModelManager,
        load_models,
        quick_models,
        wire_online_updates,
    )

    shop = Shop(cfg, open_home(cfg))
    app = create_app(cfg, shop)
    wire_online_updates(shop)
    replica = scale_out(shop, scale_cfg, rate_per_s=cfg.serve.rate_limit_per_s)
    app.state.limiter = replica.limiter
    app.state.replica = replica
    manager = ModelManager(shop)
    app.state.model_manager = manager

    def warm_up() -> None:
        trained = load_models(shop)
        shop.swap_models(trained if trained is not None else quick_models(shop))
        if train:
            manager.start(train_now=trained is None)

    if models:
        threading.Thread(target=warm_up, name="shopsense-warmup", daemon=True).start()
    console.print(f"shopsense replica on http://{host}:{port}")
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning",
                    timeout_graceful_shutdown=GRACE_S,
                    **server_options(cfg.serve.http_parser))
    finally:
        manager.stop()
        replica.stop()
