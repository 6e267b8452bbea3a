"""Request plumbing shared by the routes: the Shop, scope checks, JSON errors.

The dependencies are `async`: they never block (a key's hash is cached, the limiter is a token
bucket), and a sync dependency would cost a thread hand-over on every request."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader

from shopsense.pipeline.shop import Shop

_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)


async def get_shop(request: Request) -> Shop:
    return request.app.state.shop


def api_error(status: int, code: str, message: str, field: str | None = None) -> HTTPException:
    return HTTPException(status_code=status,
                         detail={"code": code, "message": message, "field": field})


def _authorise(request: Request, key: str | None, scope: str) -> str:
    state = request.app.state
    if not state.settings.serve.require_keys:
        return "anonymous"
    presented = key or request.query_params.get("api_key")
    if not presented:
        raise api_error(401, "unauthorised", "missing API key (header X-API-Key)")
    found = state.keyring.scope_of(presented)
    if found is None:
        raise api_error(401, "unauthorised", "unknown or revoked API key")
    key_id, key_scope = found
    request.state.key_scope = key_scope  # personal reads: admin, else a shopper token
    if scope == "admin" and key_scope != "admin":
        raise api_error(403, "forbidden", f"this endpoint needs the admin scope, key has {key_scope!r}")
    allowed, retry = state.limiter.allow(key_id)
    if not allowed:
        raise HTTPException(status_code=429, headers={"Retry-After": f"{max(1, round(retry))}"},
                            detail={"code": "rate_limited", "message": "too many requests",
                                    "field": None})
    return key_id


async def require_search(request: Request, key: str | None = Depends(_key_header)) -> str:
    return _authorise(request, key, "search")


async def require_admin(request: Request, key: str | None = Depends(_key_header)) -> str:
    return _authorise(request, key, "admin")


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field}}
