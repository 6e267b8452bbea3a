"""The writer worker: one member of the consumer group that moves the event log into the
store and the shared online state. Run as many as the topic has partitions."""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

from shopsense.scale.eventlog import EventWorker, ensure_topic
from shopsense.scale.online import open_online_state
from shopsense.scale.settings import ScaleSettings
from shopsense.store import open_store


def run_writer(store_url: str, cfg: ScaleSettings, *, seconds: float = 0.0,
               stop: threading.Event | None = None) -> dict[str, Any]:
    """Consume until `stop` is set, SIGTERM, or `seconds` pass (0: no limit); returns stats."""
    if not cfg.kafka_url:
        raise ValueError("no event log configured (SHOPSENSE_SCALE_KAFKA_URL)")
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    ensure_topic(cfg.kafka_url, partitions=cfg.kafka_partitions)
    store = open_store(store_url)
    sinks = [open_online_state(cfg.redis_url, prefix=cfg.key_prefix).observe] \
        if cfg.redis_url else []
    worker = EventWorker(cfg.kafka_url, cfg.writer_group, store, sinks,
                         config=dict(cfg.consumer_config))
    deadline = time.monotonic() + seconds if seconds > 0 else float("inf")
    try:
        while not stop.is_set() and time.monotonic() < deadline:
            worker.run_once()
    finally:
        worker.close()
        store.close()
    return dict(worker.stats)
