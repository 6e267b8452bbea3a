"""Identifiers: keyed pseudonyms for people.

Raw user and session ids never reach the store: they are replaced at the door by
HMAC-SHA256 pseudonyms under a per-install secret (`<home>/secret.key`, mode 0600).
The same raw id always maps to the same pseudonym; without the secret the mapping cannot be
recomputed, and rotating the secret (see `shopsense users rekey`) unlinks old pseudonyms.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

SECRET_FILE = "secret.key"
_CACHE_LIMIT = 200_000


def ensure_secret(home: Path) -> tuple[bytes, ...]:
    """The install's key chain (oldest first), creating the first key (32 random bytes,
    mode 0600) on first use. `shopsense users rekey` appends keys; see privacy/rekey."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / SECRET_FILE
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32) + "\n")
    os.chmod(path, 0o600)
    return parse_secret(path.read_text(), path)


def parse_secret(text: str, path: Path) -> tuple[bytes, ...]:
    keys = tuple(bytes.fromhex(line.strip()) for line in text.splitlines() if line.strip())
    if not keys or any(len(k) < 16 for k in keys):
        raise ValueError(f"{path}: secret is missing or too short; restore it from backup")
    return keys


class Pseudonymizer:
    """Maps raw user / session ids to stable keyed pseudonyms (`u_…`, `s_…`).

    With a key chain k1..kn the pseudonym is HMAC(kn, … HMAC(k1, raw)): after a rotation the
    stored ids were re-keyed with the new key, so a leaked older key alone links nothing."""

    def __init__(self, secret: bytes | tuple[bytes, ...] | list[bytes]) -> None:
        chain = (secret,) if isinstance(secret, bytes) else tuple(secret)
        if not chain or any(len(k) < 16 for k in chain):
            raise ValueError("secret must be at least 16 bytes")
        self._chain = chain
        self._cache: dict[str, str] = {}

    @classmethod
    def from_home(cls, home: Path) -> Pseudonymizer:
        return cls(ensure_secret(Path(home)))

    @property
    def secret_chain(self) -> tuple[bytes, ...]:
        return self._chain

    def _digest(self, kind: str, raw: str) -> str:
        key = kind + raw
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        mac = hmac.digest(self._chain[0], f"{kind}\x1f{raw}".encode(), "sha256").hex()[:32]
        for extra in self._chain[1:]:
            mac = rekey_step(extra, mac)
        value = f"{kind}_{mac}"
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[key] = value
        return value

    def user(self, raw_id: str) -> str:
        """Pseudonym of a raw user id; already-pseudonymised ids pass through unchanged."""
        return raw_id if is_pseudonym(raw_id, "u") else self._digest("u", raw_id)

    def session(self, raw_id: str) -> str:
        return raw_id if is_pseudonym(raw_id, "s") else self._digest("s", raw_id)


def rekey_step(key: bytes, mac_hex: str) -> str:
    """One link of the chain: the 32-hex body of a pseudonym under a further key."""
    return hmac.digest(key, mac_hex.encode(), "sha256").hex()[:32]


def is_pseudonym(value: str, kind: str) -> bool:
    return len(value) == 34 and value.startswith(kind + "_") and all(
        c in "0123456789abcdef" for c in value[2:]
    )
