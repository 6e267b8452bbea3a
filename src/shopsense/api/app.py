"""HTTP service: `create_app(settings)` builds the FastAPI app over a data home."""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from shopsense import __version__
from shopsense.api import fast
from shopsense.api.deps import error_body
from shopsense.api.keys import KeyRing
from shopsense.api.limits import ClientLimits, RateLimiter
from shopsense.api.metrics import Metrics
from shopsense.api.openapi import install_openapi
from shopsense.api.routes import (
    assistant,
    data,
    discover,
    experiments,
    impressions,
    knowledge,
    mcp,
    shoppers,
)
from shopsense.config import Settings
from shopsense.pipeline.shop import InputError, Shop
from shopsense.pipeline.surfaces import NotReady
from shopsense.privacy.maintenance import PrivacyMaintenance, retention_status
from shopsense.web import install as install_web

log = logging.getLogger(__name__)


def create_app(settings: Settings, shop: Shop | None = None) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # handlers are CPU-bound Python: a few threads serve them as fast as forty, with
        # less GIL hand-over between requests in flight (serve.threads)
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.serve.threads
        before = gc.get_threshold()
        gc.set_threshold(*settings.serve.gc_thresholds)
        switch = sys.getswitchinterval()
        sys.setswitchinterval(settings.serve.gil_switch_interval_ms / 1000)
        # retention on its own schedule and erasures by other processes, in every serving
        # mode (a process with a StoreFollower hears erasures through it)
        app.state.privacy = PrivacyMaintenance(
            shop, follow_erasures=getattr(app.state, "follower", None) is None).start()
        try:
            yield
        finally:
            app.state.privacy.stop()
            gc.set_threshold(*before)
            sys.setswitchinterval(switch)

    app = FastAPI(title="shopsense", version=__version__, lifespan=lifespan,
                  description="Search, recommendations, events and feedback for one shop.")
    shop = shop if shop is not None else Shop(settings)
    app.state.settings = settings
    app.state.shop = shop
    app.state.metrics = Metrics()
    app.state.keyring = KeyRing(shop.store)
    app.state.limiter = RateLimiter(settings.serve.rate_limit_per_s)
    app.state.client_limits = ClientLimits.from_settings(settings.serve)
    if settings.serve.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.serve.cors_origins,
                           allow_methods=["*"], allow_headers=["*"])
    _install_middleware(app, settings)
    _install_errors(app)
    app.include_router(data.router)
    app.include_router(discover.router)
    app.include_router(assistant.router)
    app.include_router(impressions.router)
    app.include_router(experiments.router)
    app.include_router(shoppers.router)
    app.include_router(knowledge.router)
    mcp.install(app)  # /mcp for outside agents (when the mcp extra is installed)
    install_web(app)  # storefront /, dashboard /admin, /v1/admin analytics
    _install_health(app)
    install_openapi(app)
    if settings.serve.fast_routes:
        fast.install(app, [
            fast.Fast("/v1/search", discover.search, "p", query=discover.SearchParams),
            fast.Fast("/v1/recommend", discover.recommend, "p", query=discover.RecommendParams),
            fast.Fast("/v1/suggest", discover.suggest, "p", query=discover.SuggestParams),
            fast.Fast("/v1/events", data.post_events, "payload", body=data.EventsBody)])
    return app


def _install_middleware(app: FastAPI, settings: Settings) -> None:
    app.state.in_flight = InFlight()
    app.add_middleware(_Measure, limit=settings.serve.max_body_bytes,
                       in_flight=app.state.in_flight)


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, {"code": "too_large", "message": f"body over {limit} bytes",
                               "field": "body"})


class InFlight:
    """How many HTTP requests this process is answering now (`_Measure` counts them)."""

    def __init__(self) -> None:
        self.n = 0


class _Measure:
    """HEAD answered as GET (without the body), a body-size guard (the declared Content-Length,
    and the bytes as they stream in, for any transfer encoding), the last-resort error answer
    (an exception no handler took becomes a JSON 500: the connection is never dropped),
    per-route Prometheus counts and latency, an `X-Served-By` header naming the worker process
    and a `Server-Timing: app;dur=<ms>` header (the handler's time until the response
    started: what a client's latency has beyond it is queueing and transport). Plain ASGI: no
    extra task per request."""

    def __init__(self, app: Any, limit: int, in_flight: InFlight) -> None:
        self.app, self.limit, self.in_flight = app, limit, in_flight
        self.served_by = str(os.getpid()).encode()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "HEAD":  # answered as the GET (uptime checks, `curl -I`); the
            scope = {**scope, "method": "GET"}  # server's own scope says HEAD: no body is sent
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                body = error_body("too_large", f"body over {self.limit} bytes", "body")
                await JSONResponse(body, 413)(scope, receive, send)
                return
        start = time.perf_counter()
        status = [0]
        received = [0]

        async def receive_bounded() -> dict[str, Any]:
            message = await receive()
            if message["type"] == "http.request":
                received[0] += len(message.get("body", b""))
                if received[0] > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        async def send_measured(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                took = f"app;dur={1000 * (time.perf_counter() - start):.2f}".encode()
                message.setdefault("headers", []).extend(
                    ((b"x-served-by", self.served_by), (b"server-timing", took)))
            await send(message)

        self.in_flight.n += 1
        try:
            await self.app(scope, receive_bounded, send_measured)
        except Exception as exc:
            await self._last_resort(exc, status, scope, receive, send_measured)
        finally:
            self.in_flight.n -= 1
            self._account(scope, status[0] or 500, time.perf_counter() - start)

    async def _last_resort(self, exc: Exception, status: list[int], scope: dict[str, Any],
                           receive: Any, send: Any) -> None:
        if status[0]:  # the response had started: nothing can be said any more
            log.error("error after the response started on %s", scope.get("path"),
                      exc_info=exc)
            return
        if isinstance(exc, BodyTooLarge):
            body, code = {"error": exc.detail}, 413
        else:
            log.error("unhandled error on %s %s", scope.get("method"), scope.get("path"),
                      exc_info=exc)
            body, code = error_body("internal", "internal error (logged on the server)"), 500
        await JSONResponse(body, code)(scope, receive, send)

    @staticmethod
    def _account(scope: dict[str, Any], status: int, took: float) -> None:
        state = scope["app"].state
        name = getattr(scope.get("route"), "path", "unmatched")
        state.metrics.requests.labels(name, scope["method"], str(status)).inc()
        state.metrics.latency.labels(name, scope["method"]).observe(took)


_UNPARSED = "There was an error parsing the body"
_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large",
          415: "unsupported_media_type"}


def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(NotReady)
    async def not_ready(request: Request, exc: NotReady) -> JSONResponse:
        return JSONResponse(error_body("not_ready", str(exc)), 503, headers={"Retry-After": "5"})

    @app.exception_handler(InputError)
    async def input_error(request: Request, exc: InputError) -> JSONResponse:
        return JSONResponse(error_body("invalid", exc.reason, exc.field), 422)

    @app.exception_handler(UnicodeEncodeError)
    async def not_unicode(request: Request, exc: UnicodeEncodeError) -> JSONResponse:
        """A `\\ud800` escape in a free-form JSON body (no model checked its strings) reaches
        a write that cannot encode it: the caller's text, not a server fault."""
        if not any("\ud800" <= ch <= "\udfff" for ch in exc.object[exc.start:exc.end]):
            raise exc  # a genuine encoding fault: the last-resort 500
        return JSONResponse(error_body("invalid", "text that is not valid Unicode (a lone "
                                       "surrogate such as \\ud800)", "body"), 422)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = _first_error(exc.errors())
        if first.get("type") == "json_invalid":
            reason = (first.get("ctx") or {}).get("error", "")
            return JSONResponse(error_body("bad_json", f"the body is not valid JSON ({reason})",
                                           "body"), 400)
        return JSONResponse(error_body("invalid", str(first.get("msg")),
                                       _field(first.get("loc", ()))), 422)

    @app.exception_handler(StarletteHTTPException)  # fastapi's HTTPException and routing's
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, dict) else {
            "code": _CODES.get(exc.status_code, "error"), "message": str(exc.detail),
            "field": None}
        if exc.status_code == 400 and exc.detail == _UNPARSED:  # FastAPI's, for what
            detail = {"code": "bad_json", "field": "body",  # json.loads raised beyond syntax
                      "message": "the body could not be parsed as JSON (nested too deeply, "
                                 "or a number too long to convert)"}
        return JSONResponse({"error": detail}, exc.status_code, headers=exc.headers)


def _first_error(errors: Any) -> dict[str, Any]:
    """The error to answer: the first one, except that a body taking one object or a list
    (events, impressions) fails both union branches, and the branch whose type did not match
    the input ("should be a valid dictionary" for a list) says nothing useful."""
    def wrong_branch(error: dict[str, Any]) -> bool:
        loc = error.get("loc", ())
        return (str(error.get("type", "")).endswith("_type") and bool(loc)
                and _is_tag(loc[-1]))

    useful = [e for e in errors if not wrong_branch(e)] or list(errors)
    return useful[0] if useful else {"loc": ["body"], "msg": "invalid"}


def _is_tag(part: Any) -> bool:
    return isinstance(part, str) and ("[" in part or part[:1].isupper())


def _field(loc: Any) -> str | None:
    """A pydantic error location as the API names fields: `[1].timestamp`, `k`. Union and
    model tags (`EventIn`, `list[EventIn]`) and the request part (`body`, `query`) are
    dropped."""
    parts: list[str] = []
    for index, part in enumerate(loc):
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif not ((index == 0 and part in ("body", "query", "path", "header", "cookie"))
                  or _is_tag(part)):  # a field may well be called `query`
            parts.append(("." if parts else "") + part)
    return "".join(parts) or None


def _install_health(app: FastAPI) -> None:
    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/readyz", tags=["ops"])
    def readyz(request: Request) -> JSONResponse:
        shop: Shop = request.app.state.shop
        models = shop.models
        ready = models.search is not None and models.recs is not None
        body = {"ready": ready, "models": models.version, "products": len(shop.products),
                "warmed_queries": dict(getattr(models.search, "warmed_", {})),
                "warmed_shoppers": dict(models.info.get("warmed_shoppers", {})),
                "warmed_query_vectors": dict(getattr(models.search, "warmed_vectors_", {})),
                "warming": models.info.get("warming", "running" if ready else "none"),
                "retention": retention_status(shop.store)}
        recomputer = getattr(request.app.state, "recomputer", None)
        if recomputer is not None:  # for-you lists recomputed or shared (pipeline/recompute)
            body["recomputed_lists"] = recomputer.stats()
        return JSONResponse(body, 200 if ready else 503)

    @app.get("/metrics", tags=["ops"])
    def metrics(request: Request) -> Response:
        shop: Shop = request.app.state.shop
        caches = {"answers": shop.answers.stats()}
        if shop.models.search is not None:
            caches["search_stages"] = shop.models.search.stages_.stats()
        request.app.state.metrics.observe_caches(caches)
        return Response(request.app.state.metrics.render(),
                        media_type="text/plain; version=0.0.4")
