"""A search on the expensive lane's thread gives way to a for-you miss on its own lane.

In a serving process the event loop, the search lane's thread and the recommendation lane's
thread share one GIL, handed over every switch interval (5 ms). A for-you miss (~6 ms of CPU)
that starts while a cold search runs is spread over those hand-overs, and its wall time — what
a shopper waits for the page's recommendations — doubles. Here the recommendation lane marks
its miss as running (`running`), and a search on a lane thread pauses at its stage boundaries
(`give_way`: before its query stage, after it, after ranking its page) until the miss is done,
each pause at most `serve.search_gives_way_ms`. The event loop's own thread never waits: what
it answers (cached searches and lists, events) must not queue behind a miss. Per process, as
the lanes are (api/deps.py `run_expensive`).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

_lock = threading.Lock()
_running = [0]  # misses running now
_idle = threading.Event()
_idle.set()
_limit_s = [0.0]  # 0: off


def configure(pause_ms: float) -> None:
    """The longest one pause of a search (serve.search_gives_way_ms); 0 turns giving way off."""
    _limit_s[0] = max(0.0, pause_ms) / 1000.0


@contextlib.contextmanager
def running() -> Iterator[None]:
    """A for-you miss runs inside: searches on lane threads give way to it."""
    with _lock:
        _running[0] += 1
        _idle.clear()
    try:
        yield
    finally:
        with _lock:
            _running[0] = max(0, _running[0] - 1)
            if _running[0] == 0:
                _idle.set()


def give_way() -> float:
    """Pause while a miss runs (at most the configured pause; never on the main thread, where
    the event loop runs); the seconds waited."""
    limit = _limit_s[0]
    if limit <= 0 or _idle.is_set() or threading.current_thread() is threading.main_thread():
        return 0.0
    started = time.perf_counter()
    _idle.wait(limit)
    return time.perf_counter() - started
