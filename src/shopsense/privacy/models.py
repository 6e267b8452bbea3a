"""Erasure and retention for trained models: what a saved model version holds of a shopper.

A recommendation version (<home>/models/recs/<version>/) keeps two things keyed by pseudonym:
`histories.json` (each shopper's recent items) and, for the collaborative source,
`sources/<name>/users.json` with a row of `user_factors.npy` per shopper. Everything else in a
version (item vectors, co-visit counts, popularity, the ranker) is aggregated over shoppers.

- `scrub_saved_models(home, actors)`: rewrite every saved version without these pseudonyms
  (history dropped; the collaborative row renamed to "" and zeroed), atomically per file;
- `drop_erased(engine, tokens)`: a loaded engine without the shoppers whose erasure token is
  tombstoned (a version restored from a backup, or adopted while an erasure ran);
- `prune_versions(home, max_age_days)`: delete versions older than the model retention, never
  the one `current` points to.
"""

from __future__ import annotations

import calendar
import json
import os
import shutil
import time
from collections.abc import Callable, Collection, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from shopsense.store.sqlite import erasure_token

RECS_DIR = ("models", "recs")


def versions(home: Path) -> list[Path]:
    root = Path(home).joinpath(*RECS_DIR)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def current_version(home: Path) -> str | None:
    pointer = Path(home).joinpath(*RECS_DIR, "current")
    return pointer.read_text().strip() if pointer.is_file() else None


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _scrub_histories(path: Path, gone: Collection[str]) -> int:
    histories = json.loads(path.read_text())
    kept = {u: h for u, h in histories.items() if u not in gone}
    removed = len(histories) - len(kept)
    if removed:
        _write_atomic(path, json.dumps(kept, ensure_ascii=False).encode())
    return removed


def _scrub_user_rows(users_file: Path, gone: Collection[str]) -> int:
    users = json.loads(users_file.read_text())
    rows = [n for n, user in enumerate(users) if user in gone]
    if not rows:
        return 0
    factors_file = users_file.with_name("user_factors.npy")
    if factors_file.is_file():
        factors = np.load(factors_file, allow_pickle=False)
        factors[rows] = 0.0
        tmp = factors_file.with_name(f".user_factors.{os.getpid()}.npy")
        np.save(tmp, factors)
        os.replace(tmp, factors_file)
    for n in rows:
        users[n] = ""
    _write_atomic(users_file, json.dumps(users).encode())
    return len(rows)


def scrub_saved_models(home: Path, actors: Iterable[str]) -> int:
    """Remove these pseudonyms from every saved recommendation version; returns how many
    entries (histories and collaborative rows) went."""
    gone = set(actors)
    removed = 0
    for version in versions(home):
        if (version / "histories.json").is_file():
            removed += _scrub_histories(version / "histories.json", gone)
        for users_file in version.glob("sources/*/users.json"):
            removed += _scrub_user_rows(users_file, gone)
    return removed


def rekey_saved_models(home: Path, rekey: Callable[[str], str]) -> int:
    """After a secret rotation: every saved version's pseudonyms (histories, collaborative
    rows) rewritten with `rekey` (old pseudonym -> new), so saved models keep serving the
    same shoppers and a later erasure finds them. Returns the entries rewritten."""
    done = 0
    for version in versions(home):
        histories_file = version / "histories.json"
        if histories_file.is_file():
            histories = json.loads(histories_file.read_text())
            _write_atomic(histories_file, json.dumps(
                {rekey(u): h for u, h in histories.items()}, ensure_ascii=False).encode())
            done += len(histories)
        for users_file in version.glob("sources/*/users.json"):
            users = json.loads(users_file.read_text())
            _write_atomic(users_file, json.dumps([rekey(u) if u else u for u in users]).encode())
            done += len(users)
    return done


def drop_erased(engine: Any, tokens: Collection[str]) -> int:
    """Remove tombstoned shoppers from a loaded engine (histories, collaborative rows and
    online session state); returns how many entries went."""
    if engine is None or not tokens:
        return 0
    removed = 0
    for user in [u for u in engine.histories if erasure_token(u) in tokens]:
        engine.histories.pop(user, None)
        removed += 1
    for source in engine.sources.values():
        for table in ("users_", "sessions_"):
            held = getattr(source, table, None)
            if isinstance(held, dict):
                for key in [k for k in held if k and erasure_token(k) in tokens]:
                    held.pop(key, None)
                    removed += 1
    return removed


def forget_loaded(engine: Any, actor: str) -> None:
    """One erased pseudonym out of a serving engine (history, collaborative row, sessions)."""
    if engine is None:
        return
    engine.forget(actor)
    for source in engine.sources.values():
        for table in ("users_", "sessions_"):
            held = getattr(source, table, None)
            if isinstance(held, dict):
                held.pop(actor, None)


def saved_at(version: Path) -> float:
    """When a version was trained: its name (`%Y%m%dT%H%M%S-pid`, UTC), else the mtime of its
    engine.json (a scrub rewrites other files, so the directory's own mtime is not it)."""
    try:
        return float(calendar.timegm(time.strptime(version.name[:15], "%Y%m%dT%H%M%S")))
    except ValueError:
        marker = version / "engine.json"
        return (marker if marker.exists() else version).stat().st_mtime


def prune_versions(home: Path, max_age_days: float, *, now: float | None = None) -> list[str]:
    """Delete recommendation versions whose files are older than `max_age_days` (0 keeps
    every version), never the current one; returns the names removed."""
    if max_age_days <= 0:
        return []
    keep = current_version(home)
    cutoff = (time.time() if now is None else now) - max_age_days * 86400.0
    removed = []
    for version in versions(home):
        if version.name != keep and saved_at(version) < cutoff:
            shutil.rmtree(version, ignore_errors=True)
            removed.append(version.name)
    return removed
