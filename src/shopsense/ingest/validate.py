"""Row validation: a raw row (dict from CSV / JSONL / Parquet) becomes a domain object or a
list of field errors. Nothing here touches a store.

Rules are written down in docs/FORMATS.md; keep the two in step.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shopsense.domain import EVENT_TYPES, ITEMLESS_EVENT_TYPES, PLATFORMS, Event, Product
from shopsense.ids import Pseudonymizer

MAX_ID_LEN = 256
MAX_TEXT_LEN = 20_000
PRODUCT_FIELDS = frozenset({"item_id", "title", "description", "category", "brand", "price",
                            "currency", "attributes", "image_url", "available", "created_at",
                            "locale"})
EVENT_FIELDS = frozenset({"event_id", "user_id", "session_id", "item_id", "event_type", "query",
                          "value", "platform", "timestamp"})
_TRUE = frozenset({"1", "true", "t", "yes", "y"})
_FALSE = frozenset({"0", "false", "f", "no", "n"})
# Seconds since the epoch later than this are taken as milliseconds (year 5138 in seconds).
_MS_THRESHOLD = 1e11
_EVENT_TYPE_SET = frozenset(EVENT_TYPES)
_PLATFORM_SET = frozenset(PLATFORMS)
# Item ids: letters and digits of any script, `_ - . : @ + = ~`; not only dots. They travel in
# URL paths (/v1/items/{id}), so `/`, `\`, `?`, `#`, spaces and control characters are refused.
ITEM_ID_CHARS = "letters, digits and _ - . : @ + = ~"
_ITEM_ID = re.compile(r"[\w.:@+=~-]+")
EPOCH_2000 = 946_684_800.0


@dataclass(frozen=True, slots=True)
class TimeBounds:
    """Accepted event times: not before `earliest` (unix s), not more than `future_skew_s`
    after the clock at validation. Live events (the API) use the year 2000 as the floor; file
    imports (`FILE_BOUNDS`) accept history back to 1970 (public data sets start in 1995)."""

    earliest: float = EPOCH_2000
    future_skew_s: float = 600.0

    def check(self, ts: float) -> str | None:
        if ts < self.earliest:
            return f"before {datetime.fromtimestamp(self.earliest, UTC):%Y-%m-%d} (unix seconds, or milliseconds above 1e11)"
        if ts > time.time() + self.future_skew_s:
            return (f"more than {self.future_skew_s:g} s in the future "
                    "(unix seconds, or milliseconds above 1e11)")
        return None


FILE_BOUNDS = TimeBounds(earliest=0.0)
LIVE_BOUNDS = TimeBounds()


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    reason: str


class RowInvalid(Exception):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.reason}" for e in errors))
        self.errors = errors


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (
        isinstance(value, float) and math.isnan(value))


def _text(row: dict[str, Any], name: str, errors: list[FieldError], *, required: bool = False,
          limit: int = MAX_TEXT_LEN) -> str:
    value = row.get(name)
    if _blank(value):
        if required:
            errors.append(FieldError(name, "required"))
        return ""
    if isinstance(value, (dict, list)):
        errors.append(FieldError(name, "must be text"))
        return ""
    text = str(value).strip()
    if len(text) > limit:
        errors.append(FieldError(name, f"longer than {limit} characters"))
    elif not unicode_ok(text):
        errors.append(FieldError(name, NOT_UNICODE))
    return text


NOT_UNICODE = "not valid Unicode text (a lone surrogate such as \\ud800)"
MAX_ATTRIBUTES, MAX_ATTRIBUTE_DEPTH = 500, 5


def unicode_ok(text: str) -> bool:
    """Encodable as UTF-8 (a JSON escape like \\ud800 makes a lone surrogate, which no
    store, log or answer can write)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _attribute_problem(value: Any, depth: int = 0) -> str | None:
    """Why an attribute value cannot be kept as given (None: it can): text over the length
    limit or not valid Unicode, a number that is NaN or infinite, nesting too deep."""
    if isinstance(value, str):
        return (f"longer than {MAX_TEXT_LEN} characters" if len(value) > MAX_TEXT_LEN else
                None if unicode_ok(value) else NOT_UNICODE)
    if isinstance(value, float):
        return None if math.isfinite(value) else "NaN or infinite"
    if isinstance(value, dict | list):
        if depth >= MAX_ATTRIBUTE_DEPTH:
            return f"nested deeper than {MAX_ATTRIBUTE_DEPTH} levels"
        parts = [*value, *value.values()] if isinstance(value, dict) else value
        if len(parts) > 2 * MAX_ATTRIBUTES:
            return f"more than {MAX_ATTRIBUTES} entries"
        return next((p for p in (_attribute_problem(v, depth + 1) for v in parts) if p), None)
    return None


def _number(row: dict[str, Any], name: str, errors: list[FieldError], *,
            minimum: float | None = None) -> float | None:
    value = row.get(name)
    if value is None or value == "":
        return None
    if value.__class__ is float and math.isfinite(value):
        return _check_min(value, name, minimum, errors)
    if isinstance(value, str) and not value.strip():
        return None
    if isinstance(value, bool):
        errors.append(FieldError(name, "must be a number"))
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        errors.append(FieldError(name, f"not a number: {str(value)[:40]!r}"))
        return None
    if not math.isfinite(number):
        errors.append(FieldError(name, "must be finite (NaN and infinity are refused)"))
        return None
    return _check_min(number, name, minimum, errors)


def _check_min(number: float, name: str, minimum: float | None,
               errors: list[FieldError]) -> float | None:
    if minimum is not None and number < minimum:
        errors.append(FieldError(name, f"must be >= {minimum:g}"))
        return None
    return number


def parse_timestamp(value: Any) -> float:
    """ISO 8601 (naive = UTC) or unix seconds (values above 1e11 are milliseconds)."""
    if isinstance(value, bool):
        raise ValueError("not a timestamp")
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, datetime):
        dt = value if value.tzinfo else value.replace(tzinfo=UTC)
        return dt.timestamp()
    else:
        text = str(value).strip()
        try:
            number = float(text)
        except ValueError:
            dt = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
            dt = dt if dt.tzinfo else dt.replace(tzinfo=UTC)
            return dt.timestamp()
    if not math.isfinite(number) or number < 0:
        raise ValueError("must be a non-negative finite number")
    return number / 1000.0 if number > _MS_THRESHOLD else number


def _time(row: dict[str, Any], name: str, errors: list[FieldError], *,
          required: bool = False, bounds: TimeBounds | None = None) -> float | None:
    value = row.get(name)
    if _blank(value):
        if required:
            errors.append(FieldError(name, "required"))
        return None
    try:
        ts = parse_timestamp(value)
    except (TypeError, ValueError, OverflowError) as exc:
        errors.append(FieldError(name, f"not ISO 8601 or unix seconds ({exc})"))
        return None
    problem = bounds.check(ts) if bounds is not None else None
    if problem:
        errors.append(FieldError(name, problem))
        return None
    return ts


def _item_id(row: dict[str, Any], errors: list[FieldError], *, required: bool) -> str:
    item = _str(row, "item_id", errors, MAX_ID_LEN) if not required else _text(
        row, "item_id", errors, required=True, limit=MAX_ID_LEN)
    if item and not valid_item_id(item):
        errors.append(FieldError("item_id", f"may hold only {ITEM_ID_CHARS} "
                                 f"(got {item[:40]!r})"))
    return item


def valid_item_id(item: str) -> bool:
    """The documented item id character set (docs/FORMATS.md), at most 256 characters."""
    return (len(item) <= MAX_ID_LEN and _ITEM_ID.fullmatch(item) is not None
            and item.strip(".") != "")


def _bool(row: dict[str, Any], name: str, errors: list[FieldError], default: bool) -> bool:
    value = row.get(name)
    if _blank(value):
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    errors.append(FieldError(name, f"not a boolean: {text[:20]!r}"))
    return default


def _attributes(row: dict[str, Any], errors: list[FieldError]) -> dict[str, Any]:
    value = row.get("attributes")
    attrs: dict[str, Any] = {}
    if isinstance(value, dict):
        attrs = dict(value)
    elif not _blank(value):
        try:
            parsed = json.loads(str(value))
        except json.JSONDecodeError as exc:
            errors.append(FieldError("attributes", f"not a JSON object ({exc.msg})"))
            parsed = {}
        if not isinstance(parsed, dict):
            errors.append(FieldError("attributes", "must be a JSON object"))
            parsed = {}
        attrs = parsed
    # Unknown columns of flat files (CSV) become attributes, so no data is dropped silently.
    for key, extra in row.items():
        if key not in PRODUCT_FIELDS and not key.startswith("__") and not _blank(extra):
            attrs.setdefault(str(key), extra)
    if len(attrs) > MAX_ATTRIBUTES:
        errors.append(FieldError("attributes", f"more than {MAX_ATTRIBUTES} attributes"))
        return {}
    for key, item in attrs.items():
        problem = (f"a name longer than {MAX_ID_LEN} characters" if len(key) > MAX_ID_LEN
                   else _attribute_problem(key) or _attribute_problem(item))
        if problem:
            name = key[:64].encode("utf-8", "backslashreplace").decode()  # echoable
            errors.append(FieldError(f"attributes.{name}", problem))
            return {}
    return attrs


def validate_product(row: dict[str, Any]) -> Product:
    """Raise RowInvalid listing every bad field, else return the Product."""
    errors: list[FieldError] = []
    if "__error__" in row:
        raise RowInvalid([FieldError("(row)", str(row["__error__"]))])
    product = Product(
        item_id=_item_id(row, errors, required=True),
        title=_text(row, "title", errors, required=True, limit=2000),
        description=_text(row, "description", errors),
        category=_text(row, "category", errors, limit=1000),
        brand=_text(row, "brand", errors, limit=500),
        price=_number(row, "price", errors, minimum=0.0),
        currency=_text(row, "currency", errors, limit=8).upper(),
        attributes=_attributes(row, errors),
        image_url=_text(row, "image_url", errors, limit=2000),
        available=_bool(row, "available", errors, default=True),
        created_at=_time(row, "created_at", errors),
        locale=_text(row, "locale", errors, limit=35),
    )
    if errors:
        raise RowInvalid(errors)
    return product


def _str(row: dict[str, Any], name: str, errors: list[FieldError], limit: int) -> str:
    """Fast path for the common case (a plain string); falls back to `_text`."""
    value = row.get(name)
    if value.__class__ is str:
        text = value.strip()
        if len(text) > limit:
            errors.append(FieldError(name, f"longer than {limit} characters"))
        return text
    return _text(row, name, errors, limit=limit)


def validate_event(row: dict[str, Any], pseudonyms: Pseudonymizer,
                   bounds: TimeBounds = FILE_BOUNDS) -> Event:
    """Raise RowInvalid listing every bad field, else return the Event with pseudonymised ids.

    Without an `event_id`, the id is a hash of the event's content, so re-ingesting the same
    file never duplicates it."""
    return Event(*validate_event_fields(row, pseudonyms, bounds))


def validate_event_fields(row: dict[str, Any], pseudonyms: Pseudonymizer,
                          bounds: TimeBounds = FILE_BOUNDS) -> tuple[Any, ...]:
    """`validate_event` as a tuple in `Event` field order, for the bulk path that sends rows
    to the writer without building Event objects. (Hot path of ingestion: kept free of
    per-field helpers where a plain string suffices.)"""
    errors: list[FieldError] = []
    if "__error__" in row:
        raise RowInvalid([FieldError("(row)", str(row["__error__"]))])
    event_type = _str(row, "event_type", errors, 20).lower()
    if not event_type:
        errors.append(FieldError("event_type", "required"))
    elif event_type not in _EVENT_TYPE_SET:
        errors.append(FieldError("event_type", f"must be one of {', '.join(EVENT_TYPES)}"))
    user = _str(row, "user_id", errors, MAX_ID_LEN)
    session = _str(row, "session_id", errors, MAX_ID_LEN)
    if not user and not session:
        errors.append(FieldError("user_id", "user_id or session_id is required"))
    item = _item_id(row, errors, required=False)
    if not item and event_type and event_type not in ITEMLESS_EVENT_TYPES:
        errors.append(FieldError("item_id", f"required for {event_type} events"))
    query = _str(row, "query", errors, 1000)
    if event_type == "search" and not query:
        errors.append(FieldError("query", "required for search events"))
    value = _number(row, "value", errors)
    if event_type == "rate" and value is None:
        errors.append(FieldError("value", "required for rate events (the rating)"))
    platform = _str(row, "platform", errors, 20).lower() or "other"
    if platform not in _PLATFORM_SET:
        errors.append(FieldError("platform", f"must be one of {', '.join(PLATFORMS)}"))
    timestamp = _time(row, "timestamp", errors, required=True, bounds=bounds)
    event_id = _str(row, "event_id", errors, MAX_ID_LEN)
    if errors:
        raise RowInvalid(errors)
    user_p = pseudonyms.user(user) if user else None
    session_p = pseudonyms.session(session) if session else None
    if not event_id:
        content = "\x1f".join(map(str, (user_p, session_p, item, event_type, query, value,
                                        platform, timestamp)))
        event_id = "h_" + hashlib.blake2b(content.encode(), digest_size=12).hexdigest()
    return (event_id, event_type, float(timestamp or 0.0), user_p, session_p, item or None,
            query or None, value, platform)
