"""Bounded field types for the request models: every string, list and number a request can
carry has a bound (a length, a range, finite), so no input is unbounded work or storage.
tests/abuse/test_bounds.py walks every route's query and body models and checks it."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field


def _not_a_boolean(value: Any) -> Any:
    """JSON true / false is not a number (pydantic would read it as 1.0 / 0.0)."""
    if isinstance(value, bool):
        raise ValueError("a number, not true / false")
    return value


ItemId = Annotated[str, Field(min_length=1, max_length=256)]
ShortText = Annotated[str, Field(max_length=256)]
Finite = Annotated[float, BeforeValidator(_not_a_boolean), Field(allow_inf_nan=False)]
Probability = Annotated[float, BeforeValidator(_not_a_boolean),
                        Field(gt=0, le=1, allow_inf_nan=False)]
EVENT_TIME = ("Unix seconds (milliseconds above 1e11) or ISO-8601; finite; not before "
              "ingest.earliest_event_ts nor more than ingest.max_future_skew_s ahead")
MAX_BATCH = 10_000  # a static bound beside serve.max_batch_events (checked in the handler)
