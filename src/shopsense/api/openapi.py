"""The OpenAPI document with every status code the service can answer declared, each error
with the one documented body `{"error": {"code", "message", "field"}}` (docs/API.md, Errors).

Every operation declares the codes any request can meet: a parse error or a key in the URL
(400), not found (404), a wrong method (405), an oversized body (413), bad input (422), the
last-resort 500 and 503 while models are built; keyed operations add 401 / 403 / 429 and
writes 409 (a conflict with the current state, e.g. a spent privacy budget)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["code", "message", "field"],
        "properties": {
            "code": {"type": "string", "description": "Stable machine-readable code."},
            "message": {"type": "string", "description": "What went wrong, for a person."},
            "field": {"type": ["string", "null"], "description": "The input at fault."},
        },
    }},
}
DESCRIPTIONS = {
    400: "Unparseable body, or an API key in the URL",
    401: "Missing, unknown or revoked API key",
    403: "The key's scope does not allow this operation",
    404: "No such item, user or page",
    405: "Method not allowed",
    409: "The request conflicts with the current state (e.g. the privacy budget is spent)",
    413: "Body over serve.max_body_bytes",
    422: "A parameter or field is invalid (named in `field`)",
    429: "A rate limit or server-time budget is spent (see Retry-After)",
    500: "Unexpected server error (logged); never expected",
    503: "Models are being built (see Retry-After)",
}
_ALWAYS = (400, 404, 405, 413, 422, 500, 503)
_KEYED = (401, 403, 429)


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version,
                                 description=app.description, routes=app.routes)
            declare_errors(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def declare_errors(schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            codes = set(_ALWAYS)
            if method in ("post", "put", "delete", "patch"):
                codes.add(409)
            if operation.get("security"):
                codes |= set(_KEYED)
            responses = operation.setdefault("responses", {})
            for code in sorted(codes):
                responses[str(code)] = {"description": DESCRIPTIONS[code], **ref}
