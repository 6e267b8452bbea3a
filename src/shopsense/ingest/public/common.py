"""Shared plumbing for the public-data converters: the layout registry entry, JSONL writing,
and small value helpers (HTML to text, dates to unix seconds, number parsing)."""

from __future__ import annotations

import gzip
import html
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import orjson

Row = dict[str, Any]
# Output kinds a converter may produce; each is written to <kind>.jsonl.
OUTPUT_KINDS: tuple[str, ...] = ("products", "events", "judgments", "queries")


@dataclass(frozen=True, slots=True)
class ConvertOptions:
    """Optional inputs some layouts take; `None` means "look next to SRC, or do without"."""

    titles: Path | None = None  # amazon-5core: items_with_titles CSV (item_id, asin, title)
    products: Path | None = None  # an explicit products file where a layout has one
    queries: Path | None = None  # wands: query.csv when it is not next to label.csv
    split: str | None = None  # esci: keep only this split; multi-cpr: train | dev (default dev)
    locale: str | None = None  # esci: keep only this product_locale ("us", "es", "jp")
    id_prefix: str = ""  # prepended to every id, so several data sets can share one store


@dataclass(frozen=True, slots=True)
class Layout:
    """One public data layout: a name for the CLI and how SRC becomes row iterators by kind."""

    name: str
    description: str
    outputs: Callable[[Path, ConvertOptions], dict[str, Iterator[Row]]]


ID_FIELDS: tuple[str, ...] = ("item_id", "user_id", "session_id", "event_id", "query_id")


def with_id_prefix(rows: Iterable[Row], prefix: str) -> Iterator[Row]:
    """The same rows with `prefix` prepended to each id field present (a namespace)."""
    for row in rows:
        for name in ID_FIELDS:
            value = row.get(name)
            if value not in (None, ""):
                row[name] = f"{prefix}{value}"
        yield row


def write_jsonl(rows: Iterable[Row], path: Path | str) -> int:
    """Write rows as JSON lines (UTF-8, .gz / .zst by suffix), atomically; returns the count."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    dumps = orjson.dumps
    count = 0
    try:
        with _open_out(tmp, path.suffix.lower()) as out:
            buf: list[bytes] = []
            for row in rows:
                buf.append(dumps(row))
                count += 1
                if len(buf) >= 4096:
                    out.write(b"\n".join(buf) + b"\n")
                    buf.clear()
            if buf:
                out.write(b"\n".join(buf) + b"\n")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return count


def _open_out(path: Path, suffix: str) -> IO[bytes]:
    if suffix in (".gz", ".gzip"):
        return gzip.open(path, "wb", compresslevel=6)  # type: ignore[return-value]
    if suffix in (".zst", ".zstd"):
        import zstandard

        return zstandard.open(path, "wb")  # type: ignore[no-any-return]
    return open(path, "wb")


_TAG = re.compile(r"<[^>]+>")
_BREAK = re.compile(r"<\s*(br|/p|/li|/div)\s*/?\s*>", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def html_to_text(value: str | None) -> str:
    """`'<b>Features</b><br> ●Fast &amp; quiet'` -> `'Features\\n●Fast & quiet'`."""
    if not value:
        return ""
    text = _BREAK.sub("\n", value)
    text = html.unescape(_TAG.sub(" ", text))
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n", "\n".join(line for line in lines if line)).strip()


def date_to_unix(day: str, fmt: str = "%Y-%m-%d") -> int | None:
    """Midnight UTC of a calendar date as unix seconds; None for empty or unparsable input."""
    if not day or not day.strip():
        return None
    try:
        parsed = datetime.strptime(day.strip(), fmt).date()
    except ValueError:
        return None
    return int(datetime(parsed.year, parsed.month, parsed.day, tzinfo=UTC).timestamp())


def to_number(value: Any) -> float | None:
    """Parse a float from a raw cell; empty / NaN / junk -> None."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if number != number else number


def clean(value: Any) -> str:
    """A raw cell as a stripped string; None / NaN -> ''."""
    if value is None:
        return ""
    if isinstance(value, float) and value != value:
        return ""
    return str(value).strip()


def require_file(path: Path, what: str) -> Path:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: {what} not found")
    return path


def some_outputs(outputs: dict[str, Iterator[Row]], src: Path,
                 missing: str) -> dict[str, Iterator[Row]]:
    """`outputs` when a layout found at least one of its files, else "<src>: <missing>"."""
    if not outputs:
        raise FileNotFoundError(f"{src}: {missing}")
    return outputs


def header_of(path: Path, delimiter: str = ",") -> list[str]:
    """The first line of a (maybe compressed) text file split into lower-cased names."""
    from shopsense.ingest.readers import open_text

    try:
        with open_text(path) as text:
            first = text.readline(65_536)  # bounded: binary files have no newline
    except (OSError, UnicodeDecodeError, EOFError, ValueError):
        return []
    return [name.strip().strip('"').lower() for name in first.rstrip("\r\n").split(delimiter)]


def files_with_header(directory: Path, required: Iterable[str],
                      delimiter: str = ",") -> list[Path]:
    """Files in `directory` whose header holds all `required` column names, by name."""
    needed = set(required)
    return [p for p in sorted(directory.iterdir())
            if p.is_file() and not p.name.startswith(".")
            and needed <= set(header_of(p, delimiter))]


def one_file(found: list[Path], directory: Path, what: str) -> Path | None:
    """None, the single file, or an error asking to choose when there are several."""
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise ValueError(f"{directory}: several {what} files ({names}); pass one of them as SRC")
    return found[0] if found else None


def find_file(directory: Path, names: Iterable[str]) -> Path | None:
    """The first of `names` (also with .gz / .zst / .zstd added) that exists in `directory`."""
    for name in names:
        for suffix in ("", ".gz", ".zst", ".zstd"):
            candidate = directory / f"{name}{suffix}"
            if candidate.is_file():
                return candidate
    return None
