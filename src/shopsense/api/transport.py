"""The HTTP/1.1 transport under the app: uvicorn's h11 protocol, answering what fails before
a request reaches the app in the documented error shape instead of uvicorn's plain text.

What uvicorn answers itself, and so never reaches an exception handler or middleware:
- a request line or header h11 cannot parse (a bad method, a target with a space or a byte
  outside printable ASCII, a header without a colon, a bad name, a NUL in a value, two
  Content-Lengths, a bad chunk size, a missing Host in HTTP/1.1, a TLS hello on the plain
  port): 400 `bad_request`, the message naming h11's reason;
- a request head (request line and headers) over `HEADER_LIMIT` bytes: 431
  `headers_too_large`, field `headers`. h11's own limit counts only a head still
  incomplete after a read, so a 60 KB head arriving in one read passed it: the head is
  measured here as it arrives.

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
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_LIMIT = 16 * 1024  # bytes of request line + headers (h11's default; stated here)
PROTOCOL = "shopsense.api.transport:JsonErrorsH11Protocol"
_REASONS = {400: b"Bad Request", 431: b"Request Header Fields Too Large"}


def server_options() -> dict[str, Any]:
    """The uvicorn options every serving mode uses (`uvicorn.run(app, ..., **these)`)."""
    return {"http": PROTOCOL, "h11_max_incomplete_event_size": HEADER_LIMIT}


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
                self._answer(431, _error("headers_too_large", "the request line and headers "
                                         f"are over {HEADER_LIMIT} bytes", "headers"))
                return
        super().data_received(data)

    def send_400_response(self, msg: str) -> None:
        exc = self._protocol_error
        status = getattr(exc, "error_status_hint", 400) if exc is not None else 400
        if status == 431:
            body = _error("headers_too_large", f"the request line and headers are over "
                          f"{HEADER_LIMIT} bytes", "headers")
        else:
            status = 400
            detail = str(exc) if exc is not None and str(exc) else "malformed"
            body = _error("bad_request", f"invalid HTTP request ({detail})")
        self._answer(status, body)

    def _answer(self, status: int, body: bytes) -> None:
        """A whole response on the wire, then close; if a response has begun, only close.
        Written directly: h11 sends no response to a request it has not parsed."""
        if self.conn.our_state in (h11.IDLE, h11.SEND_RESPONSE, h11.ERROR):
            self.transport.write(
                b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d"
                b"\r\nconnection: close\r\n\r\n%s" % (status, _REASONS[status], len(body), body))
        self.transport.close()
