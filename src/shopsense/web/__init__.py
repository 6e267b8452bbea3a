"""The storefront (`/`) and the operator dashboard (`/admin`), served by the API app.

`install(app)` adds the page routes, the bundled static files and the /v1/admin endpoints,
and answers an unknown page with the store's own 404 page (an unknown API path keeps the
JSON error shape). Everything the pages need is in this package: no CDN, no build step.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

API_PREFIXES = ("/v1/", "/web/", "/static/", "/metrics", "/healthz", "/readyz", "/docs",
                "/openapi", "/redoc")


def install(app: FastAPI) -> None:
    """Add the storefront, the dashboard and the admin API to `app`."""
    from shopsense.api.routes import admin, merch
    from shopsense.api.routes import models as model_console
    from shopsense.web import routes

    app.include_router(routes.router)
    app.include_router(admin.router)
    app.include_router(merch.router)
    app.include_router(model_console.router)
    api_errors = app.exception_handlers.get(StarletteHTTPException)  # the API's error shape

    @app.exception_handler(StarletteHTTPException)
    async def unmatched(request: Request, exc: StarletteHTTPException) -> Response:
        """Routing errors (no such path / method): a page for a browser, JSON for the API."""
        path = request.url.path
        if exc.status_code == 404 and request.method in ("GET", "HEAD") \
                and not path.startswith(API_PREFIXES):
            return routes.not_found_page(request)
        if api_errors is not None:
            return await api_errors(request, exc)
        code = "not_found" if exc.status_code == 404 else "error"
        detail = exc.detail if isinstance(exc.detail, dict) else {  # api_error's own shape
            "code": code, "message": str(exc.detail), "field": None}
        return JSONResponse({"error": detail}, exc.status_code,
                            headers=getattr(exc, "headers", None))


__all__ = ["install"]
