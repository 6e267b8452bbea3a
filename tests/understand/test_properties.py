"""Properties that hold for any query: slots point into the query, bounds are ordered."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopsense.text.understand.price import PriceParser

PIECES = ["格力", "空调", "不要", "苹果", "500元以下", "一千到两千", "under $80", "between 100 and 200",
          "red", "dress", "not", "nike", "1.5匹", "256GB", "除了", "红色", "cheap", "性价比高", " ",
          "，", "的", "without", "sugar", "2000+", "左右", "以上", "XL", "码", "?"]
queries = st.one_of(st.text(max_size=40),
                    st.lists(st.sampled_from(PIECES), max_size=8).map("".join))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=queries)
def test_every_slot_points_into_the_query(understander, query: str) -> None:
    reading = understander.understand(query)
    slots = [reading.intent, reading.category, reading.price_min, reading.price_max,
             reading.value_preference, *reading.brands, *reading.attributes, *reading.exclusions,
             *reading.product_terms, *reading.model_numbers]
    for slot in slots:
        if slot is None or slot.span is None:
            continue
        start, end = slot.span
        assert 0 <= start <= end <= len(query)
        assert slot.text == query[start:end]
        assert 0.0 <= slot.confidence <= 1.0
    assert reading.language in ("zh", "en", "mixed")


@settings(max_examples=200, deadline=None)
@given(query=queries)
def test_price_bounds_are_ordered(query: str) -> None:
    reading = PriceParser().parse(query)
    if reading.price_min is not None and reading.price_max is not None:
        assert reading.price_min.value <= reading.price_max.value
