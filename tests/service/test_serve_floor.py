"""benchmarks/serve_floor.py: the ideal server spends the CPU a request it is asked to, and
the command drives it with serve.py's client and writes its rows."""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "serve_floor.py"
RAW = {"rate": 30, "workers": 2, "requests": {
    "search": [[0.1 * i, 9.0, 4.0 + i % 3] for i in range(60)],  # mean 5.0 ms
    "recommend": [[0.1 * i, 3.0, 1.0 if i % 4 else None] for i in range(40)],  # 1.0
    "events": [[0.1 * i, 3.0, 2.0] for i in range(10)]}}  # 2.0


@pytest.fixture(scope="module")
def floor():
    spec = importlib.util.spec_from_file_location("serve_floor", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_scale_gives_the_cpu_a_request_asked_for(floor, tmp_path: Path) -> None:
    raw = tmp_path / "raw.json"
    raw.write_text(json.dumps(RAW))
    mix = {"search": 0.6, "recommend": 0.3, "events": 0.1}
    # a request of the mix: 0.6 * 5 + 0.3 * 1 + 0.1 * 2 = 3.5 ms of handler at scale 1
    factor = floor.factor_for(raw, 3.5 + floor.STACK_MS, mix)
    assert factor == pytest.approx(1.0)
    assert floor.factor_for(raw, 1.75 + floor.STACK_MS, mix) == pytest.approx(0.5)
    times = floor.handler_s(raw, 2.0)
    assert len(times["recommend"]) == 30  # untimed answers left out
    assert sum(times["events"]) / 10 == pytest.approx(0.004)


def test_the_command_drives_the_ideal_server_and_writes_json(tmp_path: Path) -> None:
    raw, out = tmp_path / "raw.json", tmp_path / "floor.json"
    raw.write_text(json.dumps(RAW))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = subprocess.run([sys.executable, str(SCRIPT), "--raw", str(raw), "--cpu-ms",
                           "0.5,2", "--rate", "40", "--seconds", "3", "--warm-s", "1",
                           "--workers", "1", "--port", str(port), "--out", str(out)],
                          capture_output=True, text=True, timeout=180, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text())
    rows = result["rows"]
    assert [r["cpu_ms_target"] for r in rows] == [0.5, 2.0]
    for row in rows:
        assert row["errors"] == 0
        assert 0 < row["search_p50_ms"] <= row["search_p99_ms"]
        assert row["recommend_p99_ms"] > 0 and row["events_p99_ms"] > 0
    # the spin is the handler's CPU: four times the CPU a request, measured
    assert rows[1]["cpu_ms_per_request"] > 2 * rows[0]["cpu_ms_per_request"]
    assert rows[1]["search_p50_ms"] > rows[0]["search_p50_ms"]
    assert result["largest_cpu_ms_meeting_targets"] == 2.0
