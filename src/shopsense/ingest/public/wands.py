"""Wayfair WANDS as products, graded judgments and queries.

All three files are tab-separated despite the .csv names (as in the dataset's own notebook):
- `product.csv`: product_id, product_name, product_class, category hierarchy (header spelled
  with a space; "category_hierarchy" also accepted), product_description, product_features,
  rating_count, average_rating, review_count.
- `query.csv`: query_id, query, query_class.
- `label.csv`: id, query_id, product_id, label (Exact / Partial / Irrelevant).

Mapping: category = the hierarchy's " / " parts joined with " > "; without a hierarchy, the
first product_class. product_features `k:v|k : v` -> attributes (keys and values stripped,
empty keys dropped, the first value of a repeated key kept), plus `product_class` (list,
classes are `|`-joined) and the rating counts as numbers. Judgment gains: Exact = 2,
Partial = 1, Irrelevant = 0 (the WANDS paper's graded scale). label.csv carries only the
query id, so the query text comes from query.csv next to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from shopsense.ingest.public.common import (
    ConvertOptions,
    Layout,
    Row,
    clean,
    find_file,
    require_file,
    some_outputs,
    to_number,
)
from shopsense.ingest.readers import iter_rows

WANDS_GAINS: dict[str, float] = {"exact": 2.0, "partial": 1.0, "irrelevant": 0.0}
_NUMERIC_FIELDS = ("rating_count", "average_rating", "review_count")


def parse_features(value: str) -> dict[str, str]:
    """`'color : red|width:3'` -> `{'color': 'red', 'width': '3'}`."""
    features: dict[str, str] = {}
    for part in value.split("|"):
        key, sep, val = part.partition(":")
        key, val = key.strip(), val.strip()
        if sep and key and val and key not in features:
            features[key] = val
    return features


def _category(row: dict[str, Any], classes: list[str]) -> str:
    hierarchy = clean(row.get("category hierarchy", row.get("category_hierarchy")))
    parts = [p.strip() for p in hierarchy.split("/") if p.strip()]
    if parts:
        return " > ".join(parts)
    return classes[0] if classes else ""


def wands_products(path: Path | str) -> Iterator[Row]:
    """Product rows from WANDS product.csv (tab-separated)."""
    for _line, row in iter_rows(path, format="tsv"):
        classes = [c.strip() for c in clean(row.get("product_class")).split("|") if c.strip()]
        attributes: dict[str, Any] = parse_features(clean(row.get("product_features")))
        if classes:
            attributes["product_class"] = classes
        for name in _NUMERIC_FIELDS:
            number = to_number(row.get(name))
            if number is not None:
                attributes[name] = number
        yield {"item_id": clean(row.get("product_id")), "title": clean(row.get("product_name")),
               "description": clean(row.get("product_description")),
               "category": _category(row, classes), "attributes": attributes, "locale": "en-US"}


def wands_queries(path: Path | str) -> Iterator[Row]:
    """Query rows `{query_id, query, query_class}` from WANDS query.csv."""
    for _line, row in iter_rows(path, format="tsv"):
        yield {"query_id": clean(row.get("query_id")), "query": clean(row.get("query")),
               "query_class": clean(row.get("query_class"))}


def wands_judgments(label_path: Path | str, query_path: Path | str) -> Iterator[Row]:
    """Judgment rows (Exact 2, Partial 1, Irrelevant 0) with query text from query.csv."""
    queries = {q["query_id"]: q["query"] for q in wands_queries(query_path)}
    for line, row in iter_rows(label_path, format="tsv"):
        label = clean(row.get("label")).lower()
        if label not in WANDS_GAINS:
            raise ValueError(f"{label_path}:{line}: label {row.get('label')!r} is not "
                             "Exact, Partial or Irrelevant")
        query_id = clean(row.get("query_id"))
        if query_id not in queries:
            raise ValueError(f"{label_path}:{line}: query_id {query_id} not in {query_path}")
        yield {"query_id": query_id, "query": queries[query_id],
               "item_id": clean(row.get("product_id")), "relevance": WANDS_GAINS[label]}


def _outputs(src: Path, options: ConvertOptions) -> dict[str, Iterator[Row]]:
    directory = src if src.is_dir() else src.parent
    products = options.products or find_file(directory, ("product.csv",))
    queries = options.queries or find_file(directory, ("query.csv",))
    labels = find_file(directory, ("label.csv",))
    if src.is_file():
        name = src.name.lower()
        products = src if name.startswith("product") else products
        labels = src if name.startswith("label") else labels
        queries = src if name.startswith("query") else queries
    outputs: dict[str, Iterator[Row]] = {}
    if products is not None:
        outputs["products"] = wands_products(products)
    if labels is not None:
        if queries is None:
            raise FileNotFoundError(f"{labels}: label.csv needs query.csv (pass --queries)")
        outputs["judgments"] = wands_judgments(labels, require_file(queries, "query.csv"))
    if queries is not None:
        outputs["queries"] = wands_queries(queries)
    return some_outputs(outputs, src, "no WANDS product.csv, query.csv or label.csv found")


LAYOUT = Layout(
    name="wands",
    description="Wayfair WANDS product.csv / query.csv / label.csv (tab-separated; "
                "Exact=2, Partial=1, Irrelevant=0)",
    outputs=_outputs,
)
