"""`shopsense` command line: thin commands over the pipeline.

Each module in COMMAND_MODULES defines `register(app, eval_app)` and adds its commands.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import typer

from shopsense.config import Settings

app = typer.Typer(help="shopsense: AI search and recommendations for online shops.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
eval_app = typer.Typer(help="Offline evaluation against baselines.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")

# Explicit registry of command modules (no import scanning).
COMMAND_MODULES: list[str] = [
    "shopsense.cli.core",
    "shopsense.cli.keys",
    "shopsense.cli.report",
    "shopsense.cli.convert",
    "shopsense.cli.demo",
    "shopsense.cli.propensity",
    "shopsense.cli.recs",
    "shopsense.cli.search",
    "shopsense.cli.understand",
    "shopsense.cli.analytics",
    "shopsense.cli.assistant",
    "shopsense.cli.knowledge",
    "shopsense.cli.scale",
    "shopsense.cli.federated",
    "shopsense.cli.experiments",
]


@app.callback()
def _root(
    ctx: typer.Context,
    home: Path = typer.Option(None, "--home", help="Data directory (env SHOPSENSE_HOME).",
                              show_default="./shopsense-data"),
) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    settings = Settings()
    if home is not None:
        settings = settings.model_copy(update={"home": home})
    ctx.obj = settings


for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app, eval_app)


def main() -> None:
    app()
