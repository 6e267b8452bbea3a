"""Merchandising versions in the store (SQLite file, PostgreSQL when a server is at hand):
saves are numbered, audited and listed newest first; a body comes back as saved."""

from __future__ import annotations

from shopsense.store.merch import StoreMerchRepository


def test_versions_history_and_audit(store) -> None:
    repo = StoreMerchRepository(store)
    assert repo.version() == 0 and repo.latest() is None and repo.history() == []
    body = {"rules": [{"action": "pin", "field": "item", "value": "P1", "query": "空调"}],
            "redirects": []}
    first = repo.save(body, "key:ops", "pin for the sale")
    second = repo.save({"rules": [], "redirects": []}, "key:ops2", "sale over")
    assert (first.version, second.version) == (1, 2) and repo.version() == 2
    assert repo.get(1).body == body and repo.latest().note == "sale over"
    assert [v.version for v in repo.history()] == [2, 1]
    assert repo.history(1)[0].actor == "key:ops2"
    assert StoreMerchRepository(store).version() == 2  # a second replica sees the same
    audit = store.execute("SELECT actor, action FROM audit_log WHERE action = 'merch.save'")
    assert [tuple(r) for r in audit] == [("key:ops", "merch.save"), ("key:ops2", "merch.save")]
    assert repo.get(99) is None
