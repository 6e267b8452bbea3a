"""Shared CLI plumbing: the settings in the Typer context and JSON / rich output."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer
from rich.console import Console

from shopsense.config import Settings

console = Console(stderr=True)


def settings(ctx: typer.Context) -> Settings:
    obj = ctx.find_root().obj
    if not isinstance(obj, Settings):
        raise typer.BadParameter("internal: settings missing from context")
    return obj


def emit(data: Any, as_json: bool, human: str | None = None) -> None:
    """Print `data` as JSON on stdout when asked, else a human summary."""
    if as_json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")
    else:
        console.print(human if human is not None else json.dumps(data, ensure_ascii=False,
                                                                 indent=2, default=str))


def fail(message: str, code: int = 2) -> None:
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)
