"""DELETE /v1/users/{id} removes the shopper from every store and every online component."""

from __future__ import annotations

from fastapi.testclient import TestClient

from shopsense.api.app import create_app
from shopsense.api.keys import create_key


def test_erasure_reaches_every_store(demo_shop) -> None:
    shop = demo_shop
    admin = create_key(shop.store, "admin")
    with TestClient(create_app(shop.settings, shop)) as client:
        client.headers["X-API-Key"] = admin
        raw, session = "erase-me-please", "erase-me-session"
        client.post("/v1/events", json=[
            {"session_id": session, "item_id": "P00003", "event_type": "view"},
            {"user_id": raw, "session_id": session, "item_id": "P00004", "event_type": "cart"},
            {"user_id": raw, "item_id": "P00005", "event_type": "dismiss"}])
        pseudonym, session_p = shop.ids.user(raw), shop.ids.session(session)
        assert client.get(f"/v1/users/{raw}/profile").json()["events"] == 3
        assert client.get("/v1/recommend", params={"user": raw}).json()["surface"] == "for_you"
        assert pseudonym in shop.models.recs.histories
        result = client.delete(f"/v1/users/{raw}").json()
        assert result["erased"] and result["rows_removed"] >= 3 and result["sessions_erased"] == 1
        # the store: events (by user and by linked session), identity links; tombstone only
        for table, column in (("events", "user_id"), ("events", "session_id"),
                              ("identity_links", "user_id"), ("identity_links", "session_id")):
            for value in (pseudonym, session_p):
                assert not shop.store.execute(
                    f"SELECT 1 FROM {table} WHERE {column} = ?", (value,)), (table, column)
        assert shop.store.is_erased(pseudonym)
        assert shop.store.get_meta("models_stale") != "1"  # models are scrubbed, not retrained
        # online state: recommendation histories and source session state, the profile cache
        assert pseudonym not in shop.models.recs.histories
        assert session_p not in shop.models.recs.histories
        for source in shop.models.recs.sources.values():
            assert session_p not in getattr(source, "sessions_", {})
        assert client.get(f"/v1/users/{raw}/profile").json()["events"] == 0
        assert client.get("/v1/recommend", params={"user": raw}).json()["surface"] == "trending"
        # audit log names the action without the raw id
        audit = shop.store.execute("SELECT action, detail FROM audit_log")
        assert any(action == "erase_user" for action, _ in audit)
        assert raw not in str(audit) and pseudonym not in str(audit)
