"""`shopsense convert KIND SRC --out DIR`: public data sets -> interchange JSONL files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shopsense.cli.common import emit, fail


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    @app.command("convert")
    def convert_cmd(
        kind: Annotated[str, typer.Argument(help="amazon-5core | movielens | homedepot | esci | "
                                                 "wands | diginetica | multi-cpr | auto")],
        src: Annotated[Path, typer.Argument(help="The data set's file or folder.")],
        out: Annotated[Path, typer.Option("--out", "-o", help="Folder for products.jsonl / "
                                          "events.jsonl / judgments.jsonl / queries.jsonl.")],
        titles: Annotated[Path | None, typer.Option(
            help="amazon-5core: item_id,asin,title CSV.")] = None,
        products: Annotated[Path | None, typer.Option(
            help="Products file, if not in SRC.")] = None,
        queries: Annotated[Path | None, typer.Option(
            help="wands: query.csv, if not in SRC.")] = None,
        split: Annotated[str | None, typer.Option(
            help="esci: keep only this split; multi-cpr: train | dev (default dev).")] = None,
        locale: Annotated[str | None, typer.Option(
            help="esci: keep only this product_locale.")] = None,
        id_prefix: Annotated[str, typer.Option(
            help="Prefix for every id (items, users, sessions, events, queries), so several "
                 "data sets can share one store, e.g. 'ml:'.")] = "",
        compress: Annotated[str, typer.Option(help="'', gz or zst for the outputs.")] = "",
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    ) -> None:
        """Convert a public data set into shopsense's interchange files and print row counts."""
        from shopsense.ingest.public import ConvertOptions, convert

        if compress not in ("", "gz", "zst"):
            fail("--compress must be '', gz or zst")
        options = ConvertOptions(titles=titles, products=products, queries=queries,
                                 split=split, locale=locale, id_prefix=id_prefix)
        try:
            summary = convert(kind, src, out, options,
                              compress=f".{compress}" if compress else "")
        except (FileNotFoundError, ValueError) as exc:
            fail(str(exc))
        counts = ", ".join(f"{name}: {n:,}" for name, n in summary["files"].items())
        emit(summary, as_json, human=f"{summary['layout']} -> {out}  ({counts}) "
                                     f"in {summary['seconds']:.1f}s")
