"""The catalogue's tools for outside agents over the Model Context Protocol (official Python
SDK, `mcp`): `shopsense mcp` (stdio) and `/mcp` on the API (streamable HTTP, search-scope
key). See `server.build_server`."""

from __future__ import annotations

from shopsense.mcp_server.server import build_server

__all__ = ["build_server"]
