"""Where a training run is, for the dashboard: its stages (query understanding, search index,
each recommendation source, the ranker, propensity) with start and finish times, written by the
training process to `<home>/models/progress.json` (rewritten atomically at every step) and read
by the serving process. The expected time of each stage is the last finished run's, so the
dashboard can show an ETA; a first run says it has none.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

FILE = "progress.json"
LAST = "progress-last.json"


class ProgressLog:
    """The current run's record; `stage(name)` wraps one stage, `hook(next)` turns the
    recommendation trainer's progress calls into sub-stages (one per source, the ranker)."""

    def __init__(self, home: str | Path, clock: Callable[[], float] = time.time) -> None:
        self.dir = Path(home) / "models"
        self.clock = clock
        self.run: dict[str, Any] = {"state": "running", "started_at": clock(), "pid": os.getpid(),
                                    "stages": []}
        self._write()

    def _write(self, name: str = FILE) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.dir / (name + ".tmp")
        tmp.write_text(json.dumps(self.run), encoding="utf-8")
        tmp.replace(self.dir / name)

    def start(self, name: str, **detail: Any) -> None:
        self.run["stages"].append({"name": name, "started_at": self.clock(), "seconds": None,
                                   **detail})
        self._write()

    def done(self, name: str, **detail: Any) -> None:
        for stage in reversed(self.run["stages"]):
            if stage["name"] == name and stage["seconds"] is None:
                stage.update(seconds=round(self.clock() - stage["started_at"], 2), **detail)
                break
        self._write()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self.start(name)
        yield
        self.done(name)

    def hook(self, forward: Callable[[str, Any], None] | None = None) -> Callable[[str, Any], None]:
        """A `progress(kind, row)` for the recommendation trainer: sources and the ranker
        become stages `recs.<source>`; SASRec's epochs update its stage."""
        def progress(kind: str, row: Any) -> None:
            if kind == "source.start":
                self.start(f"recs.{row['source']}")
            elif kind == "source.done":
                self.done(f"recs.{row['source']}")
            elif kind == "sasrec.epoch" and isinstance(row, dict):
                current = self.run["stages"][-1] if self.run["stages"] else None
                if current and current["name"] == "recs.sasrec":
                    current["epoch"] = row.get("epoch")
                    self._write()
            elif kind in ("ranker.done", "ranker.skipped"):
                self.run["stages"].append({"name": "recs.ranker", "started_at": self.clock(),
                                           "seconds": 0.0})
                self._write()
            if forward is not None:
                forward(kind, row)
        return progress

    def finish(self, state: str = "done", error: str | None = None) -> None:
        self.run.update(state=state, finished_at=self.clock(), error=error)
        self._write()
        if state == "done":
            self._write(LAST)


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def read_progress(home: str | Path, now: float | None = None) -> dict[str, Any] | None:
    """The latest run with each stage's state (done / running), seconds, expected seconds
    (the last finished run's), the run's elapsed time and ETA (None without a previous run)."""
    folder = Path(home) / "models"
    run = _read(folder / FILE)
    if run is None:
        return None
    now = time.time() if now is None else now
    last = _read(folder / LAST) or {}
    expected = {s["name"]: s.get("seconds") for s in last.get("stages", []) if s.get("seconds")}
    stages = []
    for stage in run.get("stages", []):
        running = stage.get("seconds") is None and run.get("state") == "running"
        seconds = now - stage["started_at"] if running else stage.get("seconds")
        stages.append({**stage, "state": "running" if running else "done",
                       "seconds": round(seconds or 0.0, 1), "expected": expected.get(stage["name"])})
    seen = {s["name"] for s in stages}
    pending = [{"name": n, "state": "pending", "seconds": None, "expected": e}
               for n, e in expected.items() if n not in seen] if run.get("state") == "running" else []
    end = run.get("finished_at") or now
    out = {"state": run.get("state"), "started_at": run.get("started_at"),
           "finished_at": run.get("finished_at"), "error": run.get("error"),
           "elapsed_s": round(end - run.get("started_at", end), 1), "stages": stages + pending,
           "eta_s": None, "expected_total_s": round(sum(expected.values()), 1) if expected else None}
    if run.get("state") == "running" and expected:
        left = sum(max(0.0, (s["expected"] or 0.0) - (s["seconds"] or 0.0))
                   for s in out["stages"] if s["state"] != "done")
        out["eta_s"] = round(left, 1)
    return out


__all__ = ["ProgressLog", "read_progress"]
