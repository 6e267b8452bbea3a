"""`shopsense keys create|revoke`: API keys with scopes (shown once, stored hashed)."""

from __future__ import annotations

import typer

from shopsense.api.keys import SCOPES, create_key, revoke_key
from shopsense.cli.common import emit, fail, settings, sub_app
from shopsense.cli.home import open_home


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    keys_app = sub_app(app, "keys", "API keys: search (storefront) and admin scopes.")

    @keys_app.command("create")
    def create(ctx: typer.Context,
               scope: str = typer.Option(..., "--scope", help="search | admin"),
               as_json: bool = typer.Option(False, "--json")) -> None:
        """Create a key and print it once."""
        if scope not in SCOPES:
            fail(f"--scope must be one of {', '.join(SCOPES)}")
        key = create_key(open_home(settings(ctx)), scope)
        emit({"key": key, "scope": scope}, as_json, human=key)

    @keys_app.command("revoke")
    def revoke(ctx: typer.Context, key_id: str,
               as_json: bool = typer.Option(False, "--json")) -> None:
        """Revoke a key by its id (the part after `ssk_`)."""
        emit({"revoked": revoke_key(open_home(settings(ctx)), key_id)}, as_json)
