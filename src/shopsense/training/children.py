"""Child processes that never outlive their server: the background trainer (`shopsense train
--all`) is started niced, asks the kernel for SIGTERM when its parent dies (Linux
PR_SET_PDEATHSIG: covers kill -9 of the server), and is terminated by `ChildProcess.stop`
when the server shuts down."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

_PR_SET_PDEATHSIG = 1


def _die_with_parent(niceness: int) -> None:
    """preexec_fn of a child: lower its priority and tie its life to the parent's."""
    if niceness:
        os.nice(niceness)
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: ChildProcess.stop still ends it
        pass


@dataclass
class ChildProcess:
    """Runs one child at a time and can stop it from another thread."""

    niceness: int = 10
    _proc: subprocess.Popen[str] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _stopped: bool = False

    def run(self, cmd: Sequence[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        """Like `subprocess.run(cmd, capture_output=True, text=True)`; the PDEATHSIG is tied
        to the calling thread, so call it from a thread that lives as long as the server."""
        with self._lock:
            if self._stopped:
                raise RuntimeError("stopped: the server is shutting down")
            self._proc = subprocess.Popen(
                list(cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                preexec_fn=lambda: _die_with_parent(self.niceness))
        out, err = self._proc.communicate()
        return subprocess.CompletedProcess(list(cmd), self._proc.returncode, out, err)

    def stop(self, grace_s: float = 5.0) -> None:
        """Terminate the running child (SIGTERM, then SIGKILL after `grace_s`); no new one
        starts after this."""
        with self._lock:
            self._stopped = True
            proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None
