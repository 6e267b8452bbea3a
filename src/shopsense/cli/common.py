"""Shared CLI plumbing: the settings in the Typer context and JSON / rich output.

Results go to stdout (`out`, `emit`), so `KEY=$(shopsense keys create --scope search)` and
`shopsense stats --json | jq` capture them; progress, logs and errors go to stderr
(`console`, `fail`)."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from shopsense.config import Settings

console = Console(stderr=True)  # progress, logs, errors
out = Console(soft_wrap=True)  # results (never wrapped: a piped line stays one line)


def settings(ctx: typer.Context) -> Settings:
    obj = ctx.find_root().obj
    if not isinstance(obj, Settings):
        raise typer.BadParameter("internal: settings missing from context")
    return obj


def emit(data: Any, as_json: bool, human: str | None = None) -> None:
    """Print `data` as JSON on stdout when asked, else a human summary."""
    if as_json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")
    elif human is not None:
        out.print(human, highlight=False)
    else:
        out.print(json.dumps(data, ensure_ascii=False, indent=2, default=str), markup=False,
                  highlight=False)


def fail(message: str, code: int = 2) -> None:
    console.print(f"[red]error:[/red] {escape(message)}")
    raise typer.Exit(code)


def sub_app(app: typer.Typer, name: str, help: str) -> typer.Typer:
    """A command group `shopsense <name> ...` under `app` (bare `shopsense <name>` shows help)."""
    group = typer.Typer(help=help, no_args_is_help=True)
    app.add_typer(group, name=name)
    return group
