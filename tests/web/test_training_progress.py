"""A training run's stages as the dashboard reads them: written by the training process
(`ProgressLog`), read with elapsed time, the last run's timings and an ETA (`read_progress`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from shopsense.training.progress import ProgressLog, read_progress


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _run(home: Path, clock: Clock, seconds: dict[str, float], *, stop_after: str | None = None
         ) -> ProgressLog:
    log = ProgressLog(home, clock)
    hook = log.hook()
    for name, took in seconds.items():
        if name.startswith("recs."):
            hook("source.start", {"source": name[5:]})
            if name == "recs.sasrec":
                hook("sasrec.epoch", {"epoch": 2})
        else:
            log.start(name)
        if name == stop_after:
            clock.now += took / 2
            return log
        clock.now += took
        if name.startswith("recs."):
            hook("source.done", {"source": name[5:]})
        else:
            log.done(name)
    log.finish("done")
    return log


STAGES = {"understand": 10.0, "search": 20.0, "recs.covisit": 5.0, "recs.sasrec": 60.0,
          "propensity": 5.0}


def test_first_run_has_no_eta_then_the_second_uses_its_timings(tmp_path: Path) -> None:
    clock = Clock()
    _run(tmp_path, clock, STAGES, stop_after="recs.sasrec")
    first = read_progress(tmp_path, now=clock.now)
    assert first["state"] == "running" and first["eta_s"] is None
    assert [s["state"] for s in first["stages"]] == ["done"] * 3 + ["running"]
    assert first["stages"][-1]["epoch"] == 2
    clock.now += 100
    _run(tmp_path, clock, STAGES)  # a full run: its timings become the expected ones
    done = read_progress(tmp_path, now=clock.now)
    assert done["state"] == "done" and done["elapsed_s"] == pytest.approx(100.0)
    assert done["expected_total_s"] == pytest.approx(100.0)
    _run(tmp_path, clock, STAGES, stop_after="recs.sasrec")  # half of SASRec's 60 s
    now = read_progress(tmp_path, now=clock.now)
    assert now["eta_s"] == pytest.approx(30.0 + 5.0)  # rest of sasrec + pending propensity
    assert [s["name"] for s in now["stages"] if s["state"] == "pending"] == ["propensity"]


def test_failed_run_and_missing_or_broken_files(tmp_path: Path) -> None:
    assert read_progress(tmp_path) is None
    log = ProgressLog(tmp_path, Clock())
    log.start("understand")
    log.finish("failed", "RuntimeError('disk full')")
    failed = read_progress(tmp_path)
    assert failed["state"] == "failed" and "disk full" in failed["error"]
    (tmp_path / "models" / "progress.json").write_text("{oops", encoding="utf-8")
    assert read_progress(tmp_path) is None
