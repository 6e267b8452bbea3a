"""Diginetica (CIKM Cup 2016) item views as `view` events.

Input: `train-item-views.csv` or the SR-GNN `sample_train-item-views.csv`, ';'-separated with
header `session_id;user_id;item_id;timeframe;eventdate`. `user_id` is "NA" for anonymous
sessions and is then left out. Timestamp = midnight UTC of `eventdate` + `timeframe`
milliseconds (timeframe counts from the session's start), in unix seconds with millisecond
precision. Event id = `"diginetica:{session_id}-{line}"` (the file's physical line), stable per file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from shopsense.ingest.public.common import (
    ConvertOptions,
    Layout,
    Row,
    clean,
    date_to_unix,
    files_with_header,
    one_file,
    require_file,
)
from shopsense.ingest.readers import ERROR_KEY, iter_rows

VIEW_COLUMNS = ("session_id", "user_id", "item_id", "timeframe", "eventdate")
# The CIKM Cup original spells them sessionId;userId;itemId (SR-GNN's copies: snake_case).
CAMEL_VIEW_COLUMNS = ("sessionid", "userid", "itemid", "timeframe", "eventdate")
_MISSING = frozenset({"", "NA", "NaN", "nan", "null"})


def diginetica_events(path: Path | str) -> Iterator[Row]:
    """`view` event rows, one per line of the item-views file."""
    day_cache: dict[str, int | None] = {}
    for line, raw in iter_rows(path, format="csv", delimiter=";"):
        if ERROR_KEY in raw:
            raise ValueError(f"{path}:{line}: {raw[ERROR_KEY]}")
        row = {_snake(key): value for key, value in raw.items()}
        day = row["eventdate"]
        if day not in day_cache:
            day_cache[day] = date_to_unix(day)
        midnight = day_cache[day]
        if midnight is None:
            raise ValueError(f"{path}:{line}: eventdate {day!r} is not YYYY-MM-DD")
        session = clean(row["session_id"])
        event: Row = {
            "event_id": f"diginetica:{session}-{line}",
            "session_id": session,
            "item_id": clean(row["item_id"]),
            "event_type": "view",
            "timestamp": round(midnight + int(row["timeframe"]) / 1000.0, 3),
            "platform": "other",
        }
        user = clean(row["user_id"])
        if user not in _MISSING:
            event["user_id"] = user
        yield event


def _snake(name: str) -> str:
    """`'sessionId'` -> `'session_id'`; snake_case names pass through."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def _outputs(src: Path, options: ConvertOptions) -> dict[str, Iterator[Row]]:
    if src.is_dir():
        found = (files_with_header(src, VIEW_COLUMNS, ";")
                 or files_with_header(src, CAMEL_VIEW_COLUMNS, ";"))
        views = one_file(found, src, "item-views")
        if views is None:
            raise FileNotFoundError(f"{src}: no item-views file (header "
                                    f"{';'.join(VIEW_COLUMNS)})")
    else:
        views = require_file(src, "item-views file")
    return {"events": diginetica_events(views)}


LAYOUT = Layout(
    name="diginetica",
    description="Diginetica item views `session_id;user_id;item_id;timeframe;eventdate` "
                "-> view events",
    outputs=_outputs,
)
