"""benchmarks/serve_queue_model.py: the queueing model behind the service benchmark's notes
agrees with queueing theory where theory has an answer."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "serve_queue_model.py"


@pytest.fixture(scope="module")
def model():
    spec = importlib.util.spec_from_file_location("serve_queue_model", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(SCRIPT.parent))  # its `loadgen` import, as when run from there
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(SCRIPT.parent))
    return module


def _constant(ms: float) -> dict[str, np.ndarray]:
    return {"search": np.full(10, ms)}


def test_one_worker_matches_pollaczek_khinchine(model) -> None:
    # M/D/1: mean wait = rho * s / (2 (1 - rho)); s = 5 ms at 100/s: rho 0.5, wait 2.5 ms
    lat = model.simulate(_constant(5.0), {"search": 1.0}, 100.0, 1, "split", 0.0, 1.0,
                         200_000, 3)["search"]
    assert abs((lat.mean() - 5.0) - 2.5) < 0.15


def test_two_pooled_workers_match_erlang_c(model) -> None:
    # M/M/2 with mean service 5 ms at 300/s (rho 0.75): Erlang C 0.643, mean wait
    # C * s / (2 (1 - rho)) = 6.43 ms; exponential service times from a large sample
    service = {"search": np.random.default_rng(5).exponential(5.0, 200_000)}
    lat = model.simulate(service, {"search": 1.0}, 300.0, 2, "pooled", 0.0, 1.0, 300_000,
                         4)["search"]
    assert abs((lat.mean() - 5.0) - 6.43) < 0.5


def test_a_shared_queue_waits_less_than_a_random_split(model) -> None:
    service = {"search": np.array([2.0, 2.0, 7.0]), "recommend": np.array([0.6, 0.6, 0.6, 6.5])}
    mix = {"search": 0.7, "recommend": 0.3}
    split = model.simulate(service, mix, 300.0, 2, "split", 0.4, 1.0, 100_000, 1)
    pooled = model.simulate(service, mix, 300.0, 2, "pooled", 0.4, 1.0, 100_000, 1)
    for kind in mix:
        assert np.percentile(pooled[kind], 99) < 0.8 * np.percentile(split[kind], 99)
        assert np.percentile(pooled[kind], 50) <= np.percentile(split[kind], 50)


def test_at_a_trickle_a_request_takes_its_own_time(model) -> None:
    lat = model.simulate(_constant(3.0), {"search": 1.0}, 0.001, 2, "split", 0.5, 2.0, 2_000,
                         2)["search"]
    assert np.allclose(lat, 7.0)


def test_the_command_reads_serve_raw_and_writes_json(tmp_path: Path) -> None:
    raw = {"rate": 30, "workers": 2, "requests": {
        "search": [[0.1 * i, 3.0, 2.0 + i % 3] for i in range(60)],
        "recommend": [[0.1 * i, 2.0, 0.6 if i % 4 else None] for i in range(30)],
        "events": [[0.1 * i, 2.0, 1.2] for i in range(10)]}}
    source, out = tmp_path / "raw.json", tmp_path / "model.json"
    source.write_text(json.dumps(raw))
    done = subprocess.run([sys.executable, str(SCRIPT), "--raw", str(source), "--requests",
                           "20000", "--factors", "0.5,1", "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    assert [(r["factor"], r["way"]) for r in result["rows"]] == [
        (0.5, "split"), (0.5, "pooled"), (1.0, "split"), (1.0, "pooled")]
    assert result["handler_ms"]["recommend"]["n"] == 22  # untimed answers left out
    half, whole = result["rows"][0], result["rows"][2]
    assert half["service_ms_per_request"] == pytest.approx(whole["service_ms_per_request"] / 2,
                                                           abs=0.01)
    assert half["search_p99_ms"] < whole["search_p99_ms"]
