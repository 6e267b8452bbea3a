"""Per-client order and pacing in the expensive lane (issue #15, item 9; api/deps.py
`run_expensive`, `serve.client_lane_burst_s`): a client's expensive runs take the lane one at
a time, each after the lane time of its earlier runs is repaid, so another client's run goes
ahead of a flooder's queue and the lane's thread (which takes the GIL from the event loop)
is idle between a flooder's runs. No run is refused for it."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path

import httpx
from fastapi import Request
from fastapi.testclient import TestClient

from shopsense.api.app import create_app
from shopsense.api.deps import run_expensive
from shopsense.api.keys import create_key
from shopsense.config import ServeSettings, Settings
from shopsense.pipeline.shop import Shop

FLOODER, CALM = ("198.51.100.7", 1000), ("198.51.100.8", 1000)


def _app(tmp_path: Path, **serve):
    serve = {"rate_limit_per_s": 10_000.0, "tarpit_s": 0.0, **serve}
    settings = Settings(home=tmp_path, serve=ServeSettings(**serve))
    shop = Shop(settings)
    shop.upsert_items([{"item_id": "p1", "title": "Tent"}])
    key = create_key(shop.store, "search")
    return TestClient(create_app(settings, shop)).app, {"X-API-Key": key}


def _http(app, peer: tuple[str, int]) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=peer),
                             base_url="http://t")


def _heavy_route(app, runs: list[tuple[str, float, float]], hold_s: float) -> None:
    """/v1/heavy?who=…: an expensive run that holds the lane's thread `hold_s` busy in pure
    Python (the GIL held but for the switch interval), recording (who, start, end)."""
    def work(who: str) -> dict[str, str]:
        started = time.perf_counter()
        while time.perf_counter() - started < hold_s:
            sum(range(200))
        runs.append((who, started, time.perf_counter()))
        return {"who": who}

    async def heavy(request: Request, who: str) -> dict[str, str]:
        return await run_expensive(request, lambda: work(who))

    app.add_api_route("/v1/heavy", heavy)


def test_another_clients_run_goes_ahead_of_a_flooders_queue(tmp_path: Path) -> None:
    """Four runs of one address in flight, then one of another: the other's runs second,
    not fifth; every run is answered 200 (waiting, never refused)."""
    # the lane's order: the first run alone would else run on the loop (in the test the
    # clients share that loop, so nothing else is sent meanwhile)
    app, _ = _app(tmp_path, client_server_ms_per_s=1000.0, client_lane_burst_s=5.0,
                  expensive_inline_when_alone=False)
    runs: list[tuple[str, float, float]] = []
    _heavy_route(app, runs, hold_s=0.05)

    async def scenario() -> list[int]:
        async with _http(app, FLOODER) as flood, _http(app, CALM) as calm:
            floods = [asyncio.create_task(flood.get("/v1/heavy", params={"who": f"f{i}"}))
                      for i in range(4)]
            await asyncio.sleep(0.01)  # the first flood run has the lane
            other = asyncio.create_task(calm.get("/v1/heavy", params={"who": "calm"}))
            done = await asyncio.gather(*floods, other)
            return [r.status_code for r in done]

    assert asyncio.run(scenario()) == [200] * 5
    order = [who for who, _, _ in sorted(runs, key=lambda r: r[1])]
    assert order[1] == "calm" and order[0] == "f0"
    assert order[2:] == ["f1", "f2", "f3"]  # the flooder's own runs in the order sent
    assert app.state.expensive_turns == {}  # no lock kept once nobody waits


def test_a_paced_flooder_leaves_the_lane_idle_for_the_cheap_request(tmp_path: Path) -> None:
    """A flooder whose run held the lane past its burst waits (asleep) for the debt to be
    repaid at its server-time rate: no run of it is in the lane meanwhile, so a cheap request
    sent then is answered without sharing the GIL with one, and the flood is still served."""
    # 100 ms/s, burst 10 ms: a 60 ms run leaves ~50 ms of debt, ~0.5 s of waiting
    app, headers = _app(tmp_path, client_server_ms_per_s=100.0, client_lane_burst_s=0.1,
                        client_server_burst_s=60.0)
    runs: list[tuple[str, float, float]] = []
    _heavy_route(app, runs, hold_s=0.06)

    async def scenario() -> tuple[list[int], float, float, int]:
        async with _http(app, FLOODER) as flood, _http(app, CALM) as calm:
            floods = [asyncio.create_task(flood.get("/v1/heavy", params={"who": f"f{i}"}))
                      for i in range(3)]
            while not runs:  # the first flood run has finished
                await asyncio.sleep(0.005)
            await asyncio.sleep(0.05)
            sent = time.perf_counter()
            cheap = await calm.get("/v1/items/p1", headers=headers)
            answered = time.perf_counter()
            codes = [r.status_code for r in await asyncio.gather(*floods)]
            return codes, sent, answered, cheap.status_code

    codes, sent, answered, cheap = asyncio.run(scenario())
    assert codes == [200, 200, 200] and cheap == 200
    starts = sorted(start for _, start, _ in runs)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert min(gaps) >= 0.3  # each later run waited for the debt (~0.5 s), not for the lane
    assert not any(start < answered and sent < end for _, start, end in runs)  # lane idle
    assert app.state.expensive_turns == {}


def test_without_pacing_a_clients_runs_queue_in_the_lane_as_before(tmp_path: Path) -> None:
    """`serve.client_lane_burst_s = 0`: no per-client order, no waiting (the lane alone
    orders the runs, first come first served)."""
    app, _ = _app(tmp_path, client_server_ms_per_s=100.0, client_lane_burst_s=0.0,
                  client_server_burst_s=60.0, expensive_inline_when_alone=False)
    runs: list[tuple[str, float, float]] = []
    _heavy_route(app, runs, hold_s=0.06)

    async def scenario() -> None:
        async with _http(app, FLOODER) as flood:
            await asyncio.gather(*(flood.get("/v1/heavy", params={"who": f"f{i}"})
                                   for i in range(3)))

    asyncio.run(scenario())
    starts = sorted(start for _, start, _ in runs)
    assert max(b - a for a, b in itertools.pairwise(starts)) < 0.3
    assert getattr(app.state, "expensive_turns", {}) == {}


def _thread_route(app, seen: list[tuple[str, bool]], hold_s: float = 0.0) -> None:
    """/v1/where?who=…&long=…: an expensive run recording whether it ran on the event loop's
    thread (True) or the lane's."""
    import threading

    loop_thread: list[int] = []

    def work(who: str) -> dict[str, str]:
        started = time.perf_counter()
        while time.perf_counter() - started < hold_s:
            sum(range(200))
        seen.append((who, threading.get_ident() == loop_thread[0]))
        return {"who": who}

    async def where(request: Request, who: str, long: bool = False) -> dict[str, str]:
        loop_thread[:] = [threading.get_ident()]
        return await run_expensive(request, lambda: work(who), inline=not long)

    app.add_api_route("/v1/where", where)


def test_an_expensive_run_alone_in_its_process_runs_on_the_loop(tmp_path: Path) -> None:
    """`serve.expensive_inline_when_alone`: a cold search or a miss that is the only request
    in flight runs on the event loop (no GIL hand-overs with a lane thread); a long query
    never does; with the setting off every run takes the lane."""
    for inline, expected in ((True, [("a", True), ("long", False)]),
                             (False, [("a", False), ("long", False)])):
        app, _ = _app(tmp_path / str(inline), expensive_inline_when_alone=inline)
        seen: list[tuple[str, bool]] = []
        _thread_route(app, seen)

        async def scenario(app=app) -> None:
            async with _http(app, CALM) as calm:
                assert (await calm.get("/v1/where", params={"who": "a"})).status_code == 200
                long = await calm.get("/v1/where", params={"who": "long", "long": "true"})
                assert long.status_code == 200

        asyncio.run(scenario())
        assert seen == expected, inline
        assert app.state.in_flight.n == 0


def test_an_expensive_run_with_others_in_flight_takes_the_lane(tmp_path: Path) -> None:
    """While another request is being answered (here: one that naps 0.2 s), an expensive run
    is not alone and goes to the lane: the loop stays free for the others."""
    app, _ = _app(tmp_path)
    seen: list[tuple[str, bool]] = []
    _thread_route(app, seen)

    async def nap() -> dict[str, str]:
        await asyncio.sleep(0.2)
        return {"slept": "yes"}

    app.add_api_route("/v1/nap", nap)

    async def scenario() -> None:
        async with _http(app, FLOODER) as one, _http(app, CALM) as two:
            napping = asyncio.create_task(one.get("/v1/nap"))
            await asyncio.sleep(0.05)
            assert (await two.get("/v1/where", params={"who": "y"})).status_code == 200
            assert (await napping).status_code == 200
            assert (await two.get("/v1/where", params={"who": "z"})).status_code == 200

    asyncio.run(scenario())
    assert seen == [("y", False), ("z", True)]  # z: alone again once the nap has ended


def test_a_client_in_debt_waits_even_when_alone(tmp_path: Path) -> None:
    """Pacing holds for inline runs: a run alone counts as lane time, so a flooder sending
    one heavy run after another (each alone) still waits for its debt before the next."""
    app, _ = _app(tmp_path, client_server_ms_per_s=100.0, client_lane_burst_s=0.1,
                  client_server_burst_s=60.0)
    runs: list[tuple[str, float, float]] = []
    _heavy_route(app, runs, hold_s=0.06)

    async def scenario() -> None:
        async with _http(app, FLOODER) as flood:
            for i in range(3):
                assert (await flood.get("/v1/heavy", params={"who": f"f{i}"})).status_code \
                    == 200

    asyncio.run(scenario())
    starts = sorted(start for _, start, _ in runs)
    assert min(b - a for a, b in itertools.pairwise(starts)) >= 0.3  # ~0.5 s of debt each
