"""Prometheus metrics of one app instance (its own registry, no globals)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("shopsense_requests_total", "HTTP requests",
                                ["route", "method", "status"], registry=self.registry)
        self.latency = Histogram("shopsense_request_seconds", "HTTP request latency",
                                 ["route", "method"], buckets=BUCKETS, registry=self.registry)
        self.events = Counter("shopsense_events_ingested_total", "Events stored",
                              ["source"], registry=self.registry)
        self.model_version = Gauge("shopsense_model_info", "Loaded model versions (value 1)",
                                   ["component", "version"], registry=self.registry)
        self.cache = Gauge("shopsense_cache", "Serving caches: entries, hits, misses (this "
                           "worker process)", ["cache", "stat"], registry=self.registry)

    def observe_caches(self, caches: dict[str, dict[str, int]]) -> None:
        for name, stats in caches.items():
            for stat, value in stats.items():
                self.cache.labels(name, stat).set(value)

    def render(self) -> bytes:
        return generate_latest(self.registry)
