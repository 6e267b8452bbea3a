"""Right to erasure: one service that every holder of shopper data registers with.

`ErasureService(settings, store).forget(raw_id, actor=...)` is what both the API
(`DELETE /v1/users/{id}`, through `Shop.forget`) and the CLI (`shopsense users forget`) run:

1. the subject: the shopper's pseudonym and every session linked to it;
2. every durable holder forgets it (`Forgettable.forget(subject)`): the store's rows (events
   by user and by linked session, identity links, every table of `store.sqlite.USER_TABLES`
   by user and by linked session: web impressions included) plus a one-way tombstone token;
   every saved model version (privacy.models); log files under <home>/logs;
3. a sealed `forget` notice goes on the store's change feed (store.feed): every running server
   on the home (a single `serve`, each of `serve --workers N`, replicas) drops what it holds in
   memory (profiles, recommendation histories and session state, propensity frames,
   conversations, pending zero-result counts) within a poll, whichever process erased;
4. the store's WAL is checkpointed (SQLite deletes with `secure_delete`, so the rows leave
   the file without a VACUUM; a full VACUUM runs on the retention schedule instead).

Holders are an explicit registry, `HOLDERS` (name -> factory(settings, store)): a component
whose data outlives a process adds its entry there (docs/PRIVACY.md, "Adding a holder"); a
holder of in-memory state appends a callable to `Shop.erasure_listeners`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from shopsense.config import Settings
from shopsense.ids import Pseudonymizer
from shopsense.privacy.models import scrub_saved_models
from shopsense.store import feed
from shopsense.store.base import Store
from shopsense.store.identity import linked_sessions
from shopsense.store.sqlite import erasure_token


@dataclass(frozen=True)
class Subject:
    """Whom an erasure is about: the raw id is only in memory for the erasure's duration
    (log files are searched for it), never stored."""

    raw_id: str
    pseudonym: str
    sessions: tuple[str, ...]

    @property
    def token(self) -> str:
        return erasure_token(self.pseudonym)

    @property
    def actors(self) -> tuple[str, ...]:
        return (self.pseudonym, *self.sessions)


class Forgettable(Protocol):
    """Anything that keeps shopper data beyond one request."""

    name: str

    def forget(self, subject: Subject) -> int:
        """Remove everything of `subject`; returns how many records went."""
        ...


class StoreRows:
    name = "store"

    def __init__(self, store: Store) -> None:
        self.store = store

    def forget(self, subject: Subject) -> int:
        return int(self.store.forget_user(subject.pseudonym))


class SavedModels:
    name = "models"

    def __init__(self, home: Path) -> None:
        self.home = home

    def forget(self, subject: Subject) -> int:
        return scrub_saved_models(self.home, subject.actors)


class LogFiles:
    """Lines of <home>/logs/* that name the shopper (raw id or a pseudonym) are removed."""

    name = "logs"

    def __init__(self, home: Path) -> None:
        self.directory = home / "logs"

    def forget(self, subject: Subject) -> int:
        needles = [n.encode() for n in (subject.raw_id, *subject.actors) if n]
        removed = 0
        for path in sorted(self.directory.rglob("*")) if self.directory.is_dir() else []:
            if path.is_file():
                removed += _drop_lines(path, needles)
        return removed


def _drop_lines(path: Path, needles: list[bytes]) -> int:
    data = path.read_bytes()
    if not any(n in data for n in needles):
        return 0
    lines = data.splitlines(keepends=True)
    kept = [line for line in lines if not any(n in line for n in needles)]
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(b"".join(kept))
    os.replace(tmp, path)
    return len(lines) - len(kept)


class ExperimentAssignments:
    """The shopper's experiment assignments (under the pseudonym and every linked session)."""

    name = "experiments"

    def __init__(self, store: Store) -> None:
        self.store = store

    def forget(self, subject: Subject) -> int:
        from shopsense.store.experiments import StoreExperiments

        return StoreExperiments(self.store).forget(subject.actors)


HOLDERS: dict[str, Callable[[Settings, Any], Forgettable]] = {
    "store": lambda settings, store: StoreRows(store),
    "experiments": lambda settings, store: ExperimentAssignments(store),
    "models": lambda settings, store: SavedModels(settings.home),
    "logs": lambda settings, store: LogFiles(settings.home),
}


class ErasureService:
    def __init__(self, settings: Settings, store: Store,
                 holders: Iterable[Forgettable] | None = None) -> None:
        self.settings, self.store = settings, store
        self.ids = Pseudonymizer.from_home(settings.home)
        self.holders: list[Forgettable] = (list(holders) if holders is not None else
                                           [make(settings, store) for make in HOLDERS.values()])

    def register(self, holder: Forgettable) -> None:
        self.holders.append(holder)

    def subject(self, raw_id: str) -> Subject:
        pseudonym = self.ids.user(raw_id)
        return Subject(raw_id, pseudonym, linked_sessions(self.store, pseudonym))

    def forget(self, raw_id: str, *, actor: str) -> tuple[Subject, dict[str, Any], int]:
        """Erase everywhere durable and tell running servers; returns (subject, the result
        for the caller, the feed sequence number of the notice)."""
        subject = self.subject(raw_id)
        removed = {holder.name: holder.forget(subject) for holder in self.holders}
        total = removed.get("store", 0)
        self.store.audit(actor, "erase_user", {"token": subject.token, "rows_removed": total,
                                               "removed": removed})
        feed.ensure_feed(self.store)
        seq = feed.publish(self.store, "forget", seal_notice(self.ids, subject.actors))
        self.store.checkpoint()
        return subject, {"erasure_token": subject.token, "rows_removed": total,
                         "removed": removed, "sessions_erased": len(subject.sessions),
                         "erased": True}, seq


def forget_user(cfg: Settings, store: Store, raw_id: str, *, actor: str) -> dict[str, Any]:
    """The CLI's erasure (a running server hears of it through the change feed)."""
    return ErasureService(cfg, store).forget(raw_id, actor=actor)[1]


# -- the change-feed notice ------------------------------------------------------------------
# The notice names pseudonyms (a server must know whom to drop from memory) and lives in the
# store for `feed.FORGET_NOTICE_S`; it is sealed with a key derived from the home's secret
# (HMAC-SHA256 as a PRF in counter mode: a keystream XORed over the JSON), so the file never
# holds the pseudonyms in the clear.
def _keystream(key: bytes, nonce: bytes, length: int) -> bytes:
    blocks = (hmac.new(key, nonce + n.to_bytes(8, "big"), hashlib.sha256).digest()
              for n in range(length // 32 + 1))
    return b"".join(blocks)[:length]


def _notice_key(ids: Pseudonymizer) -> bytes:
    return hmac.new(ids.secret_chain[-1], b"shopsense/forget-notice", hashlib.sha256).digest()


def seal_notice(ids: Pseudonymizer, actors: Iterable[str]) -> dict[str, str]:
    plain = json.dumps(list(actors)).encode()
    nonce = secrets.token_bytes(16)
    sealed = bytes(a ^ b for a, b in zip(plain, _keystream(_notice_key(ids), nonce, len(plain)),
                                         strict=True))
    return {"sealed": base64.b64encode(nonce + sealed).decode()}


def open_notice(ids: Pseudonymizer, detail: dict[str, Any]) -> list[str]:
    """The pseudonyms a `forget` notice names (plain `actors` of older notices too)."""
    if "sealed" not in detail:
        return [str(a) for a in detail.get("actors", ())]
    raw = base64.b64decode(detail["sealed"])
    nonce, sealed = raw[:16], raw[16:]
    plain = bytes(a ^ b for a, b in zip(sealed, _keystream(_notice_key(ids), nonce, len(sealed)),
                                        strict=True))
    try:
        return [str(a) for a in json.loads(plain)]
    except ValueError:  # sealed under a secret since rotated: nothing this process can drop
        return []
