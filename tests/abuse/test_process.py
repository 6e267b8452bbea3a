"""Process hygiene (issue #15, item 11): a server stops on SIGTERM at any point of its life,
its background trainer never outlives it (SIGTERM or kill -9), and one writer at a time
trains a home. Real `shopsense serve` processes over a small demo home; after each test, no
process of the server's session is left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest
from tests.conftest import load_small_demo
from tests.service.conftest import Server

from shopsense.store.homelock import HomeLocked, holder, home_lock


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("process-demo")
    load_small_demo(home)
    return home


def _session(pid: int) -> list[psutil.Process]:
    """Every live process of the server's session (it was started in a new one)."""
    out = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if os.getsid(proc.pid) == pid and proc.status() != psutil.STATUS_ZOMBIE:
                out.append(proc)
        except (ProcessLookupError, psutil.Error):
            continue
    return out


def _gone_within(pid: int, seconds: float) -> list[psutil.Process]:
    deadline = time.time() + seconds
    while time.time() < deadline:
        left = _session(pid)
        if not left:
            return []
        time.sleep(0.2)
    return _session(pid)


def _trainer(server: Server, timeout: float) -> psutil.Process:
    deadline = time.time() + timeout
    while time.time() < deadline:
        for child in psutil.Process(server.proc.pid).children(recursive=True):
            try:
                if "train" in child.cmdline():
                    return child
            except psutil.Error:
                continue
        time.sleep(0.5)
    raise TimeoutError("the background trainer did not start")


def test_sigterm_while_starting_stops_the_server_with_a_client_connected(demo_home, make_server,
                                                                          tmp_path) -> None:
    import shutil

    home = tmp_path / "home"
    shutil.copytree(demo_home, home)
    server = make_server(home).start()
    with httpx.Client(base_url=server.url) as browser:  # an open keep-alive connection
        assert browser.get("/healthz").status_code == 200
        assert browser.get("/readyz").json()["models"] in ("none", None, "")  # still starting
        server.proc.send_signal(signal.SIGTERM)
        started = time.time()
        server.proc.wait(timeout=30)
    assert time.time() - started < 30
    assert _gone_within(server.proc.pid, 15) == []


@pytest.mark.parametrize("how", ["sigterm", pytest.param("kill -9", marks=pytest.mark.slow)])
def test_a_training_server_takes_its_trainer_with_it(demo_home, make_server, tmp_path,
                                                     how) -> None:
    import shutil

    home = tmp_path / "home"
    shutil.copytree(demo_home, home)
    server = make_server(home).start()
    trainer = _trainer(server, timeout=400)
    assert trainer.is_running()
    if how == "sigterm":
        server.proc.send_signal(signal.SIGTERM)
    else:
        server.proc.kill()
    server.proc.wait(timeout=30)
    assert _gone_within(server.proc.pid, 20) == [], "processes left behind"
    assert not trainer.is_running() or trainer.status() == psutil.STATUS_ZOMBIE


def test_one_writer_per_home(tmp_path: Path) -> None:
    code = ("import sys, time; from pathlib import Path\n"
            "from shopsense.store.homelock import home_lock\n"
            "with home_lock(Path(sys.argv[1])):\n"
            "    print('held', flush=True); time.sleep(120)\n")
    holder_proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)],
                                   stdout=subprocess.PIPE, text=True)
    try:
        assert holder_proc.stdout.readline().strip() == "held"
        assert holder(tmp_path) == holder_proc.pid
        with pytest.raises(HomeLocked, match=str(holder_proc.pid)):
            with home_lock(tmp_path, wait_s=0.5):
                pass
    finally:
        holder_proc.kill()  # kill -9: the kernel drops the lock with the process
        holder_proc.wait()
    with home_lock(tmp_path, wait_s=5):
        assert holder(tmp_path) == os.getpid()


def test_a_second_training_waits_for_the_first(tmp_path: Path) -> None:
    with home_lock(tmp_path):
        code = ("import sys; from pathlib import Path\n"
                "from shopsense.config import Settings\n"
                "from shopsense.training.lifecycle import train_to_disk\n"
                "train_to_disk(Settings(home=Path(sys.argv[1])))\n")
        other = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)],
                                 stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.time() + 120
            while time.time() < deadline and other.poll() is None:
                line = other.stderr.readline()
                if "waiting for pid" in line:
                    break
            assert other.poll() is None and str(os.getpid()) in line
        finally:
            other.kill()
            other.wait()
