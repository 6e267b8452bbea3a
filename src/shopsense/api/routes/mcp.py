"""`/mcp`: the catalogue's tools for outside agents over MCP streamable HTTP (stateless, JSON
responses), behind the same search-scope API key (header X-API-Key) and rate limit as the
rest of the API. Installed only when the `mcp` package (extra `mcp`) is present."""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from starlette.routing import Route

from shopsense.api.routes.assistant import assistant_of

log = logging.getLogger("shopsense.api")
_SCOPE: contextvars.ContextVar[str] = contextvars.ContextVar("mcp_key_scope", default="")


class _SearchKey:
    """ASGI guard: a valid key (any scope covers search) and the key's rate limit."""

    def __init__(self, app: Any, state: Any) -> None:
        self.app, self.state = app, state

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        denied = self._denied(scope)
        if denied is None:
            _SCOPE.set(self._scope(scope))  # the tools run in this request's context
            await self.app(scope, receive, send)
            return
        await _answer(send, *denied)

    def _scope(self, scope: dict[str, Any]) -> str:
        if not self.state.settings.serve.require_keys:
            return "admin"  # an open server (keys off): everything is the operator's
        key = dict(scope.get("headers") or []).get(b"x-api-key", b"").decode("latin-1")
        found = self.state.keyring.scope_of(key)
        return found[1] if found else ""

    def _denied(self, scope: dict[str, Any]) -> tuple[int, str, str] | None:
        if not self.state.settings.serve.require_keys:
            return None
        headers = dict(scope.get("headers") or [])
        key = headers.get(b"x-api-key", b"").decode("latin-1")
        if not key:
            return 401, "unauthorised", "missing API key (header X-API-Key)"
        found = self.state.keyring.scope_of(key)
        if found is None:
            return 401, "unauthorised", "unknown or revoked API key"
        allowed, _ = self.state.limiter.allow(found[0])
        return None if allowed else (429, "rate_limited", "too many requests")


async def _answer(send: Any, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": {"code": code, "message": message, "field": None}}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


def install(app: FastAPI) -> bool:
    try:
        from shopsense.mcp_server import build_server
    except ImportError:  # the optional `mcp` extra is not installed
        log.info("mcp is not installed: /mcp is off")
        return False
    state = app.state
    server = build_server(lambda: assistant_of(state),
                          personal_reads=lambda: _SCOPE.get() == "admin")
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

    app.router.routes.append(Route("/mcp", endpoint=_SearchKey(handle, state),
                                   methods=["GET", "POST", "DELETE"]))
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
