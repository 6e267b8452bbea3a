"""A federated run over Flower's real transport on loopback: a coordinator and two clients,
each its own `shopsense` process, SecAgg+ on. On the known-answer chain data
(tests/federated/synthetic.py) the global model must beat each client's local-only one on
that client's own held-out events, and the coordinator must only have aggregated."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

PORT = 8213
CLI = [sys.executable, "-m", "shopsense.cli"]


def _env() -> dict[str, str]:
    src = str(Path(__file__).resolve().parents[2] / "src")
    return {**os.environ, "PYTHONPATH": src, "OMP_NUM_THREADS": "1"}


def _wait_for_port(port: int, proc: subprocess.Popen, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"coordinator exited: {proc.stderr.read()[-2000:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError("coordinator never listened")


@pytest.fixture
def run(tmp_path: Path):
    procs: list[subprocess.Popen] = []

    def start(*args: str, home: Path | None = None) -> subprocess.Popen:
        cmd = [*CLI, *(["--home", str(home)] if home else []), "federated", *args]
        proc = subprocess.Popen(cmd, cwd=tmp_path, env=_env(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _result(proc: subprocess.Popen, timeout_s: float = 300.0) -> dict:
    out, err = proc.communicate(timeout=timeout_s)
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def test_two_homes_and_a_coordinator_over_secagg(tmp_path: Path, run, write_chain) -> None:
    started = time.process_time()
    coordinator = run("serve-coordinator", "--address", f"127.0.0.1:{PORT}", "--clients", "2",
                      "--rounds", "5", "--json")
    _wait_for_port(PORT, coordinator)
    clients = []
    for c in (0, 1):
        events, catalog = write_chain(tmp_path / "data", c)
        clients.append(run("join", "--coordinator", f"127.0.0.1:{PORT}", "--events",
                           str(events), "--catalog", str(catalog), "--dim", "32",
                           "--batch-size", "16", "--local-epochs", "4", "--timeout", "280",
                           "--json", home=tmp_path / f"home{c}"))
    reports = [_result(p) for p in clients]
    history = _result(coordinator)
    assert history["secagg"] == "SecAgg+ (flwr)"
    assert [r for r, _ in history["metrics"]["valid_ndcg@10"]] == [1, 2, 3, 4, 5]
    for report in reports:
        assert [r["round"] for r in report["rounds"]] == [1, 2, 3, 4, 5]
        # each client's new shoppers browse the other client's half of the chain
        assert report["federated"]["ndcg@10"] > report["local_only"]["ndcg@10"] + 0.1
        assert report["global_beats_local"] is True
        assert report["bytes_sent"] > 0 and report["privacy"] is None
    # the two homes ended holding the same global model: same validation curve shape
    assert reports[0]["rounds"][-1]["valid_ndcg@10"] > reports[0]["rounds"][0]["valid_ndcg@10"]
    assert time.process_time() - started < 5.0  # the test process only waits


def test_join_without_a_coordinator_fails_clearly(tmp_path: Path, run, write_chain) -> None:
    events, catalog = write_chain(tmp_path / "data", 0)
    proc = run("join", "--coordinator", "127.0.0.1:8219", "--events", str(events), "--catalog",
               str(catalog), "--timeout", "3", "--json", home=tmp_path / "home")
    _out, err = proc.communicate(timeout=240)
    assert proc.returncode != 0
    assert "error" in err.lower()


def test_coordinator_refuses_a_federation_of_one(run) -> None:
    proc = run("serve-coordinator", "--address", "127.0.0.1:8218", "--clients", "1")
    _out, err = proc.communicate(timeout=240)
    assert proc.returncode == 2 and "--clients must be >= 2" in err
