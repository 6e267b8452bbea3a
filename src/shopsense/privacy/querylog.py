"""The zero-result query log, k-anonymous: a query that found nothing is written to
<home>/logs/zero_results.jsonl only once at least `min_shoppers` distinct shoppers searched it.

Until then it is pending in memory, with one-way tokens of the shoppers who searched it (never
their pseudonyms), so an erasure can take a shopper's contribution back (`forget`). A query
one shopper typed (an e-mail address, a name) is therefore never written. A search without a
shopper (no user or session) counts for nobody. The file holds the query and when it passed the
threshold, nothing about who searched it; retention drops lines older than the retention
(`purge_before`). Pending counts are per process and start empty after a restart: that can only
delay a query's release, never release one early.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

from shopsense.store.sqlite import erasure_token

DEFAULT_MIN_SHOPPERS = 10
MAX_PENDING = 50_000  # distinct pending queries kept (least recently searched go first)


def normalise(query: str) -> str:
    return " ".join(query.lower().split())


class ZeroResultLog:
    def __init__(self, path: Path, min_shoppers: int = DEFAULT_MIN_SHOPPERS,
                 max_pending: int = MAX_PENDING) -> None:
        if min_shoppers < 1:
            raise ValueError(f"min_shoppers must be >= 1, got {min_shoppers}")
        self.path, self.min_shoppers, self.max_pending = Path(path), min_shoppers, max_pending
        self._pending: OrderedDict[str, set[str]] = OrderedDict()
        self._lock = threading.Lock()
        self.released = {normalise(e["query"]) for e in self._keep_thresholded()}

    def _keep_thresholded(self) -> list[dict[str, Any]]:
        """Lines written before the threshold existed (verbatim queries) or under a lower one
        are removed from the file; returns the lines kept."""
        entries = self.entries()
        kept = [e for e in entries if int(e.get("min_shoppers", 0)) >= self.min_shoppers]
        if len(kept) < len(entries) or (self.path.is_file() and not entries):
            self._rewrite(kept)
        return kept

    def _rewrite(self, entries: list[dict[str, Any]]) -> None:
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries),
                       encoding="utf-8")
        os.replace(tmp, self.path)

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.is_file():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and isinstance(entry.get("query"), str):
                out.append(entry)
        return out

    def record(self, query: str, actor: str | None) -> dict[str, Any] | None:
        """Count one zero-result search by `actor`; returns the entry written when this
        search made the query pass the threshold."""
        text = normalise(query)
        if not text or not actor:
            return None
        with self._lock:
            if text in self.released:
                return None
            tokens = self._pending.pop(text, set())
            tokens.add(erasure_token(actor))
            if len(tokens) < self.min_shoppers:
                self._pending[text] = tokens
                while len(self._pending) > self.max_pending:
                    self._pending.popitem(last=False)
                return None
            self.released.add(text)
        entry = {"query": text, "timestamp": time.time(), "min_shoppers": self.min_shoppers}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
        return entry

    def pending(self, query: str) -> int:
        """How many distinct shoppers searched `query` without it being released yet."""
        with self._lock:
            return len(self._pending.get(normalise(query), ()))

    def forget(self, actor: str) -> int:
        """An erased shopper's pending contributions go; returns how many queries lost one."""
        token = erasure_token(actor)
        with self._lock:
            hit = [q for q, tokens in self._pending.items() if token in tokens]
            for q in hit:
                self._pending[q].discard(token)
        return len(hit)

    def purge_before(self, timestamp: float) -> int:
        """Retention: drop released lines older than `timestamp`; returns how many."""
        if not self.path.is_file():
            return 0
        entries = self.entries()
        kept = [e for e in entries if float(e.get("timestamp", 0.0)) >= timestamp]
        if len(kept) == len(entries):
            return 0
        self._rewrite(kept)
        with self._lock:
            self.released = {normalise(e["query"]) for e in kept}
        return len(entries) - len(kept)
