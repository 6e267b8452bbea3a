"""The operator's pin on the serving model version (beside the data path, like promotion).

An operator who promotes a version or rolls back on the model console (or the API) pins it:
scheduled and manual trainings go on and write their versions and cards, but they do not go
into service until the operator unpins (or promotes another version). Without the pin, the next
background training would silently undo a roll back made because the new models were worse.

The pin is `<home>/models/pin.json` (version, who, when, why). A training that finishes while
pinned points the `current` pointers back at the pinned version (`restore_pinned`), so a worker
or replica that starts later loads the pinned models too. The pinned version's search index is
named in `models/search/PINNED` so pruning old index versions keeps it.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from shopsense.pipeline.recommend import models_root
from shopsense.pipeline.search_index import CURRENT, PINNED
from shopsense.training.cards import read_card, write_json

PIN = "pin.json"


def pin_file(home: Path) -> Path:
    return Path(home) / "models" / PIN


def pinned(home: Path) -> dict[str, Any] | None:
    """The pin (`version`, `actor`, `at`, `action`, `note`), or None."""
    try:
        pin = json.loads(pin_file(home).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return pin if isinstance(pin, dict) and pin.get("version") else None


def pin(home: Path, version: str, actor: str, action: str, note: str = "") -> dict[str, Any]:
    body = {"version": version, "actor": actor, "at": time.time(), "action": action,
            "note": note}
    write_json(pin_file(home), body)
    card = read_card(home, version) or {}
    point(Path(home) / "models" / "search" / PINNED, card.get("search_index") or "")
    return body


def unpin(home: Path) -> dict[str, Any] | None:
    """Lift the pin; returns what it was (None: nothing was pinned)."""
    was = pinned(home)
    for path in (pin_file(home), Path(home) / "models" / "search" / PINNED):
        path.unlink(missing_ok=True)
    return was


def restore_pinned(home: Path) -> str | None:
    """After a training while pinned: point `current` (recommendations), `CURRENT` (search)
    and status.json back at the pinned version. Returns it, or None when nothing is pinned or
    its models are gone (then the new version stays, and the pin is lifted: it pinned nothing)."""
    pin_ = pinned(home)
    if pin_ is None:
        return None
    version = str(pin_["version"])
    card = read_card(home, version)
    if card is None or not (models_root(home) / version).is_dir():
        unpin(home)
        return None
    point(models_root(home) / "current", version)
    index = card.get("search_index")
    if index and (Path(home) / "models" / "search" / index / "config.json").exists():
        point(Path(home) / "models" / "search" / CURRENT, index)
    if card.get("status"):
        write_json(Path(home) / "models" / "status.json", card["status"])
    return version


def point(pointer: Path, name: str) -> None:
    """Make the pointer file name `name`, atomically."""
    pointer.parent.mkdir(parents=True, exist_ok=True)
    tmp = pointer.with_name(f".{pointer.name}.{os.getpid()}")
    tmp.write_text(name, encoding="utf-8")
    os.replace(tmp, pointer)


__all__ = ["PIN", "pin", "pin_file", "pinned", "point", "restore_pinned", "unpin"]
