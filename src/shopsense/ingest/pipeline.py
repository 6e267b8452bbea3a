"""Streaming ingestion of catalogue and event files into a store.

Rows are read one at a time, validated, and written in batches; each batch is one
transaction, so a killed process leaves whole batches and a rerun completes the file without
duplicates (catalogue rows upsert by item_id, events dedupe by event_id / content hash).
Bad rows are written to a rejects file (JSONL: file, line, field, reason) and never stored.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from shopsense.domain import Product
from shopsense.ids import Pseudonymizer
from shopsense.ingest.readers import RowReader
from shopsense.ingest.validate import RowInvalid, validate_event, validate_product
from shopsense.store.base import CatalogStore, EventStore

Kind = Literal["catalog", "events"]
PARALLEL_MIN_BYTES = 4 * 2**20  # files this large are read and validated in a second process
Progress = Callable[[int, int], None]  # called with (bytes read, total bytes) of the file


@dataclass(frozen=True, slots=True)
class IngestReport:
    accepted: int
    rejected: int
    duplicates: int
    rejects_file: str | None
    rows: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Rejects:
    """Lazily-created JSONL file of rejected rows (ids are never echoed back)."""

    def __init__(self, path: Path, source: Path, limit: int) -> None:
        self.path, self.source, self.limit = path, source, limit
        self.count = 0
        self._fh: Any = None

    def add(self, line: int, error: RowInvalid) -> None:
        self.count += 1
        if self.count > self.limit:
            return
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.path.open("w", encoding="utf-8")
        for e in error.errors:
            self._fh.write(json.dumps({"file": str(self.source), "line": line, "field": e.field,
                                       "reason": e.reason}, ensure_ascii=False) + "\n")

    def close(self) -> str | None:
        if self._fh is not None:
            self._fh.close()
            return str(self.path)
        return None


def ingest_file(
    path: Path,
    kind: Kind,
    *,
    catalog: CatalogStore | None = None,
    events: EventStore | None = None,
    pseudonyms: Pseudonymizer | None = None,
    rejects_dir: Path,
    batch_size: int = 5000,
    max_rejects_logged: int = 1_000_000,
    progress: Progress | None = None,
) -> IngestReport:
    """Validate and store every row of `path`; see the module docstring for guarantees."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if kind == "catalog" and catalog is None:
        raise ValueError("catalog ingest needs a CatalogStore")
    if kind == "events" and (events is None or pseudonyms is None):
        raise ValueError("event ingest needs an EventStore and a Pseudonymizer")
    stamp = time.strftime("%Y%m%dT%H%M%S")
    rejects = _Rejects(rejects_dir / f"{path.name}.{stamp}.rejects.jsonl", path,
                       max_rejects_logged)
    start = time.perf_counter()
    reader = RowReader(path)
    target = catalog if kind == "catalog" else events
    bulk = getattr(target, "bulk_writes", None)
    with bulk() if bulk is not None else contextlib.nullcontext():
        if kind == "events" and path.stat().st_size >= PARALLEL_MIN_BYTES and _can_fork():
            from shopsense.ingest.parallel import ingest_events_parallel

            return IngestReport(**ingest_events_parallel(
                path, events, pseudonyms.secret_chain, rejects,  # type: ignore[union-attr]
                batch_size, progress, start))
        return _ingest_rows(reader, kind, catalog, events, pseudonyms, rejects, batch_size,
                            progress, start)


def _ingest_rows(reader: RowReader, kind: Kind, catalog: CatalogStore | None,
                 events: EventStore | None, pseudonyms: Pseudonymizer | None, rejects: _Rejects,
                 batch_size: int, progress: Progress | None, start: float) -> IngestReport:
    accepted = duplicates = rows = 0
    batch: list[Any] = []
    since_progress = 0

    def flush() -> None:
        nonlocal accepted, duplicates
        if not batch:
            return
        if kind == "catalog":
            written, same = catalog.upsert_products(_last_wins(batch))  # type: ignore[union-attr]
            same += len(batch) - len(_last_wins(batch))
        else:
            written, same = events.add_events(batch)  # type: ignore[union-attr]
        accepted += written
        duplicates += same
        batch.clear()

    try:
        for line, row in reader:
            rows += 1
            since_progress += 1
            try:
                obj = (validate_product(row) if kind == "catalog"
                       else validate_event(row, pseudonyms))  # type: ignore[arg-type]
            except RowInvalid as exc:
                rejects.add(line, exc)
            else:
                batch.append(obj)
                if len(batch) >= batch_size:
                    flush()
            if progress is not None and since_progress >= 10_000:
                progress(reader.bytes_read, reader.total_bytes)
                since_progress = 0
        flush()
    finally:
        rejects_file = rejects.close()
    if progress is not None:
        progress(reader.total_bytes, reader.total_bytes)
    return IngestReport(accepted=accepted, rejected=rejects.count, duplicates=duplicates,
                        rejects_file=rejects_file, rows=rows,
                        seconds=round(time.perf_counter() - start, 3))


def _can_fork() -> bool:
    import multiprocessing as mp
    import os

    return "fork" in mp.get_all_start_methods() and os.environ.get("SHOPSENSE_INGEST_PROCESSES",
                                                                    "2") != "1"


def _last_wins(products: list[Product]) -> list[Product]:
    """Within one batch, a repeated item_id keeps its last row (file order = update order)."""
    latest: dict[str, Product] = {}
    for p in products:
        latest[p.item_id] = p
    return list(latest.values()) if len(latest) != len(products) else products
