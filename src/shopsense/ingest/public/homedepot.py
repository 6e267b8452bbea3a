"""Home Depot Product Search Relevance (Kaggle 2016) as products and graded judgments.

Products: `products.csv` (`product_uid, product_title`), or the Kaggle `train.csv`
(`id, product_uid, product_title, search_term, relevance`) from which each product's first
title is taken. Judgments: `judgments*.csv` (`query_id, search_term, product_uid, relevance`)
or `train.csv`; relevance is the raters' mean on 1–3, so gain = relevance − 1 (0 … 2), rounded
to 4 decimals. Where a file has no `query_id` (Kaggle train.csv), the id is
`"q" + sha1(search_term)[:12]`: stable whatever the row order. Titles are English.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

from shopsense.ingest.public.common import (
    ConvertOptions,
    Layout,
    Row,
    clean,
    files_with_header,
    find_file,
    header_of,
    one_file,
    some_outputs,
    to_number,
)
from shopsense.ingest.readers import iter_rows

PRODUCT_FILES = ("products.csv",)
PRODUCT_COLUMNS = ("product_uid", "product_title")
JUDGMENT_COLUMNS = ("search_term", "product_uid", "relevance")


def query_id_for(search_term: str) -> str:
    """A stable query id for a search term that came without one."""
    return "q" + hashlib.sha1(search_term.encode("utf-8")).hexdigest()[:12]


def homedepot_products(path: Path | str) -> Iterator[Row]:
    """Product rows (item_id = product_uid); duplicate uids (train.csv) keep the first title."""
    seen: set[str] = set()
    for _line, row in iter_rows(path, format="csv"):
        item_id = clean(row.get("product_uid"))
        if not item_id or item_id in seen:
            continue
        seen.add(item_id)
        yield {"item_id": item_id, "title": clean(row.get("product_title")), "locale": "en-US"}


def homedepot_judgments(path: Path | str) -> Iterator[Row]:
    """Judgment rows with gain = mean relevance − 1; rows without a numeric relevance skipped."""
    for line, row in iter_rows(path, format="csv"):
        relevance = to_number(row.get("relevance"))
        if relevance is None:
            continue
        if not 1.0 <= relevance <= 3.0:
            raise ValueError(f"{path}:{line}: relevance {relevance} outside 1–3")
        query = clean(row.get("search_term"))
        query_id = clean(row.get("query_id")) or query_id_for(query)
        yield {"query_id": query_id, "query": query, "item_id": clean(row.get("product_uid")),
               "relevance": round(relevance - 1.0, 4)}


def _outputs(src: Path, options: ConvertOptions) -> dict[str, Iterator[Row]]:
    outputs: dict[str, Iterator[Row]] = {}
    if src.is_dir():
        judgments = one_file(files_with_header(src, JUDGMENT_COLUMNS), src, "judgment")
        products = options.products or find_file(src, PRODUCT_FILES) or one_file(
            [p for p in files_with_header(src, PRODUCT_COLUMNS) if p != judgments], src,
            "product")
    elif src.name.lower().startswith("products"):
        products, judgments = src, None
    else:
        products, judgments = options.products or find_file(src.parent, PRODUCT_FILES), src
    if products is None and judgments is not None and "product_title" in header_of(judgments):
        products = judgments  # Kaggle train.csv carries the titles
    if products is not None:
        outputs["products"] = homedepot_products(products)
    if judgments is not None:
        outputs["judgments"] = homedepot_judgments(judgments)
    return some_outputs(outputs, src, "no products.csv or judgments CSV found")


LAYOUT = Layout(
    name="homedepot",
    description="Home Depot products.csv (+ judgments CSV with 1–3 relevance, gain = rel − 1)",
    outputs=_outputs,
)
