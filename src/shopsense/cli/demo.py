"""`shopsense demo generate --out DIR`: write the seeded bilingual demo shop."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from shopsense.cli.common import emit, fail


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    demo_app = typer.Typer(help="The bilingual demo shop.", no_args_is_help=True)
    app.add_typer(demo_app, name="demo")

    @demo_app.command("generate")
    def generate_cmd(
        out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the demo files.")],
        seed: Annotated[int, typer.Option(help="Same seed -> byte-identical files.")] = 7,
        products: Annotated[int, typer.Option(help="Number of products.")] = 3200,
        users: Annotated[int, typer.Option(help="Number of registered shoppers.")] = 1200,
        days: Annotated[int, typer.Option(help="Days of events, ending 2026-10-31.")] = 60,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    ) -> None:
        """Write products.jsonl, events.jsonl, categories.json, queries.jsonl, judgments.jsonl."""
        from shopsense.demo import generate_demo, summarize

        started = time.perf_counter()
        try:
            paths = generate_demo(out, seed=seed, n_products=products, n_users=users, days=days)
        except ValueError as exc:
            fail(str(exc))
        summary = summarize(paths) | {"seed": seed, "seconds": round(time.perf_counter() - started, 2)}
        counts = ", ".join(f"{name}: {n:,}" for name, n in summary["counts"].items())
        emit(summary, as_json, human=f"demo shop (seed {seed}) -> {out}  ({counts}) "
                                     f"in {summary['seconds']:.1f}s")
