"""Known-answer data for federation tests: a chain catalogue where the next item is the
following one. Each client holds long histories in its own half of the chain and a few new
shoppers (three events) in the other half, so a client alone never sees the transitions its
new shoppers need, and the federation, which pools both halves, does."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

N_ITEMS = 40
START = 1_780_000_000.0


def chain_events(client: int, *, long_shoppers: int = 60, new_shoppers: int = 30,
                 seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed + client)
    own = (0, 20) if client == 0 else (20, 40)
    other = (20, 40) if client == 0 else (0, 20)
    rows, t = [], START
    for u in range(long_shoppers + new_shoppers):
        lo, hi = own if u < long_shoppers else other
        length = 8 if u < long_shoppers else 3
        start = int(rng.integers(lo, hi - length + 1))
        for step in range(length):
            t += 60.0
            rows.append({"event_id": f"c{client}-{u}-{step}", "event_type": "view",
                         "timestamp": t, "user_id": f"c{client}-u{u}",
                         "item_id": f"i{start + step:02d}",
                         "platform": "web" if client == 0 else "app"})
    return rows


def write_client(folder: Path, client: int, **kwargs: int) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    events = folder / f"events-{client}.jsonl"
    events.write_text("".join(json.dumps(r) + "\n" for r in chain_events(client, **kwargs)))
    catalog = folder / "catalog.csv"
    catalog.write_text("item_id,title\n" + "".join(f"i{i:02d},item {i}\n"
                                                   for i in range(N_ITEMS)))
    return events, catalog


@pytest.fixture
def write_chain():
    """`write_chain(folder, client)` -> (events file, catalogue file) of one chain client."""
    return write_client
