"""Rate limits: token buckets per key, per client address, per shopper; failed-auth
throttling; and a budget of server time per client (in process; Redis-backed per key when
scaled out).

A client is its address (the peer, or the last hop of `X-Forwarded-For` when the peer is a
listed trusted proxy). Every request from it spends one token of its address bucket; every
millisecond of CPU its searches take (api/deps.py `metered`) is charged to its time budget,
so one client sending expensive searches runs out of budget long before cheap clients
notice; a failed authentication spends a token of the address's failure bucket, and while
that bucket is empty the address is answered 429 before its key is even looked at.

A shopper is the verified subject of a shopper token (api/deps.py `token_actor`), never a
raw `user=` parameter: a caller rotating that would get a fresh bucket each time. A request
without a valid token is limited by its address (and key) only.
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class RateLimiter:
    def __init__(self, rate_per_s: float, burst: float | None = None,
                 max_keys: int = 100_000) -> None:
        if rate_per_s <= 0:
            raise ValueError("rate_per_s must be > 0")
        self.rate = rate_per_s
        self.burst = burst if burst is not None else 2 * rate_per_s
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, cost: float = 1.0) -> tuple[bool, float]:
        """(allowed, seconds until a token is available)."""
        now = time.monotonic()
        with self._lock:
            tokens = self._tokens(key, now)
            if tokens >= cost:
                self._buckets[key] = (tokens - cost, now)
                return True, 0.0
            self._buckets[key] = (tokens, now)
            return False, (cost - tokens) / self.rate

    def charge(self, key: str, cost: float) -> None:
        """Spend `cost` tokens after the fact (the bucket may go negative: a debt)."""
        now = time.monotonic()
        with self._lock:
            self._buckets[key] = (self._tokens(key, now) - cost, now)

    def wait_s(self, key: str, need: float = 1.0) -> float:
        """Seconds until the bucket holds `need` tokens (0: it does now); spends nothing."""
        with self._lock:
            tokens = self._tokens(key, time.monotonic())
        return 0.0 if tokens >= need else (need - tokens) / self.rate

    def _tokens(self, key: str, now: float) -> float:
        tokens, last = self._buckets.get(key, (self.burst, now))
        if key not in self._buckets and len(self._buckets) >= self.max_keys:
            self._evict(now)
        return min(self.burst, tokens + (now - last) * self.rate)

    def _evict(self, now: float) -> None:
        """Drop buckets that have refilled (they hold no state a fresh one would not)."""
        full = [k for k, (tokens, last) in self._buckets.items()
                if tokens + (now - last) * self.rate >= self.burst]
        for key in full or list(self._buckets)[: len(self._buckets) // 2]:
            del self._buckets[key]


class Throttled(Exception):
    """A limit is exhausted: answer 429 with `Retry-After`."""

    def __init__(self, message: str, retry_s: float, field: str | None = None) -> None:
        super().__init__(message)
        self.message, self.retry_s, self.field = message, retry_s, field


@dataclass
class ClientLimits:
    """The per-client limits of one serving process (see the module docstring)."""

    per_client: RateLimiter | None
    per_shopper: RateLimiter | None
    auth_failures: RateLimiter
    server_time: RateLimiter | None
    lane_time: RateLimiter | None = None  # the expensive lane's time each client's work held
    trusted_proxies: tuple[Any, ...] = ()
    expensive_in_flight: int = 0  # 0: no cap
    _in_flight: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_settings(cls, serve: Any) -> ClientLimits:
        def bucket(rate: float, burst_s: float = 2.0) -> RateLimiter | None:
            return RateLimiter(rate, burst_s * rate) if rate > 0 else None

        return cls(per_client=bucket(serve.client_rate_limit_per_s),
                   per_shopper=bucket(serve.shopper_rate_limit_per_s),
                   auth_failures=RateLimiter(serve.auth_failures_per_s,
                                             max(1.0, serve.auth_failure_burst)),
                   server_time=bucket(serve.client_server_ms_per_s / 1000.0,
                                      serve.client_server_burst_s),
                   lane_time=(bucket(serve.client_server_ms_per_s / 1000.0,
                                     serve.client_lane_burst_s)
                              if serve.client_lane_burst_s > 0 else None),
                   trusted_proxies=tuple(ipaddress.ip_network(p, strict=False)
                                         for p in serve.trusted_proxies),
                   expensive_in_flight=serve.client_expensive_in_flight)

    def client_of(self, scope: dict[str, Any]) -> str | None:
        """The client's address; None for a peer without one (a unix socket, an in-process
        test transport): such a peer is not limited per address, since every client behind
        it would share one bucket."""
        peer = (scope.get("client") or ("", 0))[0]
        if self.trusted_proxies and _in(peer, self.trusted_proxies):
            for name, value in scope.get("headers", ()):
                if name == b"x-forwarded-for":
                    hop = value.decode("latin-1").split(",")[-1].strip()
                    return hop or peer
        return peer if _is_address(peer) else None

    def before_auth(self, client: str | None) -> None:
        wait = self.auth_failures.wait_s(client) if client else 0.0
        if wait > 0:
            raise Throttled("too many failed authentications from this address", wait)

    def auth_failed(self, client: str | None) -> None:
        if client:
            self.auth_failures.allow(client)

    def admit(self, client: str | None, shopper: str | None) -> None:
        """Spend one request of the client's and the shopper's buckets (`shopper`: a verified
        token's pseudonym); check the client's server-time budget (charged after each
        request by `spent`)."""
        if client and self.server_time is not None:
            wait = self.server_time.wait_s(client, 0.0)
            if wait > 0:
                raise Throttled("this client has used its share of server time", wait)
        if client and self.per_client is not None:
            ok, wait = self.per_client.allow(client)
            if not ok:
                raise Throttled("too many requests from this address", wait)
        if shopper and self.per_shopper is not None:
            ok, wait = self.per_shopper.allow(shopper)
            if not ok:
                raise Throttled("too many requests for this shopper", wait, "X-Shopper-Token")

    @contextlib.contextmanager
    def expensive(self, client: str | None) -> Iterator[None]:
        """A place for one expensive request of `client` (running or queued): over the cap,
        Throttled, so a flooding client cannot fill the expensive queue and every
        other client's expensive request waits behind at most the cap of each client."""
        if not client or self.expensive_in_flight <= 0:
            yield
            return
        with self._lock:
            held = self._in_flight.get(client, 0)
            if held >= self.expensive_in_flight:
                raise Throttled(f"this client already has {held} expensive searches in "
                                "flight", 1.0)
            self._in_flight[client] = held + 1
        try:
            yield
        finally:
            with self._lock:
                left = self._in_flight[client] - 1
                if left:
                    self._in_flight[client] = left
                else:
                    del self._in_flight[client]

    def paces(self, client: str | None) -> bool:
        """Whether `client`'s expensive work is paced in the lane (`lane_wait_s`)."""
        return bool(client) and self.lane_time is not None

    def lane_wait_s(self, client: str) -> float:
        """Seconds `client` must wait before its next expensive run takes the lane (0: now):
        until the lane time its earlier runs held is repaid down to the burst."""
        return self.lane_time.wait_s(client, 0.0) if self.lane_time is not None else 0.0

    def lane_held(self, client: str, seconds: float) -> None:
        if self.lane_time is not None:
            self.lane_time.charge(client, seconds)

    def spent(self, client: str | None, seconds: float) -> None:
        if client and self.server_time is not None:
            self.server_time.charge(client, seconds)

    def metered(self, client: Callable[[], str | None], fn: Callable[P, T]) -> Callable[P, T]:
        """`fn`, charging the CPU time it takes (of the thread that runs it: waiting for the
        GIL or a core is not charged) to the server-time budget of `client()` (asked when
        the call ends: an MCP tool learns its caller from the request's context)."""
        @functools.wraps(fn)
        def run(*args: P.args, **kwargs: P.kwargs) -> T:
            started = time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.spent(client(), time.thread_time() - started)

        return run


def _is_address(peer: str) -> bool:
    try:
        ipaddress.ip_address(peer)
    except ValueError:
        return False
    return True


def _in(address: str, networks: tuple[Any, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)
