"""Secret rotation: append a key to the chain and re-key every stored pseudonym.

Order of work, so a crash at any point is recoverable:
1. write `secret.key.next` (old keys + the new one, mode 0600);
2. in ONE store transaction, rewrite user/session pseudonyms in events and identity links
   (`u_x` -> `u_HMAC(new, x)`) and record the chain length in `meta.secret_generation`;
3. rename `secret.key.next` over `secret.key`.
`finish_pending_rekey` (run on every open) completes step 3 if the store already has the new
generation, or discards the `.next` file if it does not.

Erasure tokens and trained models refer to old pseudonyms: models are marked stale and must be
retrained (`shopsense train`); tokens of users erased before the rotation stay valid for
models trained before it.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from shopsense.ids import SECRET_FILE, ensure_secret, parse_secret, rekey_step


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
    step = lambda v: None if v is None else v[:2] + rekey_step(new_key, v[2:])  # noqa: E731
    store._conn.create_function("rekey", 1, step, deterministic=True)
    with store.transaction() as cur:
        events = cur.execute("UPDATE events SET user_id = rekey(user_id), "
                             "session_id = rekey(session_id)").rowcount
        links = cur.execute("UPDATE identity_links SET user_id = rekey(user_id), "
                            "session_id = rekey(session_id)").rowcount
        cur.execute("INSERT OR REPLACE INTO meta VALUES ('secret_generation', ?)",
                    (str(len(chain) + 1),))
        cur.execute("INSERT OR REPLACE INTO meta VALUES ('models_stale', '1')")
    os.replace(pending, home / SECRET_FILE)
    store._links.clear()
    store.audit("cli", "rotate_secret", {"generation": len(chain) + 1, "events": events})
    store.vacuum()
    return {"generation": len(chain) + 1, "events_rekeyed": events, "links_rekeyed": links,
            "models_stale": True}
