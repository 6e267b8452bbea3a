"""Core commands: init, ingest, users (forget / link), stats, serve."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

from shopsense.cli.common import console, emit, fail, settings, sub_app
from shopsense.cli.home import open_home
from shopsense.config import Settings
from shopsense.ids import Pseudonymizer
from shopsense.ingest.pipeline import IngestReport, ingest_file
from shopsense.store.stats import StoreStats


def run_ingest(cfg: Settings, path: Path, kind: str, show_progress: bool) -> IngestReport:
    store = open_home(cfg)
    with Progress(TextColumn(f"ingest {kind} {path.name}"), BarColumn(), DownloadColumn(),
                  TimeElapsedColumn(), console=console, disable=not show_progress) as bar:
        task = bar.add_task("bytes", total=path.stat().st_size)
        return ingest_file(path, kind, catalog=store, events=store,  # type: ignore[arg-type]
                           pseudonyms=Pseudonymizer.from_home(cfg.home),
                           rejects_dir=cfg.home / "rejects",
                           batch_size=cfg.ingest.batch_size,
                           max_rejects_logged=cfg.ingest.max_rejects_logged,
                           progress=lambda done, total: bar.update(task, completed=done, total=total))


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    ingest_app = sub_app(app, "ingest",
                         "Load catalogue and behaviour files (CSV, JSONL, Parquet).")
    users_app = sub_app(app, "users", "Shopper identities: erasure and stitching.")

    @app.command("init")
    def init(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
        """Create the data home: store and per-install secret (mode 0600)."""
        cfg = settings(ctx)
        store = open_home(cfg)
        emit({"home": str(cfg.home.resolve()), "store": cfg.store_url,
              "products": store.count_products(), "events": store.count_events()}, as_json)

    def _ingest(ctx: typer.Context, path: Path, kind: str, as_json: bool) -> None:
        if not path.exists():
            fail(f"{path}: no such file")
        try:
            report = run_ingest(settings(ctx), path, kind, show_progress=not as_json)
        except ValueError as exc:
            fail(f"{path}: {exc}")
        data = {k: v for k, v in report.to_dict().items()
                if k in ("accepted", "rejected", "duplicates", "rejects_file")}
        emit(data, as_json, human=(f"{path}: {report.accepted} accepted, {report.rejected} "
                                   f"rejected, {report.duplicates} duplicates in "
                                   f"{report.seconds:.1f}s"
                                   + (f"; rejects in {report.rejects_file}"
                                      if report.rejects_file else "")))

    @ingest_app.command("catalog")
    def ingest_catalog(ctx: typer.Context, path: Path = typer.Argument(..., help="Products file"),
                       as_json: bool = typer.Option(False, "--json")) -> None:
        """Upsert products by item_id."""
        _ingest(ctx, path, "catalog", as_json)

    @ingest_app.command("events")
    def ingest_events(ctx: typer.Context, path: Path = typer.Argument(..., help="Events file"),
                      as_json: bool = typer.Option(False, "--json")) -> None:
        """Append behaviour events (deduplicated by event_id, else by content)."""
        _ingest(ctx, path, "events", as_json)

    @users_app.command("forget")
    def forget(ctx: typer.Context, raw_id: str, as_json: bool = typer.Option(False, "--json")) -> None:
        """Erase a shopper's events and everything derived from them (see docs/PRIVACY.md)."""
        from shopsense.privacy.erasure import forget_user

        cfg = settings(ctx)
        result = forget_user(cfg, open_home(cfg), raw_id, actor="cli")
        emit(result, as_json)

    @users_app.command("link")
    def link(ctx: typer.Context, session_id: str, user_id: str,
             as_json: bool = typer.Option(False, "--json")) -> None:
        """Stitch an anonymous session to a logged-in user, merging the two histories."""
        cfg = settings(ctx)
        store = open_home(cfg)
        ids = Pseudonymizer.from_home(cfg.home)
        moved = store.link_session(ids.session(session_id), ids.user(user_id))
        emit({"linked": True, "events_moved": moved}, as_json)

    @users_app.command("rekey")
    def rekey(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
        """Rotate the pseudonymisation secret and re-key every stored id (docs/PRIVACY.md)."""
        from shopsense.privacy.rekey import rotate_secret

        cfg = settings(ctx)
        emit(rotate_secret(cfg.home, open_home(cfg)), as_json)

    @users_app.command("purge")
    def purge(ctx: typer.Context,
              older_than_days: float = typer.Option(None, "--older-than-days",
                                                    help="Default: privacy.retention_days"),
              as_json: bool = typer.Option(False, "--json")) -> None:
        """Retention now: events, impressions and zero-result log lines older than the
        configured age, model versions past privacy.model_retention_days (docs/PRIVACY.md)."""
        from shopsense.pipeline.shop import Shop
        from shopsense.privacy.maintenance import run_retention

        cfg = settings(ctx)
        days = older_than_days if older_than_days is not None else cfg.privacy.retention_days
        if not days or days <= 0:
            fail("no retention configured (privacy.retention_days / --older-than-days)")
        cfg = cfg.model_copy(update={"privacy": cfg.privacy.model_copy(
            update={"retention_days": days})})
        removed = run_retention(Shop(cfg, open_home(cfg)))
        emit({"removed": removed["events"], "older_than_days": days, **removed}, as_json)

    @app.command("stats")
    def stats(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
        """Counts of what the store holds."""
        store = open_home(settings(ctx))
        emit({"products": store.count_products(), "events": store.count_events(),
              "by_type": StoreStats(store).events_by_type()}, as_json)

    @app.command("serve")
    def serve(ctx: typer.Context, host: str = typer.Option(None, "--host"),
              port: int = typer.Option(None, "--port"),
              train: bool = typer.Option(True, "--train/--no-train",
                                         help="Train the full models in the background."),
              workers: int = typer.Option(1, "--workers", min=1, max=64,
                                          help="Server processes sharing the port and the "
                                               "store (see docs/API.md, 'Worker processes').")
              ) -> None:
        """Serve the HTTP API (and web pages) over the data home."""
        serve_home(settings(ctx), host=host, port=port, background_training=train,
                   workers=workers)


def _key_file(cfg: Settings, name: str, scope: str, store: object) -> str:
    """A key kept in <home>/<name> (mode 0600) so restarts reuse it; created once."""
    import os

    from shopsense.api.keys import create_key

    path = cfg.home / name
    if path.exists():
        key = path.read_text().strip()
        from shopsense.api.keys import KeyRing

        if KeyRing(store).scope_of(key):
            return key
    key = create_key(store, scope, actor="serve")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key


def serve_home(cfg: Settings, *, host: str | None = None, port: int | None = None,
               background_training: bool = True, workers: int = 1) -> None:
    """Open the shop, answer at once (/healthz), build the quick models in the background,
    then train the full set and swap it in; retrain on the configured schedule."""
    import threading

    import uvicorn

    from shopsense.api.app import create_app
    from shopsense.api.transport import server_options
    from shopsense.cli.serving import GRACE_S
    from shopsense.pipeline.recompute import start_recomputing
    from shopsense.pipeline.shop import Shop
    from shopsense.training.lifecycle import ModelManager, start_models, wire_online_updates

    serve_cfg = cfg.serve.model_copy(update={k: v for k, v in
                                             {"host": host, "port": port}.items() if v})
    cfg = cfg.model_copy(update={"serve": serve_cfg})
    store = open_home(cfg)
    public_key = _key_file(cfg, "public-key.txt", "search", store)
    admin_key = _key_file(cfg, "admin-key.txt", "admin", store)
    console.print(f"shopsense on http://{serve_cfg.host}:{serve_cfg.port}  "
                  f"(admin key in {cfg.home / 'admin-key.txt'}: {admin_key})")
    if workers > 1:
        from shopsense.cli.serving import serve_workers

        store.close()
        serve_workers(cfg, workers, background_training=background_training)
        return
    shop = Shop(cfg, store)
    app = create_app(cfg, shop)
    app.state.public_key = public_key
    wire_online_updates(shop)
    app.state.recomputer = start_recomputing(shop)
    manager = ModelManager(shop)
    app.state.model_manager = manager

    def warm_up() -> None:
        trained = start_models(shop, manager.status)
        if background_training:
            manager.start(train_now=not trained)

    threading.Thread(target=warm_up, name="shopsense-warmup", daemon=True).start()
    try:
        uvicorn.run(app, host=serve_cfg.host, port=serve_cfg.port, log_level="warning",
                    timeout_graceful_shutdown=GRACE_S,
                    **server_options(cfg.serve.http_parser))
    finally:  # the trainer goes with the server (and on kill -9: training/children.py)
        manager.stop()
