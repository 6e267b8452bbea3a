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
from shopsense.store.base import Store
from shopsense.store.pseudonyms import StorePseudonyms


def finish_pending_rekey(home: Path, store: Store) -> None:
    pending = home / (SECRET_FILE + ".next")
    if not pending.exists():
        return
    chain = parse_secret(pending.read_text(), pending)
    if store.get_meta("secret_generation") == str(len(chain)):
        os.replace(pending, home / SECRET_FILE)
    else:
        pending.unlink()


def rotate_secret(home: Path, store: Store) -> dict[str, Any]:
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


def _rewrite_pseudonyms(store: Store, new_key: bytes, generation: int) -> tuple[int, int]:
    """Step 2 in one store transaction (SQLite and PostgreSQL): every stored pseudonym
    re-keyed here, so the key never reaches the database (store/pseudonyms.py). Returns
    (events rows rewritten, identity-link rows rewritten)."""
    return StorePseudonyms(store).rekey(lambda v: v[:2] + rekey_step(new_key, v[2:]),
                                        generation)
