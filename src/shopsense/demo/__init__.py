"""The bilingual demo shop: a seeded, realistic catalogue, shoppers' events and test queries.

`generate_demo(out_dir)` writes products.jsonl, events.jsonl, categories.json, queries.jsonl
(and judgments.jsonl) for `make demo`, the storefront and every component's tests.

Currency: every listing, Chinese or English, is priced in CNY so that one price filter works
across the shop. English queries that say "$80" mean 80 × USD_TO_CNY (7.2) CNY; the demo
query records carry the converted bound and the rate.
"""

from __future__ import annotations

from shopsense.demo.catalog import END, END_TS, build_catalogue, iter_demo_products
from shopsense.demo.generate import (
    DemoPaths,
    ensure_demo,
    generate_demo,
    iter_demo_events,
    summarize,
)
from shopsense.demo.objects import demo_events, demo_products, demo_search_judgments
from shopsense.demo.queries import demo_queries
from shopsense.demo.vocab import USD_TO_CNY

__all__ = [
    "END",
    "END_TS",
    "USD_TO_CNY",
    "DemoPaths",
    "build_catalogue",
    "demo_events",
    "demo_products",
    "demo_queries",
    "demo_search_judgments",
    "ensure_demo",
    "generate_demo",
    "iter_demo_events",
    "iter_demo_products",
    "summarize",
]
