"""Public data sets -> shopsense interchange rows (products / events / judgments JSONL).

Each converter turns one public layout into iterators of plain dicts, exactly as a
products.jsonl / events.jsonl / judgments.jsonl line would hold them; `convert()` writes them.
The mapping choices of every layout are documented in its module and in docs/PUBLIC_DATA.md.

    from shopsense.ingest.public import convert, detect_layout
    summary = convert("movielens", Path("../shared/data/movielens-100k"), Path("out"))
    summary["files"]  # {"products.jsonl": 1682, "events.jsonl": 100000}
    detect_layout("../shared/data/amazon-5core-s3rec/Beauty.txt")  # "amazon-5core"
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from shopsense.ingest.public import (
    amazon,
    diginetica,
    esci,
    homedepot,
    movielens,
    multicpr,
    wands,
)
from shopsense.ingest.public.amazon import (
    SECONDS_PER_POSITION,
    SEQUENCE_EPOCH,
    amazon_5core_events,
    amazon_5core_products,
    iter_sequences,
)
from shopsense.ingest.public.common import (
    OUTPUT_KINDS,
    ConvertOptions,
    Layout,
    Row,
    with_id_prefix,
    write_jsonl,
)
from shopsense.ingest.public.detect import detect_layout
from shopsense.ingest.public.diginetica import diginetica_events
from shopsense.ingest.public.esci import ESCI_GAINS, esci_judgments, esci_products
from shopsense.ingest.public.homedepot import homedepot_judgments, homedepot_products
from shopsense.ingest.public.movielens import movielens_events, movielens_products
from shopsense.ingest.public.multicpr import multi_cpr_judgments, multi_cpr_products
from shopsense.ingest.public.wands import (
    WANDS_GAINS,
    wands_judgments,
    wands_products,
    wands_queries,
)

# Explicit registry: converter name -> layout.
LAYOUTS: dict[str, Layout] = {
    layout.name: layout
    for layout in (amazon.LAYOUT, movielens.LAYOUT, homedepot.LAYOUT, esci.LAYOUT,
                   wands.LAYOUT, diginetica.LAYOUT, multicpr.LAYOUT)
}


def layout_outputs(kind: str, src: Path | str,
                   options: ConvertOptions | None = None) -> dict[str, Iterator[Row]]:
    """Row iterators by output kind ("products", "events", …) for `src` read as `kind`.

    `kind` may be "auto" to use `detect_layout(src)`; `options.id_prefix` namespaces every id.
    """
    src = Path(src)
    if not src.exists():
        raise FileNotFoundError(f"{src}: no such file or folder")
    if kind == "auto":
        detected = detect_layout(src)
        if detected is None:
            raise ValueError(f"{src}: not a known public data layout ({', '.join(LAYOUTS)})")
        kind = detected
    if kind not in LAYOUTS:
        raise ValueError(f"unknown layout {kind!r}; one of {', '.join(LAYOUTS)} or auto")
    options = options or ConvertOptions()
    outputs = LAYOUTS[kind].outputs(src, options)
    if options.id_prefix:
        outputs = {name: with_id_prefix(rows, options.id_prefix)
                   for name, rows in outputs.items()}
    return outputs


def convert(kind: str, src: Path | str, out_dir: Path | str,
            options: ConvertOptions | None = None, *, compress: str = "") -> dict[str, Any]:
    """Convert `src` (file or folder) and write `<kind>.jsonl[.gz|.zst]` files into `out_dir`.

    Returns a summary: layout, files written with their row counts, and seconds taken.
    """
    started = time.perf_counter()
    layout = detect_layout(src) if kind == "auto" else kind
    if layout is None:
        raise ValueError(f"{src}: not a known public data layout ({', '.join(LAYOUTS)})")
    outputs = layout_outputs(layout, src, options)
    out = Path(out_dir)
    files: dict[str, int] = {}
    for name in OUTPUT_KINDS:
        if name in outputs:
            target = out / f"{name}.jsonl{compress}"
            files[target.name] = write_jsonl(outputs[name], target)
    return {"layout": layout, "src": str(src), "out": str(out), "files": files,
            "seconds": round(time.perf_counter() - started, 3)}


__all__ = [
    "ESCI_GAINS",
    "LAYOUTS",
    "OUTPUT_KINDS",
    "SECONDS_PER_POSITION",
    "SEQUENCE_EPOCH",
    "WANDS_GAINS",
    "ConvertOptions",
    "Layout",
    "amazon_5core_events",
    "amazon_5core_products",
    "convert",
    "detect_layout",
    "diginetica_events",
    "esci_judgments",
    "esci_products",
    "homedepot_judgments",
    "homedepot_products",
    "iter_sequences",
    "layout_outputs",
    "movielens_events",
    "movielens_products",
    "multi_cpr_judgments",
    "multi_cpr_products",
    "wands_judgments",
    "wands_products",
    "wands_queries",
    "with_id_prefix",
    "write_jsonl",
]
