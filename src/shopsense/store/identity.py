"""Identity-link reads shared by privacy and the API, in portable SQL (SQLite, PostgreSQL)."""

from __future__ import annotations

from shopsense.store.base import Store


def linked_sessions(store: Store, user_id: str) -> tuple[str, ...]:
    """Every session pseudonym linked to this user pseudonym."""
    return tuple(row[0] for row in store.execute(
        "SELECT session_id FROM identity_links WHERE user_id = ?", (user_id,)))


def linked_user(store: Store, session_id: str) -> str | None:
    """The user pseudonym this session is linked to, if any."""
    rows = store.execute("SELECT user_id FROM identity_links WHERE session_id = ?",
                         (session_id,))
    return rows[0][0] if rows else None


def has_history(store: Store, actor: str) -> bool:
    """Whether any event, link or tombstone names this pseudonym."""
    return bool(store.execute(
        "SELECT 1 FROM events WHERE user_id = ? OR session_id = ? LIMIT 1", (actor, actor))
        or store.execute("SELECT 1 FROM identity_links WHERE user_id = ? LIMIT 1", (actor,)))
