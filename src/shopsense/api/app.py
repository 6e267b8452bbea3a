"""HTTP service: `create_app(settings)` builds the FastAPI app over a data home."""

from __future__ import annotations

from fastapi import FastAPI

from shopsense import __version__
from shopsense.config import Settings


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(title="shopsense", version=__version__)
    app.state.settings = settings

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app
