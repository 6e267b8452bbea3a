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

from shopsense.federated.tls import make_certificates


def _free_port() -> int:
    """A loopback port nobody listens on now (parallel suites must not collide)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
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


@pytest.mark.slow
def test_two_homes_and_a_coordinator_over_secagg_and_tls(tmp_path: Path, run,
                                                         write_chain) -> None:
    started = time.process_time()
    certs = make_certificates(tmp_path / "certs", ["127.0.0.1", "localhost"])
    port = _free_port()
    coordinator = run("serve-coordinator", "--address", f"127.0.0.1:{port}", "--clients", "2",
                      "--rounds", "5", "--ca-cert", certs["ca_cert"], "--cert", certs["cert"],
                      "--key", certs["key"], "--server", "avgm", "--json")
    _wait_for_port(port, coordinator)
    clients = []
    for c in (0, 1):
        events, catalog = write_chain(tmp_path / "data", c)
        clients.append(run("join", "--coordinator", f"127.0.0.1:{port}", "--events",
                           str(events), "--catalog", str(catalog), "--dim", "32",
                           "--batch-size", "16", "--local-epochs", "4", "--timeout", "280",
                           "--adapt-epochs", "2",
                           "--root-cert", certs["ca_cert"], "--json",
                           home=tmp_path / f"home{c}"))
    reports = [_result(p) for p in clients]
    history = _result(coordinator)
    assert history["secagg"] == "SecAgg+ (flwr)" and history["transport"] == "grpc+tls"
    assert history["plan"]["server"]["kind"] == "avgm"  # server momentum on the masked mean
    assert [r for r, _ in history["metrics"]["valid_ndcg@10"]] == [1, 2, 3, 4, 5]
    for report in reports:
        assert [r["round"] for r in report["rounds"]] == [1, 2, 3, 4, 5]
        # each client's new shoppers browse the other client's half of the chain
        assert report["federated"]["ndcg@10"] > report["local_only"]["ndcg@10"] + 0.1
        assert report["global_beats_local"] is True
        assert report["bytes_sent"] > 0 and report["privacy"] is None and report["tls"]
        # by default the item table starts from the catalogue's titles (--catalog has them)
        assert report["item_table"] == "seeded from catalogue titles, trained"
        # what the home serves: its own best round, adapted only where its validation gains
        served = report["personalised"]
        assert 1 <= served["own_best_round"] <= 5 and served["epochs_run"] <= 2
        assert served["valid_served"] >= served["valid_global"]
        assert served["ndcg@10"] > report["local_only"]["ndcg@10"] + 0.1
        assert report["personalised_beats_local"] is True
        # join --adopt's guard (homes.adoption_check), on this home's validation
        check = report["adoption"]
        valid = check["valid_ndcg@10"]
        assert valid["served"] >= valid["global"] and valid["served"] >= valid["local_only"]
        assert check["adopt"] is True
    # the two homes ended holding the same global model: same validation curve shape
    assert reports[0]["rounds"][-1]["valid_ndcg@10"] > reports[0]["rounds"][0]["valid_ndcg@10"]
    # the test process only waits (and reads the homes' logs): no training ran in it
    assert time.process_time() - started < 15.0


@pytest.mark.slow
def test_join_without_a_coordinator_fails_clearly(tmp_path: Path, run, write_chain) -> None:
    events, catalog = write_chain(tmp_path / "data", 0)
    proc = run("join", "--coordinator", f"127.0.0.1:{_free_port()}", "--events", str(events), "--catalog",
               str(catalog), "--timeout", "3", "--insecure", "--json", home=tmp_path / "home")
    _out, err = proc.communicate(timeout=240)
    assert proc.returncode != 0
    assert "error" in err.lower()


def test_coordinator_refuses_a_federation_of_one(run) -> None:
    proc = run("serve-coordinator", "--address", f"127.0.0.1:{_free_port()}", "--clients", "1")
    _out, err = proc.communicate(timeout=240)
    assert proc.returncode == 2 and "--clients must be >= 2" in err


def test_coordinator_needs_certificates_or_an_explicit_insecure(run, tmp_path: Path) -> None:
    proc = run("serve-coordinator", "--address", f"127.0.0.1:{_free_port()}", "--clients", "2")
    _out, err = proc.communicate(timeout=240)
    assert proc.returncode == 2 and "TLS needs --ca-cert, --cert, --key" in err
    proc = run("serve-coordinator", "--address", f"127.0.0.1:{_free_port()}", "--cert",
               str(tmp_path / "absent.pem"), "--ca-cert", str(tmp_path / "absent.pem"),
               "--key", str(tmp_path / "absent.key"))
    _out, err = proc.communicate(timeout=240)
    # the error names the file; the terminal may wrap a long temporary path anywhere
    assert proc.returncode == 2 and "absent.pem" in "".join(err.split())


@pytest.mark.slow
def test_a_home_trusting_another_ca_never_joins(tmp_path: Path, run, write_chain) -> None:
    """The coordinator's certificate is signed by a CA the home does not trust: the TLS
    handshake fails, the home sends nothing and ends with a clear error; a plaintext home is
    refused by the TLS coordinator too. Both load the USE encoder (title-seeded tables, the
    default with a titled --catalog): with it, the failed channel's finaliser at exit hung
    the process after its error until transport._keep_channels_alive."""
    ours = make_certificates(tmp_path / "ours", ["127.0.0.1"])
    theirs = make_certificates(tmp_path / "theirs", ["127.0.0.1"])
    port = _free_port()
    coordinator = run("serve-coordinator", "--address", f"127.0.0.1:{port}", "--clients", "2",
                      "--rounds", "1", "--ca-cert", ours["ca_cert"], "--cert", ours["cert"],
                      "--key", ours["key"])
    _wait_for_port(port, coordinator)
    events, catalog = write_chain(tmp_path / "data", 0)
    for trust in (["--root-cert", theirs["ca_cert"]], ["--insecure"]):
        proc = run("join", "--coordinator", f"127.0.0.1:{port}", "--events", str(events),
                   "--catalog", str(catalog), "--timeout", "5", *trust, home=tmp_path / "h")
        _out, err = proc.communicate(timeout=240)
        assert proc.returncode == 2 and "took part in no round" in err, err[-2000:]
    assert coordinator.poll() is None  # still waiting for two homes it can trust
