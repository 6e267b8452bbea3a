"""Amazon ESCI (Shopping Queries Dataset) as graded judgments and products.

Judgments: the examples parquet (`example_id, query, query_id, product_id, product_locale,
esci_label, small_version, large_version, split`), e.g. `shopping_queries_dataset_examples.parquet`
or the Vespa sample `test-sample.parquet`. Gains follow the ESCI task-1 nDCG convention:
E(xact) = 1.0, S(ubstitute) = 0.1, C(omplement) = 0.01, I(rrelevant) = 0.0. Optional filters:
`split` ("train" / "test") and `locale` ("us" / "es" / "jp").

Products: the Vespa feed JSONL (`{"put": …, "fields": {id, title, description, bullets, brand,
color, locale}}`, maybe .zst / .zstd), or `shopping_queries_dataset_products.parquet`
(`product_id, product_title, product_description, product_bullet_point, product_brand,
product_color, product_locale`). HTML in description / bullets becomes plain text and
description = bullets + blank line + description (both are searchable text). Locale codes
map us -> en-US, es -> es-ES, jp -> ja-JP (BCP 47, as in docs/FORMATS.md). ASINs are unique
only within a locale, so convert one locale at a time (`locale=`) when mixing them.
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
    html_to_text,
    some_outputs,
)
from shopsense.ingest.readers import ERROR_KEY, detect_format, iter_rows

ESCI_GAINS: dict[str, float] = {"E": 1.0, "S": 0.1, "C": 0.01, "I": 0.0}
LOCALES: dict[str, str] = {"us": "en-US", "es": "es-ES", "jp": "ja-JP"}


def esci_judgments(path: Path | str, *, split: str | None = None,
                   locale: str | None = None) -> Iterator[Row]:
    """Judgment rows (gain from `ESCI_GAINS`), optionally only one split / product locale."""
    for line, row in iter_rows(path):
        if split is not None and row.get("split") != split:
            continue
        if locale is not None and row.get("product_locale") != locale:
            continue
        label = clean(row.get("esci_label")).upper()
        if label not in ESCI_GAINS:
            raise ValueError(f"{path}:{line}: esci_label {label!r} is not one of E, S, C, I")
        yield {"query_id": clean(row.get("query_id")), "query": clean(row.get("query")),
               "item_id": clean(row.get("product_id")), "relevance": ESCI_GAINS[label]}


def _product(item_id: str, title: str, description: Any, bullets: Any, brand: Any,
             color: Any, locale: Any) -> Row:
    text = "\n\n".join(t for t in (html_to_text(bullets), html_to_text(description)) if t)
    product: Row = {"item_id": item_id, "title": html_to_text(title), "description": text,
                    "brand": clean(brand)}
    if clean(color):
        product["attributes"] = {"color": clean(color)}
    code = clean(locale).lower()
    if code:
        product["locale"] = LOCALES.get(code, code)
    return product


def esci_products(path: Path | str, *, locale: str | None = None) -> Iterator[Row]:
    """Product rows from a Vespa feed JSONL or the ESCI products parquet (by extension)."""
    fmt, _compression = detect_format(path)
    for line, row in iter_rows(path):
        if ERROR_KEY in row:
            raise ValueError(f"{path}:{line}: {row[ERROR_KEY]}")
        if fmt == "parquet":
            fields = {"id": row.get("product_id"), "title": row.get("product_title"),
                      "description": row.get("product_description"),
                      "bullets": row.get("product_bullet_point"),
                      "brand": row.get("product_brand"),
                      "color": row.get("product_color", row.get("product_color_name")),
                      "locale": row.get("product_locale")}
        else:
            fields = row.get("fields") or {}
        if locale is not None and fields.get("locale") != locale:
            continue
        item_id = clean(fields.get("id"))
        if not item_id:
            raise ValueError(f"{path}:{line}: product without an id")
        yield _product(item_id, clean(fields.get("title")), fields.get("description"),
                       fields.get("bullets"), fields.get("brand"), fields.get("color"),
                       fields.get("locale"))


def _is_examples(path: Path) -> bool:
    import pyarrow.parquet as pq

    return "esci_label" in pq.ParquetFile(path).schema_arrow.names


def _classify(path: Path) -> str | None:
    """'judgments', 'products' or None for one file in an ESCI folder."""
    try:
        fmt, compression = detect_format(path)
    except ValueError:
        return None
    if fmt == "parquet" and compression is None:
        return "judgments" if _is_examples(path) else "products"
    return "products" if fmt == "jsonl" else None


def _outputs(src: Path, options: ConvertOptions) -> dict[str, Iterator[Row]]:
    files = sorted(p for p in src.iterdir() if p.is_file()) if src.is_dir() else [src]
    if options.products is not None:
        files.append(options.products)
    outputs: dict[str, Iterator[Row]] = {}
    for path in files:
        kind = _classify(path)
        if kind == "judgments" and kind not in outputs:
            outputs[kind] = esci_judgments(path, split=options.split, locale=options.locale)
        elif kind == "products" and kind not in outputs:
            outputs[kind] = esci_products(path, locale=options.locale)
    return some_outputs(outputs, src, "no ESCI examples parquet or products file found")


LAYOUT = Layout(
    name="esci",
    description="Amazon ESCI examples parquet (E=1, S=0.1, C=0.01, I=0) + products "
                "(Vespa feed JSONL or products parquet)",
    outputs=_outputs,
)
