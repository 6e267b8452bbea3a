"""Streaming row readers: which rows does a CSV / TSV / JSONL / Parquet file (maybe .gz / .zst) hold?

`iter_rows(path)` yields `(line_number, row_dict)` one row at a time, so memory stays flat on
files of any length. Line numbers are what a person opening the file would see:

- CSV / TSV: the physical line on which the record starts (the header is line 1; a quoted
  field with embedded newlines makes the next record start further down).
- JSONL / NDJSON: the physical line. A line that is not a JSON object is not raised; it is
  yielded as `(line, {"__error__": "invalid JSON: ..."})` so the caller can report it.
- Parquet: row number + 1 (the first row is line 1).

A CSV record whose field count differs from the header is yielded as an `__error__` row too,
so that a row either lands whole or is reported with its line, never half.

`RowReader` is the same stream with a progress position: `.bytes_read` of `.total_bytes`
(bytes of the file on disk, compressed bytes for .gz / .zst), so a progress bar can follow.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import orjson

ERROR_KEY = "__error__"
TEXT_FORMATS = ("csv", "tsv", "jsonl")
FORMATS = (*TEXT_FORMATS, "parquet")
_FORMAT_SUFFIXES: dict[str, str] = {
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv",
    ".jsonl": "jsonl", ".ndjson": "jsonl",
    ".parquet": "parquet", ".pq": "parquet",
}
_COMPRESSION_SUFFIXES: dict[str, str] = {
    ".gz": "gzip", ".gzip": "gzip", ".zst": "zstd", ".zstd": "zstd",
}
_BOM = b"\xef\xbb\xbf"
_CSV_FIELD_LIMIT = 64 * 1024 * 1024
_PARQUET_BATCH_ROWS = 16_384


class UnsupportedFormatError(ValueError):
    """The file's extension names no format this module reads."""


def detect_format(path: Path | str) -> tuple[str, str | None]:
    """`'a/events.csv.gz'` -> `('csv', 'gzip')`; raises `UnsupportedFormatError` naming the file."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    compression = None
    if suffixes and suffixes[-1] in _COMPRESSION_SUFFIXES:
        compression = _COMPRESSION_SUFFIXES[suffixes.pop()]
    fmt = _FORMAT_SUFFIXES.get(suffixes[-1]) if suffixes else None
    if fmt is None:
        known = ", ".join(sorted(_FORMAT_SUFFIXES))
        raise UnsupportedFormatError(
            f"{path}: unknown file type; expected one of {known}, optionally + .gz or .zst")
    return fmt, compression


def open_binary(path: Path | str, compression: str | None) -> tuple[IO[bytes], IO[bytes]]:
    """Open `path` for streaming reads: (decompressed stream, raw file whose tell() is progress)."""
    raw = open(path, "rb")
    try:
        if compression == "gzip":
            return gzip.GzipFile(fileobj=raw, mode="rb"), raw
        if compression == "zstd":
            import zstandard

            stream = zstandard.ZstdDecompressor().stream_reader(raw, read_size=1 << 18)
            return io.BufferedReader(stream, buffer_size=1 << 18), raw  # type: ignore[arg-type]
        return raw, raw
    except BaseException:
        raw.close()
        raise


class RowReader:
    """An iterable of `(line_number, row)` over one file, with progress in bytes.

    Use as a context manager (or iterate to the end) so the file is closed:

        with RowReader(path) as rows:
            for line, row in rows:
                bar.update(rows.bytes_read)
    """

    def __init__(self, path: Path | str, *, format: str | None = None,
                 delimiter: str | None = None, fieldnames: Sequence[str] | None = None,
                 encoding: str = "utf-8-sig") -> None:
        self.path = Path(path)
        fmt, compression = detect_format(self.path) if format is None else (
            format, _compression_of(self.path))
        if fmt not in FORMATS:
            raise UnsupportedFormatError(f"{self.path}: unknown format {fmt!r}; one of {FORMATS}")
        self.format = fmt
        self.compression = compression
        self.delimiter = delimiter if delimiter is not None else ("\t" if fmt == "tsv" else ",")
        self.fieldnames = list(fieldnames) if fieldnames is not None else None
        self.encoding = encoding
        self.total_bytes = os.path.getsize(self.path)
        self._raw: IO[bytes] | None = None
        self._stream: IO[bytes] | None = None
        self._done = False
        self._parquet_fraction = 0.0

    @property
    def bytes_read(self) -> int:
        """Bytes of the on-disk file consumed so far (compressed bytes for .gz / .zst)."""
        if self._done:
            return self.total_bytes
        if self.format == "parquet":
            return int(self._parquet_fraction * self.total_bytes)
        raw = self._raw
        if raw is None or raw.closed:
            return 0
        return min(raw.tell(), self.total_bytes)

    def __enter__(self) -> RowReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for f in (self._stream, self._raw):
            if f is not None and not f.closed:
                f.close()

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any]]]:
        if self.format == "parquet":
            rows = self._iter_parquet()
        else:
            self._stream, self._raw = open_binary(self.path, self.compression)
            rows = (_jsonl_records(self._stream) if self.format == "jsonl"
                    else self._iter_csv(self._stream))
        try:
            yield from rows
            self._done = True
        finally:
            self.close()

    def _iter_csv(self, stream: IO[bytes]) -> Iterator[tuple[int, dict[str, Any]]]:
        if csv.field_size_limit() < _CSV_FIELD_LIMIT:
            csv.field_size_limit(_CSV_FIELD_LIMIT)
        text = io.TextIOWrapper(stream, encoding=self.encoding, newline="")
        reader = csv.reader(text, delimiter=self.delimiter)
        header = self.fieldnames
        try:
            if header is None:
                header = _read_header(reader)
                if header is None:
                    return
            repeated = sorted({n for n in header if n and header.count(n) > 1})
            if repeated:
                raise ValueError(f"{self.path}: column(s) {', '.join(repeated)} appear more "
                                 "than once in the header")
            yield from _csv_records(reader, header)
        except UnicodeDecodeError as exc:
            raise ValueError(f"{self.path}: not valid {self.encoding} text after line "
                             f"{reader.line_num}: {exc.reason}") from exc

    def _iter_parquet(self) -> Iterator[tuple[int, dict[str, Any]]]:
        import pyarrow.parquet as pq

        with _seekable_copy(self.path, self.compression) as local:
            pf = pq.ParquetFile(local)
            total = max(pf.metadata.num_rows, 1)
            # pandas stores its index as a column; it is bookkeeping, not data.
            columns = [n for n in pf.schema_arrow.names if not n.startswith("__index_level_")]
            line_no = 0
            for batch in pf.iter_batches(batch_size=_PARQUET_BATCH_ROWS, columns=columns,
                                          use_threads=False):
                for row in batch.to_pylist():
                    line_no += 1
                    yield line_no, row
                self._parquet_fraction = line_no / total


def _jsonl_records(stream: IO[bytes]) -> Iterator[tuple[int, dict[str, Any]]]:
    """One JSON object per physical line; anything else comes back as an `__error__` row."""
    loads = orjson.loads
    for line_no, line in enumerate(stream, start=1):
        if line_no == 1 and line.startswith(_BOM):
            line = line[len(_BOM):]
        if not line.strip():
            continue
        try:
            row = loads(line)
        except orjson.JSONDecodeError as exc:
            yield line_no, {ERROR_KEY: f"invalid JSON: {exc}"}
            continue
        if not isinstance(row, dict):
            yield line_no, {ERROR_KEY: f"invalid JSON: expected an object, got "
                                       f"{type(row).__name__}"}
            continue
        yield line_no, row


def _read_header(reader: Any) -> list[str] | None:
    for record in reader:
        if record:
            return [name.strip() for name in record]
    return None


def _csv_records(reader: Any, header: list[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Zip each record with the header; blank lines are skipped, ragged records reported."""
    width = len(header)
    start = reader.line_num + 1
    while True:
        try:
            for record in reader:
                if len(record) == width:
                    yield start, dict(zip(header, record, strict=False))  # width checked
                elif record:
                    yield start, {ERROR_KEY: f"expected {width} fields (header), "
                                             f"got {len(record)}"}
                start = reader.line_num + 1
            return
        except csv.Error as exc:
            yield start, {ERROR_KEY: f"malformed CSV: {exc}"}
            start = reader.line_num + 1


def _compression_of(path: Path) -> str | None:
    suffix = path.suffix.lower()
    return _COMPRESSION_SUFFIXES.get(suffix)


@contextmanager
def _seekable_copy(path: Path, compression: str | None) -> Iterator[str]:
    """Parquet needs random access: the path itself, or a temp copy decompressed to disk."""
    if compression is None:
        yield str(path)
        return
    fd, tmp = tempfile.mkstemp(suffix=".parquet")
    try:
        stream, raw = open_binary(path, compression)
        with os.fdopen(fd, "wb") as out, raw, stream:
            shutil.copyfileobj(stream, out, length=1 << 20)
        yield tmp
    finally:
        os.unlink(tmp)


def iter_rows(path: Path | str, *, format: str | None = None, delimiter: str | None = None,
              fieldnames: Sequence[str] | None = None,
              encoding: str = "utf-8-sig") -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield `(line_number, raw row dict)` from one file, streaming; format from the extension.

    `format` overrides the extension ("csv", "tsv", "jsonl", "parquet"); `delimiter` overrides
    the CSV separator; `fieldnames` reads a header-less CSV/TSV; `encoding` applies to CSV/TSV
    (JSONL is always UTF-8; a leading BOM is dropped in both).
    """
    return iter(RowReader(path, format=format, delimiter=delimiter, fieldnames=fieldnames,
                          encoding=encoding))


def open_text(path: Path | str, encoding: str = "utf-8-sig") -> IO[str]:
    """Open a maybe-compressed text file (by its last suffix) for line-by-line reading."""
    compression = _compression_of(Path(path))
    if compression == "gzip":
        return gzip.open(path, "rt", encoding=encoding, newline="")
    if compression == "zstd":
        import zstandard

        return zstandard.open(path, "rt", encoding=encoding, newline="")  # type: ignore[no-any-return]
    return open(path, encoding=encoding, newline="")
