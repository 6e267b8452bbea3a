"""A search on a lane thread gives way to a for-you miss (pipeline/give_way.py): it pauses
while the miss runs, at most the configured pause, never on the main thread (the event loop's),
and not at all when turned off; the recommendation lane marks its misses; the app configures
it from `serve.search_gives_way_ms` for its lifetime."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shopsense.api.app import create_app
from shopsense.api.deps import _giving_way_to
from shopsense.config import ServeSettings, Settings
from shopsense.pipeline import give_way


@pytest.fixture
def pause_ms():
    def set_to(ms: float) -> None:
        give_way.configure(ms)

    yield set_to
    give_way.configure(0.0)


def _on_a_thread(fn) -> float:
    """What `fn` returns, called on a thread of its own (as a lane's)."""
    out: list[float] = []
    worker = threading.Thread(target=lambda: out.append(fn()))
    worker.start()
    worker.join(10)
    return out[0]


def _miss_for(seconds: float) -> threading.Thread:
    started = threading.Event()

    def miss() -> None:
        with give_way.running():
            started.set()
            time.sleep(seconds)

    thread = threading.Thread(target=miss)
    thread.start()
    started.wait(5)
    return thread


def test_a_search_waits_for_the_miss_to_end(pause_ms) -> None:
    pause_ms(2000)
    miss = _miss_for(0.15)
    waited = _on_a_thread(give_way.give_way)
    miss.join()
    assert 0.08 < waited < 1.0  # until the miss ended, far short of the 2 s bound


def test_a_pause_is_bounded_when_the_miss_goes_on(pause_ms) -> None:
    pause_ms(40)
    miss = _miss_for(0.6)
    waited = _on_a_thread(give_way.give_way)
    assert 0.03 < waited < 0.3
    miss.join()
    assert _on_a_thread(give_way.give_way) == 0.0  # nothing running: no pause


def test_the_event_loops_thread_and_an_off_setting_never_wait(pause_ms) -> None:
    pause_ms(500)
    miss = _miss_for(0.3)
    assert threading.current_thread() is threading.main_thread()
    assert give_way.give_way() == 0.0  # the main thread: the event loop's
    pause_ms(0)
    assert _on_a_thread(give_way.give_way) == 0.0  # off
    miss.join()


def test_misses_overlapping_keep_searches_paused_until_the_last_ends(pause_ms) -> None:
    pause_ms(2000)
    first, second = _miss_for(0.1), _miss_for(0.25)
    waited = _on_a_thread(give_way.give_way)
    first.join()
    second.join()
    assert waited > 0.15


def test_the_recommendation_lane_marks_its_miss_running() -> None:
    seen: list[bool] = []
    wrapped = _giving_way_to(lambda: seen.append(not give_way._idle.is_set()) or 7)
    assert wrapped() == 7 and seen == [True]
    assert give_way._idle.is_set()  # done: searches go on
    with pytest.raises(ZeroDivisionError):
        _giving_way_to(lambda: 1 / 0)()
    assert give_way._idle.is_set()  # a miss that raised is done too


def test_the_app_configures_it_for_its_lifetime(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, serve=ServeSettings(search_gives_way_ms=7.5))
    with TestClient(create_app(settings)):
        assert give_way._limit_s[0] == pytest.approx(0.0075)
    assert give_way._limit_s[0] == 0.0
