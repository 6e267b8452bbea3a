"""A 2xx on /v1/events means committed: kill -9 the server mid-stream, restart, count."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx

from shopsense.api.keys import create_key
from shopsense.store import open_store


def test_acknowledged_events_survive_kill_9(tmp_path: Path, make_server) -> None:
    home = tmp_path / "home"
    home.mkdir()
    store = open_store(f"sqlite:///{home / 'shop.db'}")
    key = create_key(store, "search")
    store.close()
    server = make_server(home).start()
    acked: list[str] = []
    stop = threading.Event()

    def stream() -> None:
        with httpx.Client(base_url=server.url, headers={"X-API-Key": key}, timeout=5) as c:
            n = 0
            while not stop.is_set():
                batch = [{"event_id": f"e{n + i}", "user_id": f"u{(n + i) % 37}",
                          "item_id": f"p{(n + i) % 101}", "event_type": "view"}
                         for i in range(20)]
                try:
                    r = c.post("/v1/events", json=batch)
                except httpx.HTTPError:
                    return
                if r.status_code == 200:
                    acked.extend(e["event_id"] for e in batch)
                n += 20

    threads = [threading.Thread(target=stream) for _ in range(1)]
    for t in threads:
        t.start()
    deadline = time.time() + 30
    while len(acked) < 400 and time.time() < deadline:
        time.sleep(0.02)
    server.kill()  # SIGKILL while the client is still streaming
    stop.set()
    for t in threads:
        t.join()
    assert len(acked) >= 400
    store = open_store(f"sqlite:///{home / 'shop.db'}")
    stored = [r[0] for r in store.execute("SELECT event_id FROM events")]
    assert len(stored) == len(set(stored))  # exactly once
    assert set(acked) <= set(stored)  # every acknowledged event is there
    store.close()
    # after restart the service answers and a resend is idempotent
    server2 = make_server(home).start()
    with httpx.Client(base_url=server2.url, headers={"X-API-Key": key}) as c:
        again = c.post("/v1/events", json=[{"event_id": acked[0], "user_id": "u0",
                                            "item_id": "p0", "event_type": "view"}]).json()
    assert again == {"accepted": 0, "duplicates": 1}
