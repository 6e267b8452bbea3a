"""One writer per data home: an advisory `flock` on `<home>/<name>.lock`, held while a process
writes the home's models (`shopsense train`, a server's background training). A second writer
waits for the first (and says so on the log); the lock goes with the process that holds it,
even on kill -9, so a crashed trainer never leaves the home locked. The lock file names the
holder's pid for people and tools; the kernel's lock is what counts."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)


class HomeLocked(RuntimeError):
    """Another process holds the home's lock and `wait_s` passed."""


def holder(home: Path, name: str = "models") -> int | None:
    """The pid written by the process that holds (or last held) the lock, if any."""
    try:
        return int((Path(home) / f"{name}.lock").read_text().strip() or 0) or None
    except (OSError, ValueError):
        return None


@contextlib.contextmanager
def home_lock(home: Path, name: str = "models", *, wait_s: float | None = None,
              poll_s: float = 0.5) -> Iterator[None]:
    """Hold the home's `name` lock for the block; wait for it (for ever when `wait_s` is
    None), else raise HomeLocked."""
    import fcntl

    Path(home).mkdir(parents=True, exist_ok=True)
    fd = os.open(Path(home) / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        started, said = time.monotonic(), False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if wait_s is not None and time.monotonic() - started >= wait_s:
                    raise HomeLocked(f"{home}: another process (pid {holder(home, name)}) "
                                     f"is writing its {name}") from None
                if not said:
                    log.warning("waiting for pid %s to finish writing %s's %s",
                                holder(home, name), home, name)
                    said = True
                time.sleep(poll_s)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock
