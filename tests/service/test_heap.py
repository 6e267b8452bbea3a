"""Model swaps settle the heap: old models' cycles are collected, the survivors frozen; cache
warming settles what it built; a serving process runs full collections rarely."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

from fastapi.testclient import TestClient

from shopsense.api.app import create_app
from shopsense.config import Settings
from shopsense.pipeline.shop import ModelSet, Shop, settle_heap


class _Cyclic:
    """A model part that refers to itself, so only the cyclic GC can free it."""

    def __init__(self) -> None:
        self.me = self


def test_a_swap_collects_the_old_models_and_freezes_the_serving_ones(tmp_path: Path) -> None:
    shop = Shop(Settings(home=tmp_path))
    try:
        part = _Cyclic()
        gone = weakref.ref(part)
        shop.swap_models(ModelSet(version="a", info={"part": part}))
        del part
        assert gc.get_freeze_count() > 0  # the serving models are out of the GC's walks
        gc.collect()
        assert gone() is not None  # still serving
        shop.swap_models(ModelSet(version="b"))
        assert gone() is None  # frozen by the first swap, still collected after the second
        assert shop.models.version == "b"
    finally:
        shop.store.close()
        gc.unfreeze()


def test_settling_after_warming_freezes_the_new_objects_and_keeps_the_old(tmp_path: Path) -> None:
    gc.collect()
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        warmed = [{"stage": [i]} for i in range(1000)]  # what cache warming leaves behind
        settle_heap(revisit=False)
        assert gc.get_freeze_count() >= frozen + len(warmed)
        assert not any(o is warmed for o in gc.get_objects())  # out of later walks
    finally:
        gc.unfreeze()


def test_a_serving_app_sets_its_gc_thresholds_and_restores_them(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, serve={"gc_thresholds": (900, 12, 345),
                                              "require_keys": False})
    before = gc.get_threshold()
    with TestClient(create_app(settings)) as client:
        assert gc.get_threshold() == (900, 12, 345)
        answer = client.get("/healthz")
        assert answer.status_code == 200
        # the handler's own time, for telling it apart from queueing (benchmarks/serve.py)
        name, _, took = answer.headers["server-timing"].partition(";dur=")
        assert name == "app" and float(took) >= 0
    assert gc.get_threshold() == before
    client.app.state.shop.store.close()
