"""Which public data layout is this file or folder? (`detect_layout`)

Looks only at names, headers and the first lines, so it is cheap on large files. Returns the
converter name (`amazon-5core`, `movielens`, `homedepot`, `esci`, `wands`, `diginetica`,
`multi-cpr`) or None for anything else, including shopsense's own interchange files.
"""

from __future__ import annotations

import re
from itertools import islice
from pathlib import Path

import orjson

from shopsense.ingest.readers import detect_format, open_text

_SAMPLE_LINES = 200
_SEQUENCE_LINE = re.compile(r"^[A-Za-z0-9_\-]+( [A-Za-z0-9_\-]+)+$")
_RATING_LINE = re.compile(r"^\d+\t\d+\t\d(\.\d+)?\t\d{9,10}$")  # user item rating unix_ts
_CPR_NAMES = re.compile(r"^(qrels\.(train|dev)\.tsv|(train|dev)\.query\.txt)")
_ML_NAMES = re.compile(r"^(u[1-5ab]?\.(data|base|test|item)|(ratings|movies)\.dat)")
_HEADERS: tuple[tuple[str, str], ...] = (
    ("session_id;user_id;item_id;timeframe;eventdate", "diginetica"),
    ("sessionid;userid;itemid;timeframe;eventdate", "diginetica"),
    ("product_uid,product_title", "homedepot"),
    ("query_id,search_term,product_uid,relevance", "homedepot"),
    ("id,product_uid,product_title,search_term", "homedepot"),
    ("query_id\tquery\tquery_class", "wands"),
    ("product_id\tproduct_name\tproduct_class", "wands"),
    ("id\tquery_id\tproduct_id\tlabel", "wands"),
    ("userid,movieid,rating,timestamp", "movielens"),
    ("movieid,title,genres", "movielens"),
)


def detect_layout(path: Path | str) -> str | None:
    """The converter name for a public-data file or folder, or None if none fits."""
    path = Path(path)
    if path.is_dir():
        for child in sorted(path.iterdir()):
            if child.is_file() and not child.name.startswith("."):
                layout = detect_layout(child)
                if layout is not None:
                    return layout
        return None
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file or folder")
    if _ML_NAMES.match(path.name.lower()):
        return "movielens"
    if _CPR_NAMES.match(path.name.lower()):
        return "multi-cpr"
    try:
        fmt, _compression = detect_format(path)
    except ValueError:
        fmt = "text"
    if fmt == "parquet":
        return _parquet_layout(path)
    lines = _head(path)
    if not lines:
        return None
    if fmt == "jsonl":
        return _jsonl_layout(lines[0])
    return _text_layout(lines)


def _head(path: Path) -> list[str]:
    try:
        with open_text(path, encoding="utf-8-sig") as text:
            return [line.rstrip("\r\n") for line in islice(text, _SAMPLE_LINES)]
    except (UnicodeDecodeError, OSError, EOFError):
        return []


def _parquet_layout(path: Path) -> str | None:
    import pyarrow.parquet as pq

    try:
        names = set(pq.ParquetFile(path).schema_arrow.names)
    except Exception:
        return None
    if "esci_label" in names or {"product_title", "product_bullet_point"} <= names:
        return "esci"
    return None


def _jsonl_layout(first_line: str) -> str | None:
    try:
        row = orjson.loads(first_line)
    except orjson.JSONDecodeError:
        return None
    if isinstance(row, dict) and "put" in row and isinstance(row.get("fields"), dict):
        return "esci"
    return None


def _text_layout(lines: list[str]) -> str | None:
    header = lines[0].strip().lower()
    for prefix, layout in _HEADERS:
        if header.startswith(prefix):
            return layout
    body = [line for line in lines if line.strip()]
    if body and all(_RATING_LINE.match(line) for line in body):
        return "movielens"
    if _is_sequence_file(body):
        return "amazon-5core"
    return None


def _is_sequence_file(lines: list[str]) -> bool:
    """`user item item …` lines: plain id tokens, one space apart, one line per user."""
    if not lines or not all(_SEQUENCE_LINE.match(line.strip()) for line in lines):
        return False
    users = [line.split(" ", 1)[0] for line in lines]
    return len(set(users)) == len(users)
