"""`shopsense serve --workers N`: N server processes on one port over one data home.

The parent opens the home (keys, secret), then hands the port to uvicorn's process supervisor,
which starts N workers (each a `worker_app()`: its own Shop, models and caches) and restarts
one that dies. The parent trains the full models on the configured schedule (in a niced child
process, as a single server does) and announces each new version in models/serving.json;
every worker's `ModelWatcher` loads it and swaps it in. Workers stay in step through the
store: a `StoreFollower` per worker applies every committed event and every sibling's
catalogue edit and erasure within ~100 ms (pipeline/follow.py).

Per process, not shared: the rate limiter's buckets (a key may reach N x its limit; use the
Redis limiter of scale/ to share them), /metrics counters (each answer is one worker's), and
assistant conversations (a conversation continues only on the worker that holds it while the
browser keeps its connection).
"""

from __future__ import annotations

import os
from typing import Any

from shopsense.config import Settings

_ENV = "SHOPSENSE_WORKER_SETTINGS"
# Seconds a stopping server waits for open connections and tasks (uvicorn's default is for
# ever: a browser's keep-alive connection held a SIGTERMed server for minutes).
GRACE_S = 5.0


def serve_workers(cfg: Settings, workers: int, *, background_training: bool) -> None:
    import uvicorn

    from shopsense.api.transport import server_options
    from shopsense.pipeline.shop import Shop
    from shopsense.training.lifecycle import ModelManager

    shop = Shop(cfg)  # the trainer's view of the home; it serves nothing
    manager = ModelManager(shop, serve_models=False)
    if background_training:
        trained = (cfg.home / "models" / "status.json").exists()
        manager.start(train_now=not trained)
    os.environ[_ENV] = cfg.model_dump_json()
    try:
        uvicorn.run("shopsense.cli.serving:worker_app", factory=True, host=cfg.serve.host,
                    port=cfg.serve.port, workers=workers, log_level="warning",
                    timeout_graceful_shutdown=GRACE_S,
                    **server_options(cfg.serve.http_parser))
    finally:  # the trainer goes with the server (and on kill -9: training/children.py)
        manager.stop()


def worker_app() -> Any:
    """One worker: the same app a single server runs, kept in step with its siblings."""
    import threading

    from shopsense.api.app import create_app
    from shopsense.cli.home import open_home
    from shopsense.pipeline.follow import StoreFollower
    from shopsense.pipeline.recompute import start_recomputing
    from shopsense.pipeline.shop import Shop
    from shopsense.training.lifecycle import ModelWatcher, start_models, wire_online_updates

    _exit_with_parent()
    cfg = Settings.model_validate_json(os.environ[_ENV])
    shop = Shop(cfg, open_home(cfg))
    shop.siblings = True
    app = create_app(cfg, shop)
    app.state.public_key = (cfg.home / "public-key.txt").read_text().strip()
    wire_online_updates(shop)
    follower = StoreFollower(shop)
    watcher = ModelWatcher(shop, follower)
    app.state.model_manager = watcher
    app.state.follower = follower
    app.state.recomputer = start_recomputing(shop, follower)

    def warm_up() -> None:
        start_models(shop, watcher.status, follower)
        follower.start()
        watcher.start()

    threading.Thread(target=warm_up, name="shopsense-warmup", daemon=True).start()
    return app


def _exit_with_parent() -> None:
    """A worker must not outlive its supervisor (kill -9 of the parent would otherwise leave
    orphans holding the port): Linux sends it SIGTERM then; elsewhere a watcher thread exits
    when the parent is gone."""
    import signal
    import threading
    import time

    parent = os.getppid()
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        if libc.prctl(1, int(signal.SIGTERM), 0, 0, 0) == 0:  # PR_SET_PDEATHSIG
            if os.getppid() != parent:  # died before the call
                os._exit(0)
            return
    except (OSError, AttributeError):
        pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="shopsense-parent-watch", daemon=True).start()
