"""Caller-bound personal reads: a shopper's own data is answered only to that shopper's
token (or the admin key). The public search key alone reads nothing personal.

`check_personal(request, shop, user=..., session=...)` is called by every route that reads a
shopper's data (profile, personal explanations, propensity, the assistant's personalised turns
and conversations; `/mcp`'s shopper tools use `denial` on the same terms); it raises the
documented errors:
401 `shopper_token_required` (no token), 401 `invalid_shopper_token` (bad MAC, expired, or
signed before a secret rotation), 403 `forbidden` (a token for another shopper). A user's
token also covers the sessions linked to that user.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request

from shopsense.api.deps import api_error, is_admin, presented_token, token_actor
from shopsense.api.keys import TOKEN_HEADER, verify_shopper_token
from shopsense.pipeline.shop import Shop
from shopsense.store.identity import linked_user

__all__ = ["check_personal", "denial", "is_admin", "mark_withheld", "own_identity",
           "personal_denial", "token_actor"]


def personal_denial(request: Request, shop: Shop, *, user: str | None,
                    session: str | None) -> HTTPException | None:
    """None when the caller may read this shopper's data (admin key, or the shopper's own
    token; see the module doc), else the error to answer."""
    return denial(shop, admin=is_admin(request), token=presented_token(request), user=user,
                  session=session)


def denial(shop: Shop, *, admin: bool, token: str | None, user: str | None,
           session: str | None) -> HTTPException | None:
    """`personal_denial` for a caller described directly (an admin key or not, the shopper
    token it presented): what `/mcp` checks, where there is no route."""
    if not (user or session) or admin:
        return None
    field = "user" if user else "session"
    if token is None:
        return api_error(401, "shopper_token_required", "a personal read needs the shopper's "
                         f"token ({TOKEN_HEADER} header or the storefront's session cookie)",
                         field)
    actor = verify_shopper_token(shop.ids.secret_chain, token)
    if actor is None:
        return api_error(401, "invalid_shopper_token", "the shopper token is invalid or "
                         "expired", field)
    wanted = shop.ids.user(user) if user else shop.ids.session(session or "")
    if actor == wanted or (wanted.startswith("s_") and linked_user(shop.store, wanted) == actor):
        return None
    return api_error(403, "forbidden", "the shopper token belongs to another shopper", field)


def check_personal(request: Request, shop: Shop, *, user: str | None,
                   session: str | None) -> None:
    """Allow the read only to the admin key or the shopper's own token (see module doc)."""
    denied = personal_denial(request, shop, user=user, session=session)
    if denied is not None:
        raise denied


def own_identity(request: Request, shop: Shop, *, user: str | None, session: str | None
                 ) -> tuple[str | None, str | None, dict[str, Any] | None]:
    """The shopper a personalised list (search, recommendations, similar, bought-together,
    next) may be computed for: the named user if the caller may read that user's data (the
    admin key or the user's own token), else the named session if it may read the session's,
    else nobody (the answer is a visitor's with no history, exactly what anyone may see).
    Returns (user, session, withheld): at most one of the two kept, and `withheld` the
    documented error body ({code, message, field}) of the identity that was dropped, which
    the answer carries as `personalisation_withheld` so an integrator sees why."""
    if not (user or session) or is_admin(request):
        return user, session, None
    token = presented_token(request)
    withheld = None
    for kept_user, kept_session in ((user, None), (None, session)):
        if not (kept_user or kept_session):
            continue
        denied = denial(shop, admin=False, token=token, user=kept_user, session=kept_session)
        if denied is None:
            return kept_user, kept_session, withheld
        withheld = withheld or dict(denied.detail)
    return None, None, withheld


def mark_withheld(body: dict[str, Any], withheld: dict[str, Any] | None) -> dict[str, Any]:
    """The answer, naming the personalisation it was computed without (a new dict: cached
    answers are never changed)."""
    return body if withheld is None else {**body, "personalisation_withheld": withheld}
