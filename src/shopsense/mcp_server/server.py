"""`build_server(assistant)`: an MCP server whose tools are the assistant's `ToolBox`
(search with filters, item details, similar items, recommendations for a shopper, compare,
knowledge-base answers, cart). Bad input comes back as a tool error naming the field."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from shopsense.assistant.tools import ToolBox
from shopsense.pipeline.shop import InputError

if TYPE_CHECKING:
    from shopsense.assistant import Assistant

INSTRUCTIONS = (
    "Tools of one online shop (zh + en catalogue). Use search (with optional category, brand, "
    "price and stock filters) to find items, get_item for all of an item's stored fields, "
    "compare for 2-3 items side by side, similar for alternatives, recommend for a shopper's "
    "picks, knowledge for the shop's policies (returns, shipping, payment, warranty), "
    "add_to_cart / view_cart for a shopper's cart. State only what the tools return.")


def _guard(fn: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """Input errors as a readable tool error ("field: reason")."""
    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            return fn(*args, **kwargs)
        except InputError as exc:
            raise ToolError(f"{exc.field}: {exc.reason}") from exc
        except KeyError as exc:
            raise ToolError(f"unknown item {exc.args[0]!r}") from exc
    return call


PersonalCheck = Callable[[str | None, str | None], str | None]


Tool = Callable[..., dict[str, Any]]


def build_server(assistant: Assistant | Callable[[], Assistant], *,
                 personal_reads: PersonalCheck = lambda user, session: None,
                 around: Callable[[Tool], Tool] = lambda fn: fn) -> MCPServer:
    """`assistant`: the assistant itself, or a callable returning the current one (the API's
    assistant follows model swaps). `personal_reads(user, session)`: None when this call may
    read that shopper's own data (their history-based picks, their cart), else why not; over
    HTTP only the admin key or the shopper's own token may (a search key is public). Local
    (stdio) use is the operator's own: everything. `around(tool)`: each tool as served (over
    HTTP: charged to the caller's server-time budget like the API's routes)."""
    current = assistant if callable(assistant) and not hasattr(assistant, "chat") else \
        (lambda: assistant)
    box = lambda: ToolBox(current())  # noqa: E731
    server = MCPServer(name="shopsense", instructions=INSTRUCTIONS)
    for fn in (*_catalogue_tools(box), *_shopper_tools(box, personal_reads)):
        server.add_tool(around(fn), name=fn.__name__)
    return server


Box = Callable[[], ToolBox]


def _catalogue_tools(box: Box) -> list[Callable[..., dict[str, Any]]]:
    @_guard
    def search(query: str, category: str | None = None, brand: str | None = None,
               price_min: float | None = None, price_max: float | None = None,
               in_stock_only: bool = False, k: int = 5) -> dict[str, Any]:
        """Search the catalogue; filters: category path (e.g. "家电 > 空调"), brand, price
        range (CNY), in stock only. Returns items with their stored fields."""
        return box().search(query, category, brand, price_min, price_max, in_stock_only, k)

    @_guard
    def get_item(item_id: str) -> dict[str, Any]:
        """Every stored field of one item (title, brand, price, stock, attributes, text)."""
        return box().get_item(item_id)

    @_guard
    def compare(item_ids: list[str]) -> dict[str, Any]:
        """Compare 2 or 3 items side by side from their stored fields."""
        return box().compare(item_ids)

    @_guard
    def similar(item_id: str, k: int = 5) -> dict[str, Any]:
        """Items similar to one item."""
        return box().similar(item_id, k)

    return [search, get_item, compare, similar]


def _personal(check: PersonalCheck, tool: str, user: str | None, session: str | None) -> None:
    denied = check(user, session)
    if denied is not None:
        raise ToolError(f"{tool}: {denied}")


def _shopper_tools(box: Box, personal_reads: PersonalCheck
                   ) -> list[Callable[..., dict[str, Any]]]:
    @_guard
    def recommend(user: str | None = None, session: str | None = None,
                  category: str | None = None, k: int = 5) -> dict[str, Any]:
        """Recommendations for a shopper (their user or session id: personal, needs their
        token or an admin key; none: popular items), optionally in one category."""
        _personal(personal_reads, "recommend", user, session)
        return box().recommend(user, session, category, k)

    @_guard
    def knowledge(question: str, language: str | None = None) -> dict[str, Any]:
        """Answer a shop policy question from the shop's documents: the passage quoted, or
        answered=false with how to reach a person."""
        return box().knowledge(question, language)

    @_guard
    def add_to_cart(item_id: str, session: str | None = None, user: str | None = None,
                    quantity: int = 1) -> dict[str, Any]:
        """Put an item into a shopper's cart (recorded as the shopper's cart event)."""
        return box().add_to_cart(item_id, session, user, quantity)

    @_guard
    def view_cart(session: str | None = None, user: str | None = None) -> dict[str, Any]:
        """The items in a shopper's cart, with quantities (personal: over HTTP, the
        shopper's token or an admin key)."""
        _personal(personal_reads, "view_cart", user, session)
        return box().view_cart(session, user)

    return [recommend, knowledge, add_to_cart, view_cart]
