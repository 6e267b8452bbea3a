"""Model swaps settle the heap: old models' cycles are collected, the survivors frozen."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

from shopsense.config import Settings
from shopsense.pipeline.shop import ModelSet, Shop


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
