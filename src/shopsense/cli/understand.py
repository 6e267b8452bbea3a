"""`shopsense understand "QUERY"` and `shopsense eval understand --train --test`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shopsense.cli.common import emit, fail, settings

AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def _human(reading: dict) -> str:
    lines = [f"[bold]{reading['query']}[/bold]  ({reading['language']})"]
    for name, value in reading.items():
        if name in ("query", "language") or value in (None, [], ""):
            continue
        if isinstance(value, dict):
            lines.append(f"  {name}: {value['value']}  ({value['confidence']:.2f}, '{value['text']}')")
        elif isinstance(value, list):
            parts = [f"{s['value']} ({s['confidence']:.2f}, '{s['text']}')" for s in value]
            lines.append(f"  {name}: " + "; ".join(parts))
        else:
            lines.append(f"  {name}: {value}")
    return "\n".join(lines)


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    @app.command("understand")
    def understand_cmd(
        ctx: typer.Context,
        query: Annotated[str, typer.Argument(help="The shopper's query, zh or en.")],
        tagger: Annotated[bool, typer.Option("--tagger/--no-tagger",
                                             help="Use the CRF span tagger when available.")] = True,
        as_json: AsJson = False,
    ) -> None:
        """Read a query as the catalogue's categories, brands, prices, attributes, exclusions."""
        from shopsense.text.understand import understander_for_home

        cfg = settings(ctx)
        try:
            understander = understander_for_home(cfg, with_tagger=tagger)
        except ValueError as exc:
            fail(f"{exc} (load a catalogue first, e.g. `shopsense demo run --no-serve`)")
        reading = understander.understand(query).to_dict()
        emit(reading, as_json, human=_human(reading))

    @eval_app.command("understand")
    def eval_understand_cmd(
        train: Annotated[Path, typer.Option("--train", help="CoNLL-style file: `char label` lines.")],
        test: Annotated[Path, typer.Option("--test", help="CoNLL-style file to score.")],
        iterations: Annotated[int, typer.Option("--iterations", help="L-BFGS iterations.")] = 100,
        as_json: AsJson = False,
    ) -> None:
        """Train the span tagger on TRAIN, report exact-span P/R/F1 for brand and product type."""
        from shopsense.text.tagger.evaluate import evaluate_files

        for path in (train, test):
            if not path.exists():
                fail(f"no such file: {path}")
        try:
            result = evaluate_files(train, test, max_iterations=iterations)
        except ValueError as exc:
            fail(str(exc))
        rows = [f"{name:13s} P {result[name]['precision']:.4f}  R {result[name]['recall']:.4f}  "
                f"F1 {result[name]['f1']:.4f}" for name in ("brand", "product_type", "overall")]
        emit(result, as_json, human="\n".join(rows) + f"\n(trained on {result['n_train']} texts "
             f"in {result['train_seconds']}s, scored {result['n_test']})")
