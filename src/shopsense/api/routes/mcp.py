"""`/mcp`: the catalogue's tools for outside agents over MCP streamable HTTP (stateless, JSON
responses), behind the same keys (`X-API-Key` or `Authorization: Bearer`), per-key and
per-client limits and failed-auth throttling as the rest of the API (api/deps.py); each
tool's CPU time is charged to the caller's server-time budget like a search's. The
shopper tools (recommend for a named shopper, view_cart) are personal reads: they answer
only to the admin key or the shopper's own token (`X-Shopper-Token`), like the profile.
Installed only when the `mcp` package (extra `mcp`) is present."""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, HTTPException
from starlette.requests import Request
from starlette.routing import Route

from shopsense.api.deps import authorise, is_admin, presented_token
from shopsense.api.personal import denial
from shopsense.api.routes.assistant import assistant_of

log = logging.getLogger("shopsense.api")
# who is calling the tools of this request: (an admin key, the shopper token presented, the
# client's address for the per-client limits)
_CALLER: contextvars.ContextVar[tuple[bool, str | None, str | None]] = contextvars.ContextVar(
    "mcp_caller", default=(False, None, None))


class _SearchKey:
    """ASGI guard: a valid key (any scope covers search) and the API's limits."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        request = Request(scope)
        try:
            authorise(request, "search")
        except HTTPException as exc:
            detail = exc.detail if isinstance(exc.detail, dict) else {"code": "error",
                                                                        "message": str(exc.detail)}
            await _answer(send, exc.status_code, detail["code"], detail["message"],
                          detail.get("field"), exc.headers)
            return
        limits = request.app.state.client_limits
        _CALLER.set((is_admin(request), presented_token(request),  # the tools run in here
                     limits.client_of(scope)))
        await self.app(scope, receive, send)


async def _answer(send: Any, status: int, code: str, message: str, field: str | None = None,
                  headers: dict[str, str] | None = None) -> None:
    body = json.dumps({"error": {"code": code, "message": message, "field": field}}).encode()
    extra = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), *extra]})
    await send({"type": "http.response.body", "body": body})


def _personal_check(state: Any) -> Any:
    """For the tools: None when this request's caller may read the shopper's own data, else
    why not (api/personal.py `denial`)."""
    def check(user: str | None, session: str | None) -> str | None:
        admin, token, _ = _CALLER.get()
        denied = denial(state.shop, admin=admin, token=token, user=user, session=session)
        return None if denied is None else f"{denied.detail['message']}, or an admin key"
    return check


def install(app: FastAPI) -> bool:
    try:
        from shopsense.mcp_server import build_server
    except ImportError:  # the optional `mcp` extra is not installed
        log.info("mcp is not installed: /mcp is off")
        return False
    state = app.state
    # a tool's CPU is charged to its caller's server-time budget, as a route's is (metered)
    server = build_server(lambda: assistant_of(state), personal_reads=_personal_check(state),
                          around=lambda tool: state.client_limits.metered(
                              lambda: _CALLER.get()[2], tool))
    running: dict[str, Any] = {}  # this start's session manager (none while stopped)

    def fresh() -> Any:
        """A new session manager: the SDK's runs once, and an app may be started again (a
        test client, an in-process restart). Served without the SDK's own Starlette app
        (that would replace scope["app"], which the API's middleware reads)."""
        server.streamable_http_app(streamable_http_path="/mcp", stateless_http=True,
                                   json_response=True, host="0.0.0.0")
        return server.session_manager

    async def handle(scope: dict[str, Any], receive: Any, send: Any) -> None:
        manager = running.get("manager")
        if manager is None:  # the app's lifespan has not started (or has ended)
            await _answer(send, 503, "unavailable", "the MCP server is not running")
            return
        await manager.handle_request(scope, receive, send)

    # stateless JSON mode offers no server-initiated stream: GET is 405 (as the MCP spec
    # allows), not a request held open without an answer
    app.router.routes.append(Route("/mcp", endpoint=_SearchKey(handle),
                                   methods=["POST", "DELETE"]))
    outer = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(a: Any) -> AsyncIterator[Any]:
        manager = fresh()  # each run of the lifespan its own
        async with outer(a) as value, manager.run():
            running["manager"] = manager
            try:
                yield value
            finally:
                if running.get("manager") is manager:
                    del running["manager"]

    app.router.lifespan_context = lifespan
    return True
