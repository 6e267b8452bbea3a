"""Bytes per impression of store.impressions on SQLite (10 items a list, 4 in 5 lists exploring,
1 in 10 with a click). Usage: python benchmarks/impressions_size.py [LISTS]"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid

from shopsense.pipeline.explore import new_request_id
from shopsense.store import open_store
from shopsense.store.impressions import ImpressionRecord, impressions_of


def record(n: int, actors: list[str]) -> ImpressionRecord:
    return ImpressionRecord(new_request_id(), 1.7e9 + n, "u_" + actors[n % len(actors)],
                            "for_you", tuple(f"SKU-{(n * 7 + j) % 50_000:06d}" for j in range(10)),
                            tuple([0.905] + [0.005] * 9) if n % 5 else (), "eps=0.1;pool=20",
                            clicks=frozenset({1}) if n % 10 == 0 else frozenset())


def main(lists: int) -> None:
    actors = [uuid.uuid4().hex for _ in range(5000)]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "shop.db")
        store = open_store(f"sqlite:///{path}")
        repo = impressions_of(store)
        store.vacuum()
        before = os.path.getsize(path)
        for start in range(0, lists, 5000):
            repo.add([record(n, actors) for n in range(start, min(start + 5000, lists))])
        store.vacuum()
        size = os.path.getsize(path) - before
        store.close()
    print(f"{lists} lists x 10 items: {size / 1e6:.1f} MB on disk, "
          f"{size / (lists * 10):.1f} bytes per impression (item shown), "
          f"{size / lists:.0f} bytes per list")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
