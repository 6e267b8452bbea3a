"""Contract of the experiment repository (store/experiments.py) over a SQLite file and
PostgreSQL (the `store` fixture of tests/conftest.py); erasure and retention reach the
assignments."""

from __future__ import annotations

from pathlib import Path

import pytest

from shopsense.store import open_store
from shopsense.store.experiments import ExperimentRecord, StoreExperiments


def _record(xid: str, at: float, surface: str = "for_you", **kw) -> ExperimentRecord:
    spec = {"name": f"n-{xid}", "kind": "ab", "surface": surface, "traffic": 1.0,
            "metric": "clicks", "arms": [{"name": "a", "share": 0.5, "overlay": {}},
                                         {"name": "b", "share": 0.5,
                                          "overlay": {"ranker": "fusion"}}]}
    return ExperimentRecord(xid, f"n-{xid}", kw.get("kind", "ab"), surface, "running", at, spec)


def test_repository_contract(store) -> None:
    repo = StoreExperiments(store)
    repo.create(_record("x00000001", 100.0))
    repo.create(_record("x00000002", 200.0, surface="search"))
    with pytest.raises(ValueError):  # an id is stored once
        repo.create(_record("x00000001", 300.0))
    got = repo.get("x00000001")
    assert got is not None and got.spec["arms"][1]["overlay"] == {"ranker": "fusion"}
    assert got.status == "running" and got.stopped_at is None and got.created_at == 100.0
    assert repo.get("x0000dead") is None
    assert [r.id for r in repo.list()] == ["x00000002", "x00000001"]  # newest first
    stopped = repo.stop("x00000002", 250.0)
    assert stopped is not None and stopped.status == "stopped" and stopped.stopped_at == 250.0
    assert repo.stop("x00000002", 999.0).stopped_at == 250.0  # the first stop counts
    assert repo.stop("x0000dead", 1.0) is None
    assert [r.id for r in repo.list("running")] == ["x00000001"]
    assert [r.id for r in repo.list("stopped")] == ["x00000002"]
    assert repo.assign("x00000001", "u1", "a", 110.0) is True
    assert repo.assign("x00000001", "u1", "b", 120.0) is False  # sticky: the first one stays
    assert repo.assign("x00000001", "s9", "b", 105.0) is True
    assert repo.assign("x00000002", "u1", "a", 210.0) is True
    rows = repo.assignments("x00000001")
    assert [(a.actor, a.arm, a.timestamp) for a in rows] == [("s9", "b", 105.0),
                                                             ("u1", "a", 110.0)]
    assert repo.forget(["u1", "nobody"]) == 2  # both experiments
    assert [a.actor for a in repo.assignments("x00000001")] == ["s9"]
    assert repo.assignments("x00000002") == [] and repo.forget([]) == 0


def test_store_erasure_and_retention_reach_assignments(store) -> None:
    from shopsense.store.retention import purge_user_rows_before

    repo = StoreExperiments(store)
    repo.create(_record("x00000003", 100.0))
    repo.assign("x00000003", "u1", "a", 110.0)
    repo.assign("x00000003", "u2", "b", 500.0)
    assert store.forget_user("u1") >= 1  # the store's own erasure knows the table
    assert [a.actor for a in repo.assignments("x00000003")] == ["u2"]
    repo.assign("x00000003", "u3", "a", 50.0)
    assert purge_user_rows_before(store, 100.0)["experiment_assignments"] == 1
    assert [a.actor for a in repo.assignments("x00000003")] == ["u2"]


def test_erasure_service_removes_assignments_of_user_and_linked_sessions(tmp_path: Path
                                                                        ) -> None:
    from shopsense.config import Settings
    from shopsense.ids import Pseudonymizer, ensure_secret
    from shopsense.privacy.erasure import ErasureService

    ensure_secret(tmp_path)
    settings = Settings(home=tmp_path)
    store = open_store(settings.store_url)
    ids = Pseudonymizer.from_home(tmp_path)
    user, session = ids.user("shopper-7"), ids.session("tab-1")
    store.link_session(session, user)
    repo = StoreExperiments(store)
    repo.create(_record("x00000004", 100.0))
    for actor in (user, session, ids.user("someone-else")):
        repo.assign("x00000004", actor, "a", 120.0)
    subject, result, _ = ErasureService(settings, store).forget("shopper-7", actor="test")
    assert set(subject.actors) == {user, session}
    assert [a.actor for a in repo.assignments("x00000004")] == [ids.user("someone-else")]
    assert "experiments" in str(result)
    store.close()
