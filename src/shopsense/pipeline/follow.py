"""Keeps one server process in step with its siblings on the same store.

(Scale-out replicas on one PostgreSQL use it for catalogue edits and erasures only: their
events come through the Kafka event log, scale/replica.py.)

With `shopsense serve --workers N`, N processes share the port and the SQLite file. Each keeps
in-memory state: the models' session histories and co-visit counts, the catalogue, cached
profiles and answers, assistant conversations. A `StoreFollower` thread polls the store every
`interval_s` (100 ms) for

- events committed by any process (its own included), in `seq` order: handed to the models
  and the caches (`Shop.apply_followed`), so an event posted to one worker changes what every
  worker recommends within a poll;
- catalogue edits and erasures published by a sibling (`store.feed`): applied here.

The follower's lock is held while a batch is applied; a model swap takes it to replay the
events committed after the new models' training began, so no event is lost across the swap
(`training.adopt.adopt_models`; the few committed while training read its data may be
seen twice).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from shopsense.pipeline.background import BackgroundLoop
from shopsense.store import feed


class StoreFollower:
    def __init__(self, shop: Any, interval_s: float = 0.1, *, from_seq: int | None = None,
                 purge_every_s: float = 10.0, follow_events: bool = True) -> None:
        """`follow_events=False`: catalogue edits and erasures only (scale-out replicas, whose
        events arrive through the event log)."""
        self.shop = shop
        self.follow_events = follow_events
        self.interval_s = interval_s
        self.purge_every_s = purge_every_s
        feed.ensure_feed(shop.store)
        self.event_seq = feed.last_event_seq(shop.store) if from_seq is None else from_seq
        self.changes = feed.ChangeCursor(shop.store, feed.last_change(shop.store))
        self.lock = threading.RLock()
        self.applied = 0
        # called after each step, lock held, with the step's (seq, event) batch (maybe empty)
        # and the actors whose cached answers it dropped
        self.after_step: list[Any] = []
        self._purged_at = time.monotonic()
        # a failed step is retried from the same position after a second
        self._loop = BackgroundLoop("shopsense-follow", self._tick, error_wait_s=1.0)

    def start(self) -> threading.Thread:
        return self._loop.start()

    def stop(self) -> None:
        self._loop.stop()

    def _tick(self) -> float:
        return self.interval_s if self.step() == 0 else 0.0

    def step(self) -> int:
        """Apply what siblings (and this process) committed since the last step."""
        store = self.shop.store
        with self.lock:
            batch = feed.events_after(store, self.event_seq) if self.follow_events else []
            dropped: set[str] = set()  # actors whose cached answers the batch dropped
            if batch:
                dropped = self.shop.apply_followed([e for _, e in batch])
                self.event_seq = batch[-1][0]
            changes = self.changes.pending()
            for seq, kind, detail in changes:
                if seq in self.shop.own_changes:
                    self.shop.own_changes.discard(seq)
                else:
                    self._apply(kind, detail)  # if it fails, the next step retries it
                self.changes.mark(seq)
            self.changes.advance()  # a gap left by a rolled-back insert is given up in time
            for hook in list(self.after_step):
                hook(batch, dropped)
        if time.monotonic() - self._purged_at > self.purge_every_s:
            self._purged_at = time.monotonic()
            if feed.purge(store, "forget", feed.FORGET_NOTICE_S):
                store.checkpoint()  # deleted rows are zeroed (secure_delete); WAL emptied
        self.applied += len(batch)
        return len(batch) + len(changes)

    def _apply(self, kind: str, detail: dict[str, Any]) -> None:
        items = list(detail.get("items", ()))
        if kind == "catalog_upsert":
            found = self.shop.store.get_products(items)
            self.shop.apply_catalog([found[i] for i in items if i in found],
                                    [i for i in items if i not in found])
        elif kind == "catalog_delete":
            self.shop.apply_catalog([], items)
        elif kind == "forget":
            self.shop.forget_notice(detail)

    def replay_since(self, models_recs: Any, data_seq: int) -> int:
        """Hand events in (data_seq, followed position] to freshly loaded models; call with
        `self.lock` held, before they serve. Returns how many."""
        return feed.replay(self.shop.store, models_recs.observe_many, data_seq, self.event_seq)
