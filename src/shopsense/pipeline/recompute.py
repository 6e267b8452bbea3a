"""A shopper's for-you list recomputed once after their event, off the request path, and
shared between the server processes on one store.

An accepted event drops the shopper's cached lists (their profile and session changed). Without
this, every worker recomputed the list on its next request for the shopper: ~6-8 ms of CPU on
that request's path, once per worker. With it, the process that committed the event recomputes
the shopper's default list (`/v1/recommend` without filters, the storefront's) on a thread of
its own as soon as the event has reached its models, if the event dropped a cached list (the
shopper was being shown recommendations), and, with sibling processes (`serve --workers N`),
publishes it (`store.shared_answers`). A sibling's follower adopts a published list into its own
cache instead of recomputing it, when it is what the sibling would compute: the same models
version, standing rules and change-feed position (catalogue edits, erasures), every event the
publisher had applied applied here too, and no later event of the shopper's. A request that
arrives before the list is ready computes it as before.

With `serve.recompute_after_event` off (the default) and siblings, only the sharing runs: a
list a request computed on a miss is published the same way (`Recomputer.begin` /
`computed`, called by `surfaces`), so a shopper's event costs one computation across the
workers instead of one per worker.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections import OrderedDict
from typing import Any

from cachetools import LRUCache, TTLCache

from shopsense.domain import Event
from shopsense.pipeline import surfaces
from shopsense.pipeline.shop import Shop
from shopsense.rank.rules import Rules
from shopsense.store.shared_answers import KEEP_S, SharedAnswer, SharedAnswers

log = logging.getLogger(__name__)


class Recomputer:
    """Recomputes (and, given the process's `follower`, shares and adopts) for-you lists."""

    def __init__(self, shop: Shop, follower: Any = None, *, max_pending: int = 1000,
                 purge_every_s: float = 10.0, recompute: bool = True) -> None:
        self.shop, self.follower, self.max_pending = shop, follower, max_pending
        self.recompute = recompute  # False: share the lists requests computed, only
        self.share = SharedAnswers(shop.store) if follower is not None else None
        self.origin = f"{os.getpid()}-{os.urandom(4).hex()}"  # this process's rows
        self.read_seq = self.share.last() if self.share is not None else 0
        self._pending: OrderedDict[str, None] = OrderedDict()
        self._wake = threading.Condition()
        self._awaiting: LRUCache[str, tuple[str, ...]] = LRUCache(100_000)  # own event ids
        self._last_seq: LRUCache[str, int] = LRUCache(200_000)  # actor -> last followed event
        self._held: list[SharedAnswer] = []  # a sibling's lists ahead of our follower
        self._outbox: list[SharedAnswer] = []  # lists requests computed, to publish
        self._erased: TTLCache[str, None] = TTLCache(100_000, KEEP_S)  # lately forgotten
        # actors shown a list lately whose list an event dropped here (theirs or a sibling's)
        self._shown: TTLCache[str, None] = TTLCache(
            100_000, max(shop.settings.serve.answer_cache_ttl_s, 1.0))
        self._rules: tuple[Any, str] = (None, "")
        self._purged_at, self.purge_every_s = time.monotonic(), purge_every_s
        self._stopped = False
        self.recomputed = self.published = self.adopted = self.skipped = 0
        if recompute:
            shop.committed.append(self.on_committed)
        elif self.share is not None:
            shop.list_sharers.append(self)
        shop.erasure_listeners.append(self.forget)
        if follower is not None:
            follower.after_step.append(self.on_followed)
        self._thread = threading.Thread(target=self._run, name="shopsense-recompute",
                                        daemon=True)

    def start(self) -> threading.Thread:
        self._thread.start()
        return self._thread

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify()

    # -- what to recompute -----------------------------------------------------------------
    def on_committed(self, events: list[Event], dropped: set[str]) -> None:
        """Events this process committed; `dropped`: actors whose cached lists they dropped
        (they were being shown recommendations; so were those a followed event dropped lately).
        Alone on the store the models have the events already; with siblings, once followed."""
        for actor in dropped:
            self._shown[actor] = None
        for e in events:
            actors = tuple(a for a in (e.user_id, e.session_id) if a and a in self._shown)
            if not actors:
                continue
            if self.follower is None:
                self._enqueue(actors)
            else:
                self._awaiting[e.event_id] = actors

    def on_followed(self, batch: list[tuple[int, Event]], dropped: set[str]) -> None:
        """The follower applied `batch` (everyone's events, in seq order), which dropped the
        cached lists of `dropped`: lists to recompute for our own events, then siblings' lists
        to adopt, and old rows purged."""
        try:
            for actor in dropped:
                self._shown[actor] = None
            for seq, e in batch:
                for actor in (e.user_id, e.session_id):
                    if actor:
                        self._last_seq[actor] = seq
                actors = self._awaiting.pop(e.event_id, None)
                if actors:
                    self._enqueue(actors)
            self._adopt()
            if time.monotonic() - self._purged_at > self.purge_every_s:
                self._purged_at = time.monotonic()
                assert self.share is not None
                self.share.purge(KEEP_S)
        except Exception:  # the follower's own work must go on
            log.exception("sharing recomputed lists failed")

    def forget(self, actor: str) -> None:
        """An erased pseudonym: nothing of it is recomputed or adopted any more."""
        with self._wake:
            self._pending.pop(actor, None)
            self._outbox = [a for a in self._outbox if a.actor != actor]
            self._erased[actor] = None
        self._shown.pop(actor, None)
        self._last_seq[actor] = 2**62  # no list published before now is adopted

    def _enqueue(self, actors: tuple[str, ...]) -> None:
        with self._wake:
            for actor in actors:
                self._pending[actor] = None
                self._pending.move_to_end(actor)
            while len(self._pending) > self.max_pending:  # the oldest wait for a request
                self._pending.popitem(last=False)
            self._wake.notify()

    # -- recomputing and publishing ----------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._pending and not self._outbox and not self._stopped:
                    self._wake.wait()
                if self._stopped:
                    return
                actor = self._pending.popitem(last=False)[0] if self._pending else None
            try:
                self.flush()
                if actor is not None:
                    self.refresh(actor)
            except Exception:
                log.exception("recomputing or sharing a for-you list failed")

    # -- sharing the lists requests computed -------------------------------------------------
    def flush(self) -> int:
        """Publish the lists requests computed (on the calling thread); returns how many. A
        shopper erased meanwhile is not published, or is taken out again at once."""
        with self._wake:
            outbox, self._outbox = self._outbox, []
        if not outbox:
            return 0
        assert self.share is not None
        self.share.publish(outbox)
        self.published += len(outbox)
        with self._wake:  # an erasure between the swap and the write: its row goes too
            erased = [a.actor for a in outbox if a.actor in self._erased]
        if erased:
            self.share.drop(erased)
        return len(outbox)

    def begin(self, actor: str | None, key: tuple[Any, ...], category: str | None,
              exposure: Any) -> tuple[int, int, str] | None:
        """Taken before a request computes the list `key` names: what the list will reflect,
        when it is an actor's default list (no category, the API's default rules, no
        experiment: what a sibling adopts); None for any other list."""
        assert self.follower is not None
        if not actor or category is not None or exposure is not None or \
                key != surfaces.answer_key(self.shop, actor, None, Rules(), None)[0]:
            return None
        return (self.follower.event_seq, self.follower.changes.low,
                self.shop.models.version)

    def computed(self, actor: str, answer: dict[str, Any],
                 begun: tuple[int, int, str] | None) -> None:
        """A request computed (and cached) `actor`'s list from the state `begun` names: a
        default list is published for the siblings by this process's thread."""
        if begun is None:
            return
        event_seq, change_seq, models = begun
        if models != self.shop.models.version:
            return
        with self._wake:
            if len(self._outbox) < self.max_pending:
                self._outbox.append(SharedAnswer(0, actor, event_seq, change_seq, models,
                                                 self.rules_digest(), answer, self.origin))
            self._wake.notify()

    def drain(self) -> int:
        """Recompute what is pending now, on the calling thread; returns how many."""
        done = 0
        while True:
            with self._wake:
                if not self._pending:
                    return done
                actor, _ = self._pending.popitem(last=False)
            self.refresh(actor)
            done += 1

    def refresh(self, actor: str) -> dict[str, Any] | None:
        """Recompute `actor`'s default list (cached here) and publish it for siblings."""
        follower, models = self.follower, self.shop.models
        if models.recs is None:
            return None
        event_seq = follower.event_seq if follower is not None else 0
        change_seq = follower.changes.low if follower is not None else 0
        answer = surfaces.default_for_you(self.shop, actor)
        self.recomputed += 1
        if answer is None or self.share is None or self.shop.models is not models:
            return answer
        self.share.publish([SharedAnswer(0, actor, event_seq, change_seq, models.version,
                                         self.rules_digest(), answer, self.origin)])
        self.published += 1
        return answer

    def rules_digest(self) -> str:
        """The standing rules (rules file and merchandising) as one short digest."""
        base = surfaces.shop_rules(self.shop)
        if self._rules[0] is not base:
            self._rules = (base, hashlib.blake2b(base.model_dump_json().encode(),
                                                 digest_size=12).hexdigest())
        return self._rules[1]

    # -- adopting --------------------------------------------------------------------------
    def _adopt(self) -> None:
        assert self.share is not None and self.follower is not None
        fresh = self.share.after(self.read_seq)
        if fresh:
            self.read_seq = fresh[-1].seq
        rows = [r for r in self._held + fresh if r.origin != self.origin]
        now = time.time()
        self._held = []
        for row in rows:
            if row.event_seq > self.follower.event_seq:  # events we have not applied yet
                if now - row.at < KEEP_S:
                    self._held.append(row)
            elif self._adoptable(row) and surfaces.default_for_you(self.shop, row.actor,
                                                                   row.body) is not None:
                self.adopted += 1
            else:
                self.skipped += 1

    def _adoptable(self, row: SharedAnswer) -> bool:
        return (row.models == self.shop.models.version
                and row.change_seq == self.follower.changes.low
                and self._last_seq.get(row.actor, 0) <= row.event_seq
                and row.rules == self.rules_digest())

    def stats(self) -> dict[str, int]:
        with self._wake:
            pending = len(self._pending)
        return {"recomputed": self.recomputed, "published": self.published,
                "adopted": self.adopted, "not_adopted": self.skipped, "pending": pending}


def start_recomputing(shop: Shop, follower: Any = None) -> Recomputer | None:
    """The process's recomputer, started: recomputing after events with
    `serve.recompute_after_event`; else, with siblings (`follower`) and
    `serve.share_computed_lists`, sharing the lists requests computed. None otherwise."""
    serve = shop.settings.serve
    if serve.recompute_after_event:
        recomputer = Recomputer(shop, follower)
    elif serve.share_computed_lists and follower is not None:
        recomputer = Recomputer(shop, follower, recompute=False)
    else:
        return None
    recomputer.start()
    return recomputer
