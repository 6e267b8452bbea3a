from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A real `shopsense serve` subprocess on a loopback port."""

    def __init__(self, home: Path, *extra_env: tuple[str, str], args: tuple[str, ...] = ()) -> None:
        self.home = home
        self.args = args
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(extra_env)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> Server:
        import os

        env = {**os.environ, "OMP_NUM_THREADS": "1", **self.env}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "shopsense.cli", "--home", str(self.home), "serve",
             "--port", str(self.port), *self.args], env=env, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(self.proc.stderr.read().decode() if self.proc.stderr else "")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise TimeoutError("server did not start")

    def kill(self) -> None:
        """kill -9 of the server (its worker processes, if any, exit with it)."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def make_server():
    servers: list[Server] = []

    def _make(home: Path, *env: tuple[str, str], args: tuple[str, ...] = ()) -> Server:
        server = Server(home, *env, args=args)
        servers.append(server)
        return server

    yield _make
    for s in servers:
        s.kill()
