"""The home directory: created with its secret on first use, its store opened (pending key
rotations finished). Every command that touches a home opens it here."""

from __future__ import annotations

from shopsense.config import Settings
from shopsense.ids import ensure_secret
from shopsense.store import open_store


def open_home(cfg: Settings):
    """Create the home directory and its secret on first use; open the store."""
    from shopsense.privacy.rekey import finish_pending_rekey

    cfg.home.mkdir(parents=True, exist_ok=True)
    ensure_secret(cfg.home)
    store = open_store(cfg.store_url)
    finish_pending_rekey(cfg.home, store)
    return store


__all__ = ["open_home"]
