"""Helpers of the privacy tests: a small demo home, saved recommendation versions trained on
it (real engines with histories and ALS rows), and a search of every file under a home."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def load_small_demo(home: Path) -> None:
    """The small seeded demo of tests/conftest.py, ingested into `home`."""
    spec = importlib.util.spec_from_file_location("tests_root_conftest",
                                                  Path(__file__).resolve().parents[1] / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.load_small_demo(home)


def save_trained_version(shop, name: str | None = None) -> Path:
    """A recommendation version from the store's events: the cheap sources, histories and a
    collaborative (ALS) source, saved with the real `save_version`; renamed to `name`
    (a version id, %Y%m%dT%H%M%S-pid) when given, `current` pointing at it."""
    from shopsense.models.interactions import interactions_from_events
    from shopsense.pipeline.recommend import models_root, save_version
    from shopsense.retrieve.collaborative import CollaborativeRetriever
    from shopsense.training.lifecycle import quick_recs

    engine = quick_recs(shop)
    data = interactions_from_events(shop.store.iter_events())
    engine.sources["als"] = CollaborativeRetriever(factors=8, iterations=2).fit(
        data, engine.items, list(shop.products.values()))
    path = save_version(engine, shop.settings.home)
    if name is not None:
        path = path.rename(models_root(shop.settings.home) / name)
        (models_root(shop.settings.home) / "current").write_text(name)
    return path


def all_bytes(home: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(home.rglob("*")) if p.is_file())


def traces(home: Path, *needles: str) -> list[str]:
    """Files under `home` that contain any of the needles (raw ids, pseudonyms)."""
    found = []
    for path in sorted(home.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path.relative_to(home)}: {n}" for n in needles if n.encode() in data]
    return found


def charge_repeatedly(store_url: str, times: int, epsilon: float, budget: float,
                      start_at: float, threads: int = 4) -> int:
    """A replica releasing `times` times against one shared ledger (run in its own process,
    from `threads` request threads at once), starting at `start_at` so that replicas race;
    returns how many releases got through."""
    import threading
    import time

    from shopsense.privacy.dp import BudgetExceeded, PrivacyLedger
    from shopsense.store import open_store

    ledger = PrivacyLedger(open_store(store_url), budget=budget, delta_budget=0.5)
    done: list[int] = []

    def work() -> None:
        for n in range(times // threads):
            try:
                ledger.charge("race", mechanism="laplace", epsilon=epsilon, delta=1e-6,
                              detail={"n": n})
                done.append(1)
            except BudgetExceeded:
                pass

    workers = [threading.Thread(target=work) for _ in range(threads)]
    time.sleep(max(0.0, start_at - time.time()))
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return len(done)
