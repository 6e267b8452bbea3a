"""Impressions tied to answers: the repository over every store, its size on disk, the
exploration's propensities, and the HTTP flow (answer -> impression -> click)."""

from __future__ import annotations

import os
import uuid
from collections import Counter
from pathlib import Path

import pytest

from shopsense.pipeline.explore import Exploration, explore, new_request_id
from shopsense.store import open_store
from shopsense.store.impressions import ImpressionRecord, impressions_of


def _record(rid: str, actor: str = "a1", ts: float = 100.0, **kw) -> ImpressionRecord:
    return ImpressionRecord(rid, ts, actor, kw.pop("surface", "for_you"),
                            kw.pop("items", ("i1", "i2", "i3")), **kw)


def test_repository_contract(store) -> None:
    repo = impressions_of(store)
    assert repo.add([_record("a" * 16, propensities=(0.9, 0.05, 0.05), policy="eps=0.1;pool=20"),
                     _record("b" * 16, actor="a2", ts=200.0, surface="search")]) == 2
    assert repo.add([_record("a" * 16)]) == 0  # a request id is stored once
    assert repo.mark_click("a" * 16, "i2") == 1
    assert repo.mark_click("a" * 16, "i2") == 1  # idempotent
    assert repo.mark_click("a" * 16, "nope") is None
    assert repo.mark_click("c" * 16, "i1") is None
    rows = list(repo.iter())
    assert [r.request_id for r in rows] == ["a" * 16, "b" * 16]
    first = rows[0]
    assert first.items == ("i1", "i2", "i3") and first.clicks == frozenset({1})
    assert first.propensity(0) == pytest.approx(0.9) and first.policy == "eps=0.1;pool=20"
    assert rows[1].propensity(2) == 1.0 and rows[1].propensities == ()
    assert [r.surface for r in repo.iter(surface="search")] == ["search"]
    assert [r.request_id for r in repo.iter(since=150.0)] == ["b" * 16]
    assert repo.count() == 2
    store.forget_user("a1")  # erasure removes the shopper's impressions
    assert [r.actor for r in repo.iter()] == ["a2"]


@pytest.mark.parametrize("bad", [dict(items=()), dict(propensities=(0.5,)),
                                 dict(propensities=(0.0, 1.0, 1.0)), dict(items=("a\x1fb",))])
def test_repository_rejects_bad_records(tmp_path: Path, bad: dict) -> None:
    repo = impressions_of(open_store(f"sqlite:///{tmp_path / 's.db'}"))
    with pytest.raises(ValueError):
        repo.add([_record("d" * 16, **bad)])


def test_bytes_per_impression_on_disk(tmp_path: Path) -> None:
    """10 items a list, realistic ids, exploring propensities: <= 100 bytes an item shown."""
    path = tmp_path / "shop.db"
    store = open_store(f"sqlite:///{path}")
    repo = impressions_of(store)
    store.vacuum()
    before = path.stat().st_size
    lists = 5000
    repo.add([_record(new_request_id(), actor=uuid.uuid4().hex[:24], ts=1.7e9 + n,
                      items=tuple(f"SKU-{(n * 7 + j) % 50_000:06d}" for j in range(10)),
                      propensities=tuple([0.905] + [0.005] * 9), policy="eps=0.1;pool=20")
              for n in range(lists)])
    store.vacuum()
    per_item = (path.stat().st_size - before) / (lists * 10)
    assert per_item <= 100, per_item
    store.close()


def test_exploration_propensities_match_frequencies() -> None:
    """The logged propensity is the probability of that item at that position."""
    results = [{"item_id": f"i{j}"} for j in range(8)]
    policy = Exploration(epsilon=0.3, pool=5)
    counts: Counter[tuple[int, str]] = Counter()
    logged: dict[tuple[int, str], float] = {}
    runs = 6000
    for _ in range(runs):
        shown, label = explore(results, 3, new_request_id(), policy)
        assert label == "eps=0.3;pool=5" and len(shown) == 3
        for p, r in enumerate(shown):
            counts[(p, r["item_id"])] += 1
            logged[(p, r["item_id"])] = r["propensity"]
    for key, n in counts.items():
        assert n / runs == pytest.approx(logged[key], abs=0.02)
    assert logged[(0, "i0")] == pytest.approx(0.7 + 0.3 / 5)
    assert not any(item in ("i5", "i6", "i7") for _, item in counts)
    greedy, label = explore(results, 3, new_request_id(), Exploration())
    assert label == "greedy" and [r["propensity"] for r in greedy] == [1.0] * 3
    rid = new_request_id()
    assert explore(results, 3, rid, policy) == explore(results, 3, rid, policy)  # re-derivable
    with pytest.raises(ValueError):
        Exploration(epsilon=1.5)


@pytest.fixture(scope="module")
def api(demo_shop):
    from fastapi.testclient import TestClient

    from shopsense.api.app import create_app
    from shopsense.api.keys import create_key

    key = create_key(demo_shop.store, "search")
    with TestClient(create_app(demo_shop.settings, demo_shop)) as client:
        client.headers["X-API-Key"] = key
        yield client, demo_shop


def test_answers_carry_request_ids_and_clicks_reach_their_impression(api) -> None:
    client, shop = api
    user = sorted({e.user_id for e in shop.store.iter_events() if e.user_id})[0]
    answer = client.get("/v1/recommend", params={"user": user, "k": 5}).json()
    assert len(answer["request_id"]) == 16 and answer["policy"] == "greedy"
    assert all(r["propensity"] == 1.0 for r in answer["results"])
    search = client.get("/v1/search", params={"q": "空调", "k": 3}).json()
    assert search["request_id"] != answer["request_id"]
    body = {"request_id": answer["request_id"], "surface": "for_you", "user_id": user,
            "items": [r["item_id"] for r in answer["results"]],
            "propensities": [r["propensity"] for r in answer["results"]],
            "policy": answer["policy"]}
    assert client.post("/v1/impressions", json=body).json() == {"accepted": 1, "duplicates": 0}
    assert client.post("/v1/impressions", json=body).json() == {"accepted": 0, "duplicates": 1}
    clicked = answer["results"][2]["item_id"]
    out = client.post("/v1/events", json={"event_type": "click", "user_id": user,
                                          "item_id": clicked,
                                          "request_id": answer["request_id"]}).json()
    assert out["accepted"] == 1 and out["clicks_attributed"] == 1
    stored = [r for r in impressions_of(shop.store).iter()
              if r.request_id == answer["request_id"]]
    assert stored[0].clicks == frozenset({2}) and stored[0].actor == shop.actor(user)


@pytest.mark.parametrize("change", [{"request_id": "xyz"}, {"surface": "homepage"},
                                    {"items": []}, {"propensities": [0.5]},
                                    {"propensities": [2.0, 1.0]}, {"user_id": None}])
def test_bad_impressions_get_a_clear_error(api, change: dict) -> None:
    client, _ = api
    body = {"request_id": "0123456789abcdef", "surface": "for_you", "user_id": "u1",
            "items": ["a", "b"], **change}
    got = client.post("/v1/impressions", json=body)
    assert got.status_code in (400, 422), got.text
    error = got.json()["error"]
    assert error["code"] and error["message"]


def test_the_python_client_reports_impressions_and_clicks(tmp_path: Path, demo_shop) -> None:
    """Over a real HTTP server on loopback."""
    import threading

    import uvicorn

    from shopsense.api.app import create_app
    from shopsense.api.keys import create_key
    from shopsense.client import ShopsenseClient

    key = create_key(demo_shop.store, "search")
    port = int(os.environ.get("SHOPSENSE_TEST_PORT", "8171"))
    server = uvicorn.Server(uvicorn.Config(create_app(demo_shop.settings, demo_shop),
                                           host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        import time

        while not server.started:
            time.sleep(0.05)
        with ShopsenseClient(f"http://127.0.0.1:{port}", key) as client:
            answer = client.recommend(session="s-client", k=4)
            assert client.impressions(answer, surface="for_you", session="s-client",
                                      shown=3)["accepted"] == 1
            out = client.click(answer, answer["results"][0]["item_id"], session="s-client")
            assert out["clicks_attributed"] == 1
    finally:
        server.should_exit = True
        thread.join(timeout=10)
