"""Two-process ingestion: a forked reader validates rows (parsing, pseudonymising) while the
parent writes batches to the store, so both cores work on a large file.

The reader sends whole validated batches through a bounded queue (memory stays flat),
writes the rejects file itself, and exits if the parent is killed; the parent commits each
batch as one transaction, exactly as the single-process path does, so the crash and
idempotency guarantees are unchanged.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from pathlib import Path
from queue import Full
from typing import Any

from shopsense.domain import Event
from shopsense.ids import Pseudonymizer
from shopsense.ingest.readers import RowReader
from shopsense.ingest.validate import RowInvalid, validate_event_fields
from shopsense.store.base import Store

_DONE = "done"
_PARENT_CHECK_S = 1.0  # a reader blocked on a full queue checks this often for its writer


class _WriterGone(Exception):
    """The writing parent died (kill -9): the reader stops instead of blocking forever."""


def _send(queue: Any, item: tuple[Any, ...], writer_pid: int) -> None:
    while True:
        try:
            queue.put(item, timeout=_PARENT_CHECK_S)
            return
        except Full:
            if os.getppid() != writer_pid:  # re-parented: nobody will read the queue
                queue.cancel_join_thread()
                raise _WriterGone from None


def _produce(path: str, secret: tuple[bytes, ...], rejects: Any, batch_size: int,
             queue: Any, writer_pid: int) -> None:
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
                _send(queue, ("batch", batch, reader.bytes_read, reader.total_bytes), writer_pid)
                batch = []
        if batch:
            _send(queue, ("batch", batch, reader.total_bytes, reader.total_bytes), writer_pid)
        _send(queue, (_DONE, rows, rejects.count, rejects.close()), writer_pid)
    except _WriterGone:
        rejects.close()  # the rerun that completes the file writes its own rejects
    except BaseException as exc:  # report, never leave the parent waiting
        _send(queue, ("error", repr(exc), 0, 0), writer_pid)
        raise


def ingest_events_parallel(path: Path, store: Store, secret: tuple[bytes, ...], rejects: Any,
                           batch_size: int, progress: Any, start: float) -> dict[str, Any]:
    """Returns the report fields (accepted, rejected, duplicates, rejects_file, rows, seconds)."""
    context = mp.get_context("fork")
    queue = context.Queue(maxsize=4)
    reader = context.Process(target=_produce, args=(str(path), secret, rejects, batch_size,
                                                    queue, os.getpid()), daemon=True)
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
