"""API keys with scopes, stored hashed and compared in constant time.

A key looks like `ssk_<key id>_<secret>`; the store keeps only sha256 of the whole key.
Scopes: `search` (the storefront's public key: search, recommend, events, feedback) and
`admin` (everything, including catalogue writes, erasure, audiences and analytics).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from shopsense.store.base import Store
from shopsense.store.keys import StoreKeys

SCOPES = ("search", "admin")


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(store: Store, scope: str, *, actor: str = "cli") -> str:
    """Create a key and return it; it is shown once and never stored in the clear."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}, got {scope!r}")
    key_id = secrets.token_hex(6)
    key = f"ssk_{key_id}_{secrets.token_urlsafe(24)}"
    StoreKeys(store).add(key_id, _hash(key), scope, time.time())
    store.audit(actor, "create_key", {"key_id": key_id, "scope": scope})
    return key


def revoke_key(store: Store, key_id: str, *, actor: str = "cli") -> bool:
    changed = StoreKeys(store).revoke(key_id)
    store.audit(actor, "revoke_key", {"key_id": key_id})
    return changed


class KeyRing:
    """Verifies presented keys against the store, caching hashes by key id."""

    def __init__(self, store: Store) -> None:
        self._keys = StoreKeys(store)
        self._cache: dict[str, tuple[str, str, float]] = {}

    def scope_of(self, key: str) -> tuple[str, str] | None:
        """(key_id, scope) for a valid key, else None."""
        parts = key.split("_", 2)
        if len(parts) != 3 or parts[0] != "ssk":
            return None
        key_id = parts[1]
        cached = self._cache.get(key_id)
        if cached is None or time.monotonic() - cached[2] > 5.0:  # revocations seen within 5 s
            found = self._keys.active(key_id)
            if found is None:
                self._cache.pop(key_id, None)
                return None
            cached = (*found, time.monotonic())
            self._cache[key_id] = cached
        if not hmac.compare_digest(cached[0], _hash(key)):
            return None
        return key_id, cached[1]


# -- shopper tokens: who may read a shopper's own data ----------------------------------------
# A personal read (a profile, a personal explanation, a propensity) needs the admin key or a
# shopper token for that shopper: `sst.<pseudonym>.<expiry>.<mac>`, the MAC an HMAC-SHA256
# over pseudonym and expiry with a key derived from the home's newest secret (so a secret
# rotation revokes every token). The shop's backend issues one with the admin key (POST
# /v1/shopper-tokens) after its own sign-in; the bundled storefront gets one as an HttpOnly
# cookie for its own session (POST /web/session). Sent as `X-Shopper-Token` or that cookie.
TOKEN_HEADER = "X-Shopper-Token"
TOKEN_COOKIE = "ss_shopper"


def _token_key(secret_chain: tuple[bytes, ...]) -> bytes:
    return hmac.new(secret_chain[-1], b"shopsense/shopper-token", hashlib.sha256).digest()


def _token_mac(key: bytes, actor: str, expires: int) -> str:
    return hmac.new(key, f"{actor}.{expires}".encode(), hashlib.sha256).hexdigest()[:32]


def issue_shopper_token(secret_chain: tuple[bytes, ...], actor: str, ttl_s: float,
                        *, now: float | None = None) -> tuple[str, int]:
    """(token, expiry as unix seconds) for the pseudonym `actor` (a user or a session)."""
    if not actor or "." in actor:
        raise ValueError(f"not a pseudonym: {actor!r}")
    expires = int((time.time() if now is None else now) + ttl_s)
    return f"sst.{actor}.{expires}.{_token_mac(_token_key(secret_chain), actor, expires)}", expires


def verify_shopper_token(secret_chain: tuple[bytes, ...], token: str,
                         *, now: float | None = None) -> str | None:
    """The pseudonym a valid, unexpired token was issued for; None otherwise."""
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != "sst" or not parts[2].isdigit() or len(token) > 200:
        return None
    actor, expires = parts[1], int(parts[2])
    if expires < (time.time() if now is None else now):
        return None
    good = _token_mac(_token_key(secret_chain), actor, expires)
    return actor if hmac.compare_digest(good, parts[3]) else None
