"""Request plumbing shared by the routes: the Shop, keys and scopes, limits, JSON errors.

The dependencies are `async`: they never block (a key's hash is cached, the limiters are token
buckets), and a sync dependency would cost a thread hand-over on every request.

A key travels in the `X-API-Key` header or as `Authorization: Bearer <key>`; a key in the URL
(`?api_key=`) is refused with 400 (URLs land in access logs, proxies and browser history).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from shopsense.api.keys import TOKEN_COOKIE, TOKEN_HEADER, verify_shopper_token
from shopsense.api.limits import ClientLimits, Throttled
from shopsense.pipeline.shop import Shop

_key_header = APIKeyHeader(name="X-API-Key", auto_error=False,
                           description="An API key (`shopsense keys create`).")
_bearer = HTTPBearer(auto_error=False, description="The same key as `Authorization: Bearer`.")
_URL_KEYS = ("api_key", "apikey", "access_token")
T = TypeVar("T")


async def get_shop(request: Request) -> Shop:
    return request.app.state.shop


def api_error(status: int, code: str, message: str, field: str | None = None,
              headers: dict[str, str] | None = None) -> HTTPException:
    return HTTPException(status_code=status, headers=headers,
                         detail={"code": code, "message": message, "field": field})


def throttled(exc: Throttled) -> HTTPException:
    return api_error(429, "rate_limited", exc.message, exc.field,
                     headers={"Retry-After": f"{max(1, round(exc.retry_s + 0.49))}"})


def _presented(request: Request, key: str | None,
               bearer: HTTPAuthorizationCredentials | None) -> str | None:
    if any(name in request.query_params for name in _URL_KEYS):
        raise api_error(400, "key_in_url", "API keys are not accepted in the URL (they end up "
                        "in logs and history): send the header X-API-Key or "
                        "Authorization: Bearer", "api_key")
    if key and bearer and key != bearer.credentials:
        raise api_error(400, "ambiguous_key", "X-API-Key and Authorization name different "
                        "keys", "Authorization")
    return key or (bearer.credentials if bearer else None)


def presented_token(request: Request) -> str | None:
    """The shopper token the request carries (header, else the storefront's cookie)."""
    return request.headers.get(TOKEN_HEADER) or request.cookies.get(TOKEN_COOKIE) or None


def token_actor(request: Request, shop: Shop) -> str | None:
    """The pseudonym of the request's valid shopper token, if any (verified once a request)."""
    cached = getattr(request.state, "token_actor", False)
    if cached is not False:
        return cached
    token = presented_token(request)
    actor = None if token is None else verify_shopper_token(shop.ids.secret_chain, token)
    request.state.token_actor = actor
    return actor


def is_admin(request: Request) -> bool:
    state = request.app.state
    return (not state.settings.serve.require_keys
            or getattr(request.state, "key_scope", None) == "admin")


def authorise(request: Request, scope: str) -> str:
    """`require_search` / `require_admin` for an endpoint that is not a FastAPI route (`/mcp`):
    the same key headers, limits and errors."""
    auth = request.headers.get("authorization", "")
    kind, _, credentials = auth.partition(" ")
    bearer = (HTTPAuthorizationCredentials(scheme=kind, credentials=credentials.strip())
              if kind.lower() == "bearer" and credentials.strip() else None)
    return _authorise(request, request.headers.get("x-api-key"), bearer, scope)


def _authorise(request: Request, key: str | None, bearer: HTTPAuthorizationCredentials | None,
               scope: str) -> str:
    state = request.app.state
    limits: ClientLimits = state.client_limits
    client = limits.client_of(request.scope)
    presented = _presented(request, key, bearer)
    try:
        key_id, key_scope = "anonymous", "search"
        if state.settings.serve.require_keys:
            limits.before_auth(client)
            key_id, key_scope = _check_key(request, limits, client, presented, scope)
            request.state.key_scope = key_scope  # personal reads: admin, else a shopper token
            allowed, retry = state.limiter.allow(key_id)
            if not allowed:
                raise Throttled("too many requests for this key", retry)
        if key_scope != "admin":  # the shop's own backend is not one client among many
            # a shopper is the verified subject of a shopper token: a raw `user=` is whatever
            # the caller typed (rotating it must not buy new buckets; the address limit holds)
            limits.admit(client, token_actor(request, state.shop))
    except Throttled as exc:
        refused = throttled(exc)
        refused.tarpit_s = min(exc.retry_s,  # type: ignore[attr-defined]
                               state.settings.serve.tarpit_s)
        raise refused from None
    return key_id


async def _gate(request: Request, key: str | None, bearer: HTTPAuthorizationCredentials | None,
                scope: str) -> str:
    """`_authorise`; a refused request (429) is answered after a pause of up to
    `serve.tarpit_s` that costs no CPU: a flooder resending at once would else spin on
    instant 429s, and answering those took the event loop from every other client
    (benchmarks/README.md, Abuse). Its connection waits; the server does not."""
    try:
        return _authorise(request, key, bearer, scope)
    except HTTPException as exc:
        await anyio.sleep(getattr(exc, "tarpit_s", 0.0))
        raise


def _check_key(request: Request, limits: ClientLimits, client: str, presented: str | None,
               scope: str) -> tuple[str, str]:
    found = request.app.state.keyring.scope_of(presented) if presented else None
    if found is None:
        limits.auth_failed(client)
        if not presented:
            raise api_error(401, "unauthorised",
                            "missing API key (header X-API-Key or Authorization: Bearer)")
        raise api_error(401, "unauthorised", "unknown or revoked API key")
    key_id, key_scope = found
    if scope == "admin" and key_scope != "admin":
        limits.auth_failed(client)
        raise api_error(403, "forbidden", f"this endpoint needs the admin scope, key has {key_scope!r}")
    return key_id, key_scope


async def require_search(request: Request, key: str | None = Depends(_key_header),
                         bearer: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> str:
    return await _gate(request, key, bearer, "search")


async def search_gate(request: Request) -> str:
    """`require_search` for a route answered outside FastAPI's dependency solving
    (api/fast.py): the key and bearer read by the same security objects."""
    return await require_search(request, await _key_header(request), await _bearer(request))


async def require_admin(request: Request, key: str | None = Depends(_key_header),
                        bearer: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> str:
    return await _gate(request, key, bearer, "admin")


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field}}


def metered(request: Request, fn: Callable[[], T]) -> Callable[[], T]:
    """`fn`, charging the CPU time it takes (of the thread that runs it: waiting for the GIL
    or a core is not charged) to the caller's server-time budget (api/limits.py)."""
    limits: ClientLimits = request.app.state.client_limits
    client = limits.client_of(request.scope)
    return limits.metered(lambda: client, fn)


def alone(request: Request) -> bool:
    """True when `serve.expensive_inline_when_alone` holds and this request is the only one
    its process is answering: an expensive body then runs on the event loop (see the setting)."""
    in_flight = getattr(request.app.state, "in_flight", None)
    return (request.app.state.settings.serve.expensive_inline_when_alone
            and in_flight is not None and in_flight.n <= 1)


async def run_expensive(request: Request, fn: Callable[[], T], lane: str = "search",
                        inline: bool = True) -> T:
    """Run an expensive handler body on a worker thread, one at a time per process and
    `lane` (cold searches; recommendation misses): the event loop keeps answering cheap
    requests meanwhile (they share the GIL with it at the interpreter's switch interval
    instead of queueing behind it). A client may hold at most
    `serve.client_expensive_in_flight` places (running or queued); beyond, 429 (after a
    pause of up to `serve.tarpit_s`: no place, no CPU).

    With `serve.client_lane_burst_s` (the default), a client's expensive runs take the lane
    one at a time, in order, and each waits (asleep, outside the lane's queue) until the lane
    time the client's earlier runs held is repaid at its server-time rate: a client with cold
    work in flight waits behind every other client's, and its burst cannot keep the lane's
    thread — which takes the GIL from the event loop in 5 ms slices — busy.

    A request alone in its process runs `fn` on the loop (`alone`) unless `inline` is false
    (a long query: 100+ ms): nothing waits behind it and nothing contends for the GIL."""
    state = request.app.state
    limits: ClientLimits = state.client_limits
    client = limits.client_of(request.scope)
    lanes = getattr(state, "expensive_lanes", None)
    if lanes is None:
        lanes = state.expensive_lanes = {}
    limiter = lanes.get(lane)
    if limiter is None:
        limiter = lanes[lane] = anyio.CapacityLimiter(1)
    try:
        with limits.expensive(client):
            if inline and alone(request):
                if client is None or not limits.paces(client):
                    return fn()
                if limits.lane_wait_s(client) <= 0:  # a client in debt waits as below
                    return _lane_timed(fn, lambda held: limits.lane_held(client, held))()
            if client is None or not limits.paces(client):
                return await anyio.to_thread.run_sync(fn, limiter=limiter)
            async with _turn(state, lane, client):
                while (wait := limits.lane_wait_s(client)) > 0:
                    await anyio.sleep(wait)
                return await anyio.to_thread.run_sync(
                    _lane_timed(fn, lambda held: limits.lane_held(client, held)),
                    limiter=limiter)
    except Throttled as exc:  # only the place is refused: `fn` raises no Throttled
        # answered after a pause that costs no CPU: a flooder retrying at once would else
        # spin on instant 429s, and those took the event loop from the cheap requests
        # (benchmarks/README.md, Abuse)
        await anyio.sleep(min(exc.retry_s, state.settings.serve.tarpit_s))
        raise throttled(exc) from None


@contextlib.asynccontextmanager
async def _turn(state: Any, lane: str, client: str) -> AsyncIterator[None]:
    """`client`'s turn in `lane`: its expensive runs there go one at a time, first come first
    served (the lock is dropped once no run of the client waits on it)."""
    turns = getattr(state, "expensive_turns", None)
    if turns is None:
        turns = state.expensive_turns = {}
    key = (lane, client)
    entry = turns.get(key)
    if entry is None:
        entry = turns[key] = [anyio.Lock(), 0]
    entry[1] += 1
    try:
        async with entry[0]:
            yield
    finally:
        entry[1] -= 1
        if entry[1] == 0:
            del turns[key]


def _lane_timed(fn: Callable[[], T], held: Callable[[float], None]) -> Callable[[], T]:
    """`fn`, reporting the wall time it held the lane's thread (the lane's time, GIL waits
    included: that is what other clients' work waited for)."""
    def run() -> T:
        started = time.perf_counter()
        try:
            return fn()
        finally:
            held(time.perf_counter() - started)

    return run
