"""Secret rotation: append a key to the chain and re-key every stored pseudonym.

Order of work, so a crash at any point is recoverable:
1. write `secret.key.next` (old keys + the new one, mode 0600);
2. in ONE store transaction, rewrite user/session pseudonyms in events and identity links
   (`u_x` -> `u_HMAC(new, x)`, computed in Python and applied through a temporary mapping
   table, so the same SQL runs on SQLite and PostgreSQL and the key never reaches the
   database) and record the chain length in `meta.secret_generation`;
3. rename `secret.key.next` over `secret.key`.
`finish_pending_rekey` (run on every open) completes step 3 if the store already has the new
generation, or discards the `.next` file if it does not.

Saved recommendation versions are re-keyed the same way (privacy.models.rekey_saved_models), so
they keep serving the same shoppers and a later erasure finds them; other models are marked
stale (`models_stale`: a training server retrains at once). Erasure tokens of users erased before
the rotation stay valid for models trained before it. Shopper tokens are revoked (their key
derives from the newest secret).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from shopsense.ids import SECRET_FILE, ensure_secret, parse_secret, rekey_step
from shopsense.privacy.models import rekey_saved_models


def finish_pending_rekey(home: Path, store: Any) -> None:
    pending = home / (SECRET_FILE + ".next")
    if not pending.exists():
        return
    chain = parse_secret(pending.read_text(), pending)
    if store.get_meta("secret_generation") == str(len(chain)):
        os.replace(pending, home / SECRET_FILE)
    else:
        pending.unlink()


def rotate_secret(home: Path, store: Any) -> dict[str, Any]:
    finish_pending_rekey(home, store)
    chain = ensure_secret(home)
    new_key = secrets.token_bytes(32)
    pending = home / (SECRET_FILE + ".next")
    fd = os.open(pending, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("".join(k.hex() + "\n" for k in (*chain, new_key)))
    generation = len(chain) + 1
    events, links = _rewrite_pseudonyms(store, new_key, generation)
    entries = rekey_saved_models(home, lambda v: v[:2] + rekey_step(new_key, v[2:]))
    os.replace(pending, home / SECRET_FILE)
    store.reset_caches()
    store.audit("cli", "rotate_secret", {"generation": generation, "events": events,
                                         "model_entries": entries})
    store.vacuum()
    return {"generation": generation, "events_rekeyed": events, "links_rekeyed": links,
            "model_entries_rekeyed": entries, "models_stale": True}


_PSEUDONYMS = ("SELECT user_id FROM events WHERE user_id IS NOT NULL UNION "
               "SELECT session_id FROM events WHERE session_id IS NOT NULL UNION "
               "SELECT user_id FROM identity_links UNION SELECT session_id FROM identity_links")


def _rewrite_pseudonyms(store: Any, new_key: bytes, generation: int) -> tuple[int, int]:
    """Step 2 in one transaction of the store's portable SQL (SQLite and PostgreSQL): map
    every stored pseudonym to its re-keyed form in a temporary table, computed here so the
    key never reaches the database, then rewrite events and identity links through it.
    Returns (events rows rewritten, identity-link rows rewritten)."""
    with store.transaction() as cur:
        old = [row[0] for row in cur.execute(_PSEUDONYMS).fetchall()]
        cur.execute("CREATE TEMPORARY TABLE rekey_map (old TEXT PRIMARY KEY, new TEXT NOT NULL)")
        cur.executemany("INSERT INTO rekey_map VALUES (?, ?)",
                        [(v, v[:2] + rekey_step(new_key, v[2:])) for v in old])
        counts = []
        for table in ("events", "identity_links"):
            counts.append(cur.execute(
                f"UPDATE {table} SET "
                f"user_id = (SELECT new FROM rekey_map WHERE old = {table}.user_id), "
                f"session_id = (SELECT new FROM rekey_map WHERE old = {table}.session_id) "
                "WHERE user_id IS NOT NULL OR session_id IS NOT NULL").rowcount)
        cur.execute("DROP TABLE rekey_map")
        cur.execute("INSERT OR REPLACE INTO meta VALUES ('secret_generation', ?)",
                    (str(generation),))
        cur.execute("INSERT OR REPLACE INTO meta VALUES ('models_stale', '1')")
    return counts[0], counts[1]
