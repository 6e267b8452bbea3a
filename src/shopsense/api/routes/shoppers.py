"""Shopper tokens: what lets a caller read one shopper's own data (api.personal).

- `POST /v1/shopper-tokens` (admin key): the shop's backend, after its own sign-in, gets a
  token for a user (or an anonymous session) and hands it to that shopper's client, which
  sends it as `X-Shopper-Token` (or sets it as the `ss_shopper` cookie).
- `POST /web/session` (public key): the bundled storefront's own session. It sets the token as
  an HttpOnly, SameSite=Strict cookie: for the browser's anonymous session (a random id the
  page made), or for a signed-in user when the sign-in is one the storefront may make itself:
  the user the browser's current cookie already belongs to, or, on a demo home (or with
  `privacy.storefront_login`), a user with no history yet and the demo's showcase shoppers.
  Anyone else needs the shop's backend (the admin key) to vouch for them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from shopsense.api.deps import api_error, get_shop, require_admin, require_search
from shopsense.api.keys import TOKEN_COOKIE, issue_shopper_token
from shopsense.api.personal import token_actor
from shopsense.pipeline.shop import InputError, Shop
from shopsense.store.identity import has_history

router = APIRouter()
DEMO_SHOWCASE = tuple(f"u{i:05d}" for i in range(1, 9))  # the storefront's demo sign-in list


class TokenIn(BaseModel):
    user_id: str | None = Field(None, min_length=1, max_length=256)
    session_id: str | None = Field(None, min_length=1, max_length=256)
    ttl_s: float | None = Field(None, ge=60, le=90 * 86400,
                                description="Default: privacy.shopper_token_ttl_s.")


class SessionIn(BaseModel):
    session_id: str = Field(..., min_length=8, max_length=256)
    user_id: str | None = Field(None, min_length=1, max_length=256)


def _issue(shop: Shop, user: str | None, session: str | None,
           ttl_s: float | None) -> dict[str, Any]:
    if not (user or session):
        raise InputError("user_id", "send a user_id or a session_id")
    actor = shop.ids.user(user) if user else shop.ids.session(session or "")
    ttl = ttl_s or shop.settings.privacy.shopper_token_ttl_s
    token, expires = issue_shopper_token(shop.ids.secret_chain, actor, ttl)
    return {"token": token, "expires_at": expires, "kind": "user" if user else "session"}


@router.post("/v1/shopper-tokens", tags=["privacy"],
             summary="A token for one shopper's personal reads (admin: the shop's backend)")
def post_token(body: TokenIn, shop: Shop = Depends(get_shop),
               _: str = Depends(require_admin)) -> dict[str, Any]:
    return _issue(shop, body.user_id, body.session_id, body.ttl_s)


def _may_sign_in(request: Request, shop: Shop, user: str) -> bool:
    """The user the browser's cookie already belongs to; or, where the storefront may sign
    shoppers in by id alone (a demo home, or `privacy.storefront_login`), the demo's showcase
    shoppers and a user with no history yet. Elsewhere a new id is refused too: whoever
    claimed a not-yet-seen id (an e-mail address, the next account number) would hold the
    token that reads that shopper's data once they start shopping."""
    pseudonym = shop.ids.user(user)
    if token_actor(request, shop) == pseudonym:
        return True
    demo_home = (shop.settings.home / "demo" / "queries.jsonl").is_file()
    if not (demo_home or shop.settings.privacy.storefront_login):
        return False
    return (demo_home and user in DEMO_SHOWCASE) or not has_history(shop.store, pseudonym)


@router.post("/web/session", include_in_schema=False)
def web_session(request: Request, body: SessionIn, shop: Shop = Depends(get_shop),
                _: str = Depends(require_search)) -> JSONResponse:
    if body.user_id and not _may_sign_in(request, shop, body.user_id):
        raise api_error(403, "sign_in_required", "this shopper must sign in through the "
                        "shop (its backend issues the token)", "user_id")
    issued = _issue(shop, body.user_id, None if body.user_id else body.session_id, None)
    response = JSONResponse({"kind": issued["kind"], "expires_at": issued["expires_at"]})
    response.set_cookie(TOKEN_COOKIE, issued["token"], httponly=True, samesite="strict",
                        max_age=int(shop.settings.privacy.shopper_token_ttl_s), path="/",
                        secure=request.url.scheme == "https")
    return response
