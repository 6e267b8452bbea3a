"""The HTTP/1.1 transport under the app: uvicorn's httptools protocol (llhttp, the parser
of Node.js, in C), answering what fails before a request reaches the app in the documented
error shape instead of uvicorn's plain text.

Why httptools and not h11 (pure Python, uvicorn's other parser): on the demo store h11 cost
1.42-1.51 ms of server CPU a `/healthz` and 3.18-4.13 ms a cached search, httptools
1.00-1.04 and 2.38-2.68 (`python benchmarks/serve_parser.py`, two rounds each, quiet
machine; benchmarks/README.md "Service"): at 300 requests a second, a tenth of a core or
more. `JsonErrorsH11Protocol` stays for `serve.http_parser = "h11"`.

What uvicorn answers itself, and so never reaches an exception handler or middleware:
- a request line or header the parser refuses (a bad method, a target with a space or a
  byte outside printable ASCII, a header without a colon, a bad name, a NUL in a value, two
  Content-Lengths, a bad chunk size, a missing Host in HTTP/1.1, a TLS hello on the plain
  port): 400 `bad_request`, the message naming the parser's reason;
- a request head (request line and headers) over `HEADER_LIMIT` bytes: 431
  `headers_too_large`, field `headers`, measured here as it arrives (neither parser
  bounds a head that arrives in one read).

Each answer is JSON `{"error": {"code", "message", "field"}}` with `Connection: close` (the
byte stream cannot be trusted past a framing error). Reached by passing `server_options()`
to uvicorn, as `shopsense serve` (single, workers, replica) does.

An app that raises is answered JSON 500 by the app's own last-resort middleware
(api/app.py `_Measure`) before uvicorn's plain-text 500 could be. Not answerable: a peer
that closes mid-request.
"""

from __future__ import annotations

import json
from typing import Any

import h11
import httptools
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEADER_LIMIT = 16 * 1024  # bytes of request line + headers (h11's default; stated here)
PROTOCOLS = {"httptools": "shopsense.api.transport:JsonErrorsHttpToolsProtocol",
             "h11": "shopsense.api.transport:JsonErrorsH11Protocol"}
_REASONS = {400: b"Bad Request", 431: b"Request Header Fields Too Large"}


def server_options(parser: str = "httptools") -> dict[str, Any]:
    """The uvicorn options every serving mode uses (`uvicorn.run(app, ..., **these)`);
    `parser` is `serve.http_parser`."""
    return {"http": PROTOCOLS[parser], "h11_max_incomplete_event_size": HEADER_LIMIT}


def _error(code: str, message: str, field: str | None = None) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, "field": field}}).encode()


class JsonErrorsH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with JSON error answers (see the module doc)."""

    _protocol_error: h11.RemoteProtocolError | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        next_event = self.conn.next_event

        def recorded() -> Any:  # which error h11 raised: uvicorn's handler drops it
            try:
                return next_event()
            except h11.RemoteProtocolError as exc:
                self._protocol_error = exc
                raise

        self.conn.next_event = recorded  # type: ignore[method-assign]

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE:  # a request head is arriving: measure it
            buffered = self.conn.trailing_data[0] + data
            end = buffered.find(b"\r\n\r\n")
            if (end if end >= 0 else len(buffered)) > HEADER_LIMIT:
                self._answer(431, _too_large())
                return
        super().data_received(data)

    def send_400_response(self, msg: str) -> None:
        exc = self._protocol_error
        status = getattr(exc, "error_status_hint", 400) if exc is not None else 400
        if status == 431:
            body = _too_large()
        else:
            status = 400
            detail = str(exc) if exc is not None and str(exc) else "malformed"
            body = _error("bad_request", f"invalid HTTP request ({detail})")
        self._answer(status, body)

    def _answer(self, status: int, body: bytes) -> None:
        """A whole response on the wire, then close; if a response has begun, only close.
        Written directly: h11 sends no response to a request it has not parsed."""
        if self.conn.our_state in (h11.IDLE, h11.SEND_RESPONSE, h11.ERROR):
            _write_answer(self.transport, status, body)
        self.transport.close()


class _HeadTooLarge(Exception):
    pass


class JsonErrorsHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with JSON error answers (see the module doc)."""

    _head_bytes = 0  # of the head being received; -1 once it is complete (a body follows)

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        if self._head_bytes >= 0:
            self._head_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            super().data_received(b"")  # uvicorn's own upgrade handling (websockets: none)
            return
        except httptools.HttpParserError as exc:
            cause = exc.__context__ or exc.__cause__
            if isinstance(cause, _HeadTooLarge):
                self._answer(431, _too_large())
            else:
                self._answer(400, _error("bad_request", f"invalid HTTP request "
                                         f"({_reason(exc, cause)})"))
            return
        if self._head_bytes > HEADER_LIMIT:  # still no end of the head after this read
            self._answer(431, _too_large())

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = max(self._head_bytes, 0)

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        self._check_head()

    def on_header(self, name: bytes, value: bytes) -> None:
        super().on_header(name, value)
        self._check_head()

    def _check_head(self) -> None:
        size = len(self.url) + sum(len(n) + len(v) + 4 for n, v in self.headers)
        if size > HEADER_LIMIT:
            raise _HeadTooLarge

    def on_headers_complete(self) -> None:
        version = self.parser.get_http_version()
        if version not in ("1.0", "1.1"):  # llhttp reads a request line without one as 0.9
            raise ValueError(f"unsupported HTTP version {version!r}")
        if version == "1.1" and not any(name == b"host" for name, _ in self.headers):
            raise ValueError("missing required Host header")  # as h11 (RFC 9112 3.2)
        super().on_headers_complete()
        self._head_bytes = -1

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._head_bytes = 0  # the next request's head starts

    def send_400_response(self, msg: str) -> None:
        self._answer(400, _error("bad_request", f"invalid HTTP request ({msg})"))

    def _answer(self, status: int, body: bytes) -> None:
        _write_answer(self.transport, status, body)
        self.transport.close()


def _write_answer(transport: Any, status: int, body: bytes) -> None:
    """A whole JSON response that closes the connection, written under the parser."""
    transport.write(
        b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d"
        b"\r\nconnection: close\r\n\r\n%s" % (status, _REASONS[status], len(body), body))


def _too_large() -> bytes:
    return _error("headers_too_large", f"the request line and headers are over "
                  f"{HEADER_LIMIT} bytes", "headers")


def _reason(exc: Exception, cause: BaseException | None) -> str:
    if isinstance(cause, UnicodeDecodeError):
        return "a byte outside ASCII in the target"
    return str(cause or exc) or "malformed"
