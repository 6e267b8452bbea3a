"""A reading's cache key is its JSON, remembered for hashable readings and computed for
those whose slots hold unhashable values; different readings get different keys."""

from __future__ import annotations

import json

from shopsense.domain import QueryReading, Slot
from shopsense.pipeline.search_words import reading_key


def test_reading_key_is_the_readings_json_remembered_or_not() -> None:
    plain = QueryReading("红色 格力 空调", brands=(Slot(("格力", "Gree"), 0.95, (3, 5), "格力"),),
                         attributes=(Slot(("colour", ("红色", "red")), 0.9),))
    listed = QueryReading("q", attributes=(Slot(("colour", ["red"]), 0.9),))  # unhashable
    for reading in (plain, listed):
        expected = json.dumps(reading.to_dict(), sort_keys=True, ensure_ascii=False, default=str)
        assert reading_key(reading) == expected
        assert reading_key(reading) == expected  # the second ask (remembered when hashable)
    assert reading_key(None) == ""
    assert reading_key(QueryReading("q", residual="a")) != reading_key(QueryReading("q"))
