"""`BackgroundLoop`: the daemon thread of a serving process's upkeep (the store follower,
privacy maintenance): call `tick` until stopped, waiting what it asks between calls; a failing
tick is logged and reported, and the loop goes on (a serving process keeps serving)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class BackgroundLoop:
    def __init__(self, name: str, tick: Callable[[], float], *, error_wait_s: float,
                 on_error: Callable[[Exception], None] | None = None) -> None:
        """`tick()` returns the seconds to wait before the next call (0: at once);
        after an exception the loop waits `error_wait_s` (`on_error` hears it first)."""
        self.name, self.tick, self.error_wait_s, self.on_error = (name, tick, error_wait_s,
                                                                  on_error)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> threading.Thread:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                wait = self.tick()
            except Exception as exc:  # keep serving; the next tick retries
                log.exception("%s failed", self.name)
                if self.on_error is not None:
                    self.on_error(exc)
                wait = self.error_wait_s
            if wait > 0:
                self._stop.wait(wait)
