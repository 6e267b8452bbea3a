"""`Shop`: the facade over one data home that every transport (HTTP, CLI) calls.

It owns the store, the pseudonymiser, an in-memory catalogue, the current set of trained
models (swapped atomically by `swap_models`) and the online state that makes an accepted
event or product change visible to the next request.
"""

from __future__ import annotations

import gc
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cachetools import LRUCache

from shopsense.config import Settings
from shopsense.domain import Event, Product, UserProfile
from shopsense.features.profile import build_profile
from shopsense.ids import Pseudonymizer, ensure_secret
from shopsense.ingest.validate import RowInvalid, TimeBounds, validate_event, validate_product
from shopsense.memo import Memo
from shopsense.privacy.rekey import finish_pending_rekey
from shopsense.store import open_store
from shopsense.store.base import Store

UNDO_DISMISS_VALUE = -1.0  # a dismiss event with this value takes a dismissal back


class InputError(ValueError):
    """Bad input from a caller, naming the field (and batch index) that was wrong."""

    def __init__(self, field: str, reason: str, index: int | None = None) -> None:
        where = f"[{index}].{field}" if index is not None else field
        super().__init__(f"{where}: {reason}")
        self.field, self.reason, self.index = where, reason, index


@dataclass
class ModelSet:
    """The trained components serving now; replaced whole, never mutated in place."""

    version: str = "none"
    understander: Any = None
    search: Any = None
    recs: Any = None
    propensity: Any = None
    repurchase: Any = None  # learned per-category repurchase rates (consumable vs durable)
    trained_at: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)


def settle_heap(*, revisit: bool = True) -> None:
    """Collect what earlier models left (cycles included), then keep the survivors (catalogue
    and models: ~1.4M objects at 1M products) out of later cyclic-GC passes. Without this a
    collection that walks them is a 20-180 ms pause inside whichever request triggers it
    (benchmarks/README.md, 1M products); with it, one full collection per model swap.
    `revisit=False` leaves what is already frozen alone and settles only what came since
    (after cache warming: a pass over the new objects only)."""
    if revisit:
        gc.unfreeze()
    gc.collect()
    gc.freeze()


class Shop:
    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        self.settings = settings
        settings.home.mkdir(parents=True, exist_ok=True)
        self.store = store if store is not None else open_store(settings.store_url)
        finish_pending_rekey(settings.home, self.store)
        self.ids = Pseudonymizer(ensure_secret(settings.home))
        self.products: dict[str, Product] = {p.item_id: p for p in self.store.iter_products()}
        self.models = ModelSet()
        self._profiles: OrderedDict[str, UserProfile] = OrderedDict()
        # each cached actor's events by id (what a profile is rebuilt from after their next
        # event, without reading them back from the store); bounded by the events held
        self._events_of: LRUCache[str, dict[str, Event]] = LRUCache(
            settings.serve.profile_events_cached, getsizeof=len)
        self._lock = threading.RLock()
        # finished answers per actor (see surfaces.recommend); dropped with the actor's profile
        self.answers = Memo(settings.serve.answer_cache_size, settings.serve.answer_cache_ttl_s)
        # when each actor's state last changed: a profile or answer computed before that moment
        # is not cached (an event that lands mid-computation is never masked)
        self._changed: LRUCache[str, float] = LRUCache(200_000)
        self._changed_all = 0.0
        # with sibling processes on the same store (`serve --workers N`), catalogue edits and
        # erasures are published to the store's change feed, and accepted events reach the
        # models through `pipeline.follow.StoreFollower` (in seq order, like everyone's)
        self.siblings = False
        self.publish_changes = False  # catalogue edits / erasures only (scale-out replicas)
        self.own_changes: set[int] = set()
        self.listeners: list[Callable[[list[Event]], None]] = []
        # called with the events this process committed and the actors whose cached answers
        # they dropped (pipeline/recompute.py)
        self.committed: list[Callable[[list[Event], set[str]], None]] = []
        # told of each default for-you list a request computed (pipeline/recompute.py shares
        # them with sibling processes): `begin()` before computing, `computed(...)` after
        self.list_sharers: list[Any] = []
        # holders of shopper data in this process's memory: each is called with every erased
        # pseudonym (user and linked sessions), then each `erasure_done` hook once
        self.erasure_listeners: list[Callable[[str], None]] = []
        self.erasure_done: list[Callable[[], None]] = []

    # -- models ---------------------------------------------------------------------------
    def swap_models(self, models: ModelSet) -> None:
        """Atomically replace the serving models (one reference assignment), then settle
        the heap (`settle_heap`)."""
        self.models = models
        self.invalidate_all()
        settle_heap()

    # -- cached per-actor state ------------------------------------------------------------
    def invalidate(self, actors: Iterable[str | None]) -> set[str]:
        """These actors did something: drop their cached profile and answers. Returns the
        actors whose answers were cached (pipeline/recompute.py recomputes those)."""
        now, dropped = time.monotonic(), set()
        with self._lock:
            for actor in actors:
                if actor:
                    self._profiles.pop(actor, None)
                    if self.answers.get(actor, count=False) is not None:
                        dropped.add(actor)
                        self.answers.pop(actor)
                    self._changed[actor] = now
        return dropped

    def invalidate_all(self) -> None:
        """Models, catalogue or erasures changed: every cached answer goes."""
        with self._lock:
            self._changed_all = time.monotonic()
            self.answers.clear()

    def stamp(self) -> float:
        """Take before computing something cacheable; pass to `still_fresh` after."""
        return time.monotonic()

    def still_fresh(self, actor: str | None, since: float) -> bool:
        """Nothing this actor depends on changed after `since` (a `stamp()`)."""
        with self._lock:
            return self._changed_all < since and self._changed.get(actor or "", 0.0) < since

    # -- identities -----------------------------------------------------------------------
    def actor(self, user: str | None, session: str | None = None) -> str | None:
        if user:
            return self.ids.user(user)
        if session:
            return self.ids.session(session)
        return None

    def profile_of(self, actor: str | None) -> UserProfile | None:
        if not actor:
            return None
        with self._lock:
            cached = self._profiles.get(actor)
            if cached is not None:
                self._profiles.move_to_end(actor)
                return cached
        since = self.stamp()
        with self._lock:
            held = self._events_of.get(actor)
            events = list(held.values()) if held is not None else None
        if events is None:
            events = list(self.store.iter_events(actor=actor))
            with self._lock:  # not if an event of theirs landed meanwhile (see _note_events)
                if self._changed.get(actor, 0.0) < since and len(events) < self._events_of.maxsize:
                    self._events_of[actor] = {e.event_id: e for e in events}
        profile = build_profile(actor, _effective(events, actor), self.products, time.time(),
                                half_life_days=30.0)
        profile = _apply_undo(profile, events)
        with self._lock:
            if self._changed.get(actor, 0.0) >= since:  # an event landed meanwhile
                return profile
            self._profiles[actor] = profile
            while len(self._profiles) > 20_000:
                self._profiles.popitem(last=False)
        return profile

    # -- writes ---------------------------------------------------------------------------
    def record_events(self, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
        """Validate the whole batch first (nothing stored if any row is bad), then commit."""
        events = []
        ingest = self.settings.ingest
        bounds = TimeBounds(ingest.earliest_event_ts, ingest.max_future_skew_s)
        for index, row in enumerate(rows):
            try:
                events.append(validate_event(row, self.ids, bounds))
            except RowInvalid as exc:
                first = exc.errors[0]
                raise InputError(first.field, first.reason, index) from exc
        inserted, duplicates = self.store.add_events(events)
        self._observe(events)
        return {"accepted": inserted, "duplicates": duplicates}

    def _observe(self, events: list[Event]) -> None:
        if not self.siblings:  # else the follower hands them to the listeners
            for listener in list(self.listeners):
                listener(events)
        dropped = self.note_events(events)
        for hook in list(self.committed):  # events this process committed
            hook(events, dropped)

    def apply_followed(self, events: list[Event]) -> set[str]:
        """Events committed by any process on this store (the follower's feed); returns the
        actors whose cached answers they dropped."""
        for listener in list(self.listeners):
            listener(events)
        return self.note_events(events)

    def note_events(self, events: Sequence[Event]) -> set[str]:
        """Committed events: their actors' cached profiles and answers go, and the events
        join the actors' held event lists (by id: a repeat is harmless). Invalidation comes
        first, so a list read from the store meanwhile is never kept without them. Returns
        the actors whose cached answers went."""
        dropped = self.invalidate(key for e in events for key in (e.user_id, e.session_id))
        with self._lock:
            for e in events:
                for key in {e.user_id, e.session_id} - {None}:
                    held = self._events_of.pop(key, None)
                    if held is not None:
                        held.setdefault(e.event_id, e)  # the stored one is the first
                        if len(held) < self._events_of.maxsize:
                            self._events_of[key] = held  # re-sized, most recent
        return dropped

    def drop_profiles(self) -> None:
        """Forget every cached profile and held event list (erasure, retention purge)."""
        with self._lock:
            self._profiles.clear()
            self._events_of.clear()

    def _publish(self, kind: str, detail: dict[str, Any]) -> None:
        if self.siblings or self.publish_changes:
            from shopsense.store.feed import publish

            self.own_changes.add(publish(self.store, kind, detail))

    def apply_catalog(self, upserted: Sequence[Product], deleted: Sequence[str]) -> None:
        """Catalogue edits made by a sibling process (already in the store)."""
        with self._lock:
            self.products.update({p.item_id: p for p in upserted})
            for item_id in deleted:
                self.products.pop(item_id, None)
        for component in (self.models.search, self.models.recs):
            if component is not None and upserted and hasattr(component, "upsert"):
                component.upsert(list(upserted))
            if component is not None and deleted and hasattr(component, "remove"):
                component.remove(list(deleted))
        self.invalidate_all()

    def forget_here(self, actors: Sequence[str]) -> None:
        """These pseudonyms were erased (here or by another process): drop what this process
        holds of them."""
        self.drop_profiles()
        self.invalidate_all()
        for listener in list(self.erasure_listeners):
            for key in actors:
                listener(key)
        for done in list(self.erasure_done):
            done()

    def feedback(self, user: str | None, session: str | None, item_id: str, action: str,
                 platform: str = "web") -> dict[str, Any]:
        if action not in ("dismiss", "undo"):
            raise InputError("action", "must be dismiss or undo")
        if item_id not in self.products:
            raise InputError("item_id", f"unknown item {item_id!r}")
        row = {"user_id": user, "session_id": session, "item_id": item_id,
               "event_type": "dismiss", "platform": platform, "timestamp": time.time(),
               "value": UNDO_DISMISS_VALUE if action == "undo" else None}
        result = self.record_events([row])
        return {"item_id": item_id, "action": action, **result}

    def upsert_items(self, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
        products = []
        for index, row in enumerate(rows):
            try:
                products.append(validate_product(row))
            except RowInvalid as exc:
                first = exc.errors[0]
                raise InputError(first.field, first.reason, index) from exc
        written, unchanged = self.store.upsert_products(products)
        with self._lock:
            self.products.update({p.item_id: p for p in products})
        for component in (self.models.search, self.models.recs):
            if component is not None and hasattr(component, "upsert"):
                component.upsert(products)
        self.invalidate_all()
        self._publish("catalog_upsert", {"items": [p.item_id for p in products]})
        return {"written": written, "unchanged": unchanged}

    def delete_items(self, item_ids: Iterable[str]) -> dict[str, int]:
        ids = list(item_ids)
        removed = self.store.delete_products(ids)
        with self._lock:
            for item_id in ids:
                self.products.pop(item_id, None)
        for component in (self.models.search, self.models.recs):
            if component is not None and hasattr(component, "remove"):
                component.remove(ids)
        self.invalidate_all()
        self._publish("catalog_delete", {"items": ids})
        return {"deleted": removed}

    def forget(self, user: str, *, actor: str) -> dict[str, Any]:
        """Erase a shopper everywhere (privacy.erasure: store rows, saved models, logs, a
        tombstone), then drop what this process holds: the profile cache and every online
        component listening (recommendation histories and session state, conversations,
        propensity frames). Other processes on the store hear of it through the change feed."""
        from shopsense.privacy.erasure import ErasureService

        subject, result, seq = ErasureService(self.settings, self.store).forget(user, actor=actor)
        self.own_changes.add(seq)
        self.forget_here(subject.actors)
        return result

    def forget_notice(self, detail: dict[str, Any]) -> None:
        """A `forget` notice from the change feed (an erasure by another process)."""
        from shopsense.privacy.erasure import open_notice

        self.forget_here(open_notice(self.ids, detail))

    def profile_summary(self, user: str) -> dict[str, Any]:
        profile = self.profile_of(self.ids.user(user))
        assert profile is not None
        top = lambda d: [{"name": k, "share": round(v, 4)}  # noqa: E731
                         for k, v in sorted(d.items(), key=lambda kv: -kv[1])[:5]]
        return {"top_categories": top(profile.category_affinity),
                "top_brands": top(profile.brand_affinity),
                "price_band": list(profile.price_band) if profile.price_band else None,
                "recent_items": list(profile.recent_items[:10]),
                "dismissed": sorted(profile.dismissed), "events": profile.n_events}


def _effective(events: list[Event], actor: str) -> list[Event]:
    """Events as the profile builder expects: keyed to `actor`, undo markers dropped."""
    out = []
    for e in events:
        if e.event_type == "dismiss" and e.value == UNDO_DISMISS_VALUE:
            continue
        if e.actor != actor:
            e = Event(e.event_id, e.event_type, e.timestamp, actor, e.session_id, e.item_id,
                      e.query, e.value, e.platform)
        out.append(e)
    return out


def _apply_undo(profile: UserProfile, events: list[Event]) -> UserProfile:
    """A later undo takes a dismissal back."""
    undone = {e.item_id: e.timestamp for e in events
              if e.event_type == "dismiss" and e.value == UNDO_DISMISS_VALUE and e.item_id}
    if not undone:
        return profile
    dismissed = {i: t for i, t in profile.dismissed.items() if undone.get(i, -1) < t}
    return UserProfile(profile.user_id, profile.category_affinity, profile.brand_affinity,
                       profile.price_band, profile.recent_items, dismissed, profile.purchased,
                       profile.n_events)
