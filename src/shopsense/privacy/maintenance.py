"""Privacy upkeep of a serving process, on its own schedule in every serving mode (`serve`,
`serve --no-train`, each worker of `serve --workers N`, replicas):

- retention (`run_retention`), every `privacy.retention_interval_s`: events, shopper-table
  rows (web impressions) and zero-result log lines older than `privacy.retention_days`; saved
  recommendation versions older than `privacy.model_retention_days` (never the current one);
  erasure notices of the change feed older than `store.feed.FORGET_NOTICE_S`; then a WAL
  checkpoint. The schedule lives in the store (`store.retention.claim`), so N processes on
  one store run it once per interval between them. Its last run shows on /readyz and in
  /v1/admin/models.
- a full VACUUM every `privacy.vacuum_interval_s` (space only: deleted rows are zeroed when
  deleted, so no erasure waits for it);
- erasures by another process (the CLI, a sibling): a process with no `StoreFollower` polls the
  change feed for `forget` notices and drops what it holds in memory within `poll_s`.
"""

from __future__ import annotations

import time
from typing import Any

from shopsense.pipeline.background import BackgroundLoop
from shopsense.privacy.models import prune_versions
from shopsense.store import feed
from shopsense.store import retention as schedule

RETENTION, VACUUM = "retention", "vacuum"
SCHEDULE_CHECK_S = 30.0


def run_retention(shop: Any, *, now: float | None = None) -> dict[str, Any]:
    """One retention pass over the shop's home; returns what it removed."""
    privacy = shop.settings.privacy
    now = time.time() if now is None else now
    removed: dict[str, Any] = {"events": 0, "rows": {}, "zero_result_queries": 0,
                               "model_versions": [], "notices": 0}
    if privacy.retention_days > 0:
        cutoff = now - privacy.retention_days * 86400.0
        removed["events"] = int(shop.store.purge_events_before(cutoff))
        removed["rows"] = schedule.purge_user_rows_before(shop.store, cutoff)
        zero_log = getattr(shop.models.search, "zero_result_log", None)
        if zero_log is not None:
            removed["zero_result_queries"] = zero_log.purge_before(cutoff)
        else:
            from shopsense.privacy.querylog import ZeroResultLog

            path = shop.settings.home / "logs" / "zero_results.jsonl"
            if path.is_file():
                removed["zero_result_queries"] = ZeroResultLog(
                    path, privacy.zero_result_min_shoppers).purge_before(cutoff)
    removed["model_versions"] = prune_versions(shop.settings.home, privacy.model_retention_days,
                                               now=now)
    feed.ensure_feed(shop.store)
    removed["notices"] = feed.purge(shop.store, "forget", feed.FORGET_NOTICE_S)
    if removed["events"] or any(removed["rows"].values()):
        shop.drop_profiles()  # built from (and holding) the purged events
        shop.invalidate_all()
    shop.store.checkpoint()
    if removed["events"] or any(removed["rows"].values()) or removed["model_versions"]:
        shop.store.audit("scheduler", "retention_purge",
                         {"days": privacy.retention_days, **removed})
    return removed


def retention_status(store: Any) -> dict[str, Any] | None:
    """The last retention run as /readyz and the dashboard show it."""
    return schedule.last_run(store, RETENTION)


class PrivacyMaintenance:
    """The background thread of one serving process (see the module docstring)."""

    def __init__(self, shop: Any, *, follow_erasures: bool = True, poll_s: float = 1.0) -> None:
        self.shop, self.follow_erasures, self.poll_s = shop, follow_erasures, poll_s
        self.status: dict[str, Any] = {"state": "starting", "last_error": None}
        feed.ensure_feed(shop.store)
        self.changes = feed.ChangeCursor(shop.store, feed.last_change(shop.store))
        self._next_schedule_check = 0.0  # monotonic; the schedule is read at most every 30 s
        self._loop = BackgroundLoop("shopsense-privacy", self._tick, error_wait_s=poll_s,
                                    on_error=self._failed)

    def start(self) -> PrivacyMaintenance:
        self._loop.start()
        return self

    def stop(self) -> None:
        self._loop.stop()

    def _tick(self) -> float:
        self.step()
        self.status.update(state="running", last_error=None)
        return self.poll_s

    def _failed(self, exc: Exception) -> None:  # keep serving; report on /readyz
        self.status.update(state="failed", last_error=repr(exc)[:500])

    def step(self, *, now: float | None = None) -> None:
        if self.follow_erasures:
            self.follow()
        if now is None and time.monotonic() < self._next_schedule_check:
            return
        self._next_schedule_check = time.monotonic() + SCHEDULE_CHECK_S
        privacy, store = self.shop.settings.privacy, self.shop.store
        if schedule.claim(store, RETENTION, privacy.retention_interval_s, now=now):
            started = time.perf_counter()
            removed = run_retention(self.shop, now=now)
            schedule.record(store, RETENTION, {"removed": removed, "seconds": round(
                time.perf_counter() - started, 3), "retention_days": privacy.retention_days})
        if schedule.claim(store, VACUUM, privacy.vacuum_interval_s, now=now, first_due=False):
            started = time.perf_counter()
            store.vacuum()
            schedule.record(store, VACUUM, {"seconds": round(time.perf_counter() - started, 3)})

    def follow(self) -> int:
        """Apply `forget` notices published since the last poll by other processes."""
        applied = 0
        for seq, kind, detail in self.changes.pending():
            if seq in self.shop.own_changes:
                self.shop.own_changes.discard(seq)
            elif kind == "forget":
                self.shop.forget_notice(detail)
                applied += 1
            self.changes.mark(seq)
        self.changes.advance()
        return applied
