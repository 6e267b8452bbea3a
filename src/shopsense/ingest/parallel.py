"""Two-process ingestion: a forked reader validates rows (parsing, pseudonymising) while the
parent writes batches to the store, so both cores work on a large file.

The reader sends whole validated batches through a bounded queue (memory stays flat) and
writes the rejects file itself; the parent commits each batch as one transaction, exactly as
the single-process path does, so the crash and idempotency guarantees are unchanged.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from pathlib import Path
from typing import Any

from shopsense.domain import Event
from shopsense.ids import Pseudonymizer
from shopsense.ingest.readers import RowReader
from shopsense.ingest.validate import RowInvalid, validate_event_fields

_DONE = "done"


def _produce(path: str, secret: tuple[bytes, ...], rejects: Any, batch_size: int,
             queue: Any) -> None:
    ids = Pseudonymizer(secret)
    reader = RowReader(path)
    batch: list[Any] = []
    rows = 0
    try:
        for line, row in reader:
            rows += 1
            try:
                batch.append(validate_event_fields(row, ids))  # a tuple: cheap to pickle
            except RowInvalid as exc:
                rejects.add(line, exc)
            if len(batch) >= batch_size:
                queue.put(("batch", batch, reader.bytes_read, reader.total_bytes))
                batch = []
        if batch:
            queue.put(("batch", batch, reader.total_bytes, reader.total_bytes))
        queue.put((_DONE, rows, rejects.count, rejects.close()))
    except BaseException as exc:  # report, never leave the parent waiting
        queue.put(("error", repr(exc), 0, 0))
        raise


def ingest_events_parallel(path: Path, store: Any, secret: tuple[bytes, ...], rejects: Any,
                           batch_size: int, progress: Any, start: float) -> dict[str, Any]:
    """Returns the report fields (accepted, rejected, duplicates, rejects_file, rows, seconds)."""
    context = mp.get_context("fork")
    queue = context.Queue(maxsize=4)
    reader = context.Process(target=_produce, args=(str(path), secret, rejects, batch_size,
                                                    queue), daemon=True)
    reader.start()
    accepted = duplicates = 0
    add_rows = getattr(store, "add_event_rows", None)  # stores that take tuples skip Event()
    try:
        while True:
            kind, *payload = queue.get()
            if kind == "batch":
                batch, done_bytes, total = payload
                written, same = (add_rows(batch) if add_rows is not None
                                 else store.add_events([Event(*row) for row in batch]))
                accepted += written
                duplicates += same
                if progress is not None:
                    progress(done_bytes, total)
            elif kind == _DONE:
                rows, rejected, rejects_file = payload
                break
            else:
                raise RuntimeError(f"{path}: reader failed: {payload[0]}")
    finally:
        reader.join(timeout=30)
        if reader.is_alive():
            reader.terminate()
    return {"accepted": accepted, "rejected": rejected, "duplicates": duplicates,
            "rejects_file": rejects_file, "rows": rows,
            "seconds": round(time.perf_counter() - start, 3)}
