"""Search indexes on disk: every save is a new version switched to atomically, one writer at a
time, and a loaded index serves only when it indexes the store's catalogue."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from shopsense.config import Settings
from shopsense.domain import Product
from shopsense.pipeline.search_index import CURRENT, current_version, search_root, writer_lock
from shopsense.pipeline.search_open import open_search_engine, save_search_engine
from shopsense.store import open_store


def _home(tmp_path: Path, products: list[Product]) -> Settings:
    store = open_store(f"sqlite:///{tmp_path / 'shop.db'}")
    store.upsert_products(products)
    store.close()
    return Settings(home=tmp_path, search={"encoder": "none"})


def test_each_save_is_a_new_current_version(tmp_path: Path,
                                            bilingual_products: list[Product]) -> None:
    settings = _home(tmp_path, bilingual_products)
    first = open_search_engine(settings)
    root = search_root(settings)
    v1 = current_version(root)
    assert v1 is not None and v1 != root and (root / CURRENT).read_text() == v1.name
    save_search_engine(first, settings)
    v2 = current_version(root)
    assert v2 is not None and v2 != v1
    assert {d.name for d in root.iterdir() if d.is_dir()} == {v1.name, v2.name}
    save_search_engine(first, settings)  # older versions beyond the previous one are pruned
    assert v1.exists() is False and len([d for d in root.iterdir() if d.is_dir()]) == 2
    again = open_search_engine(settings)  # loaded, not rebuilt: same stamp
    assert len(again) == len(bilingual_products)
    assert current_version(root) == current_version(root)


def test_an_index_of_another_catalogue_is_rebuilt(tmp_path: Path,
                                                  bilingual_products: list[Product]) -> None:
    settings = _home(tmp_path, bilingual_products[:5])
    assert len(open_search_engine(settings)) == 5
    store = open_store(settings.store_url)
    store.upsert_products(bilingual_products[5:])  # the catalogue changed behind the index
    store.close()
    engine = open_search_engine(settings)
    assert len(engine) == len(bilingual_products)
    config = json.loads((current_version(search_root(settings)) / "config.json").read_text())
    assert config["catalogue"].startswith(f"{len(bilingual_products)}:")


def test_legacy_unversioned_index_is_replaced(tmp_path: Path,
                                              bilingual_products: list[Product]) -> None:
    settings = _home(tmp_path, bilingual_products)
    engine = open_search_engine(settings)
    root = search_root(settings)
    engine.save(root)  # the layout of earlier releases: parts straight under models/search
    (root / CURRENT).unlink()
    assert current_version(root) == root
    open_search_engine(settings)  # no catalogue stamp -> rebuilt as a version
    assert current_version(root) != root and not (root / "config.json").exists()


def test_writers_take_turns(tmp_path: Path) -> None:
    order: list[str] = []
    inside = threading.Event()

    def second() -> None:
        with writer_lock(tmp_path):
            order.append("second")

    with writer_lock(tmp_path):
        thread = threading.Thread(target=second)
        thread.start()
        inside.wait(0.3)
        order.append("first")
    thread.join(5)
    assert order == ["first", "second"]
