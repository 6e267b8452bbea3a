"""Placeholder registration module replaced by the ingest/users/serve commands."""

from __future__ import annotations

import typer


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    @app.command("version")
    def version() -> None:
        """Print the shopsense version."""
        from shopsense import __version__

        typer.echo(__version__)
