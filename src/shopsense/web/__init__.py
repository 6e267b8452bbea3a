"""The storefront (`/`) and the operator dashboard (`/admin`), served by the API app.

`install(app)` adds the page routes, the bundled static files and the /v1/admin endpoints.
Everything the pages need is in this package: no CDN, no build step.
"""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Add the storefront, the dashboard and the admin API to `app`."""
    from shopsense.api.routes import admin
    from shopsense.web import routes

    app.include_router(routes.router)
    app.include_router(admin.router)


__all__ = ["install"]
