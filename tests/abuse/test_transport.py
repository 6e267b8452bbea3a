"""The body limit and the error answers over a real HTTP server on loopback (uvicorn, as
`shopsense serve` runs it): chunked bodies are cut off at the limit while they stream, and a
request that fails answers JSON on a connection that stays open (issue #15, items 8, 10);
what uvicorn answers before the app (a malformed request line or header, an oversized head,
a non-ASCII target) answers the same JSON shape and closes (api/transport.py)."""

from __future__ import annotations

import json
import select
import socket
import threading
import time

import httpx
import pytest
import uvicorn

from shopsense.api.app import create_app
from shopsense.api.keys import create_key
from shopsense.api.transport import HEADER_LIMIT, server_options
from shopsense.config import ServeSettings, Settings
from shopsense.pipeline.shop import Shop

LIMIT = 200_000


@pytest.fixture(scope="module", params=["httptools", "h11"])
def server(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest):
    """Each test runs against both parsers `serve.http_parser` offers."""
    home = tmp_path_factory.mktemp("transport")
    settings = Settings(home=home, serve=ServeSettings(max_body_bytes=LIMIT))
    shop = Shop(settings)
    key = create_key(shop.store, "search")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(create_app(settings, shop), host="127.0.0.1", port=port,
                            log_level="error", **server_options(request.param))  # as `serve`
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", port, key
    srv.should_exit = True
    thread.join(10)


def _read_response(sock: socket.socket, timeout: float = 10.0) -> tuple[int, dict]:
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, rest = data.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length")))
    while len(rest) < length:
        rest += sock.recv(65536)
    return int(head.split(b" ")[1]), json.loads(rest[:length])


def test_a_chunked_body_over_the_limit_is_refused_while_it_streams(server) -> None:
    _, port, key = server
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"X-API-Key: " + key.encode() + b"\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"[" + b" " * 65_535
        sent = 0
        # a little over the limit and no terminating chunk: a server that buffers the whole
        # body before looking would wait here for ever (the read below would time out)
        while sent <= LIMIT + 65_536:
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
            chunk = b" " * 65_536
        status, body = _read_response(sock)
    assert status == 413
    assert body["error"] == {"code": "too_large", "message": f"body over {LIMIT} bytes",
                             "field": "body"}


def test_a_declared_length_over_the_limit_is_refused_before_reading(server) -> None:
    _, port, key = server
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n"
                     b"X-API-Key: " + key.encode() + b"\r\n\r\n")
        status, body = _read_response(sock)
    assert status == 413 and body["error"]["code"] == "too_large"


def test_a_chunked_body_under_the_limit_is_read(server) -> None:
    base, _, key = server

    def parts():
        yield b'{"user_id": "u1", "item_id": "p1", '
        yield b'"event_type": "view"}'

    response = httpx.post(base + "/v1/events", content=parts(),
                          headers={"X-API-Key": key, "content-type": "application/json"})
    assert response.status_code == 200 and response.json()["accepted"] == 1


@pytest.mark.parametrize("path", ["/static/x%00", "/static/%00/x",
                                  "/v1/items/%00", "/v1/items/..%2F..%2Fetc%2Fpasswd",
                                  "/static/" + "%ff" * 40])
def test_odd_paths_answer_json_on_a_connection_that_stays_open(server, path) -> None:
    base, _, key = server
    with httpx.Client(base_url=base, headers={"X-API-Key": key}) as client:
        first = client.get(path)
        assert first.status_code in (400, 404), first.text
        assert set(first.json()["error"]) == {"code", "message", "field"}
        again = client.get("/healthz")  # the same keep-alive connection
        assert again.status_code == 200


def test_huge_integers_answer_422_on_a_connection_that_stays_open(server) -> None:
    base, _, key = server
    body = b'{"surface": "search", "items": ["p1"], "total": 100000000000000000000, ' \
           b'"session_id": "s1"}'
    with httpx.Client(base_url=base, headers={"X-API-Key": key}) as client:
        response = client.post("/web/impressions", content=body,
                               headers={"content-type": "application/json"})
        assert response.status_code == 422 and response.json()["error"]["field"] == "total"
        assert client.get("/healthz").status_code == 200


def _raw(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are; the status, headers and the whole body (read to the close)."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.settimeout(10)
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):  # the server closes after a framing error
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return int(lines[0].split(" ")[1]), headers, body


MALFORMED = {
    "bad request line": b"GARBAGE\r\n\r\n",
    "no version": b"GET /healthz\r\nHost: x\r\n\r\n",
    "space in the target": b"GET /a b HTTP/1.1\r\nHost: x\r\n\r\n",
    "bad method": b"G(T / HTTP/1.1\r\nHost: x\r\n\r\n",
    "header without a colon": b"GET /healthz HTTP/1.1\r\nHost: x\r\nbroken header\r\n\r\n",
    "bad header name": b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n",
    "NUL in a value": b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n",
    "non-ASCII target": b"GET /v1/items/\xe7\xa9\xba HTTP/1.1\r\nHost: x\r\n\r\n",
    "two content lengths": b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
                           b"Content-Length: 2\r\n\r\nab",
    "bad chunk size": b"POST /v1/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                      b"\r\nzz\r\n{}\r\n0\r\n\r\n",
    "no host in HTTP/1.1": b"GET /healthz HTTP/1.1\r\n\r\n",
    "a TLS hello on the plain port": bytes.fromhex("160301020001000200000303") + b"\r\n\r\n",
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_http_is_answered_in_the_documented_json_shape(server, name: str) -> None:
    _, port, _ = server
    status, headers, body = _raw(port, MALFORMED[name])
    assert status == 400, (name, body)
    assert headers["content-type"] == "application/json" and headers["connection"] == "close"
    error = json.loads(body)["error"]
    assert error["code"] == "bad_request" and error["message"].startswith("invalid HTTP request")
    assert set(error) == {"code", "message", "field"}


def test_oversized_headers_are_431_in_the_documented_json_shape(server) -> None:
    _, port, key = server
    huge = b"X-Padding: " + b"a" * (HEADER_LIMIT + 1024) + b"\r\n"
    status, headers, body = _raw(port, b"GET /v1/items/p1 HTTP/1.1\r\nHost: x\r\nX-API-Key: "
                                 + key.encode() + b"\r\n" + huge + b"\r\n")
    assert status == 431 and headers["content-type"] == "application/json"
    assert json.loads(body)["error"] == {"code": "headers_too_large", "field": "headers",
                                         "message": f"the request line and headers are over "
                                                    f"{HEADER_LIMIT} bytes"}
    many = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 60) for i in range(400))  # many small ones
    status, _, body = _raw(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
    assert status == 431 and json.loads(body)["error"]["code"] == "headers_too_large"
    with socket.create_connection(("127.0.0.1", port)) as sock:  # dribbled a byte at a time
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        for _ in range(HEADER_LIMIT // 1024 + 2):
            if select.select([sock], [], [], 0.05)[0]:  # answered: stop sending
                break
            sock.sendall(b"s" * 1024)
        sock.settimeout(10)
        reply = sock.recv(65536)
        assert reply.startswith(b"HTTP/1.1 431 ") and b"headers_too_large" in reply
    # a head just under the limit is served
    fits = b"X-Padding: " + b"a" * (HEADER_LIMIT - 200) + b"\r\n"
    status, _, _ = _raw(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                        + fits + b"\r\n")
    assert status == 200


def test_a_well_formed_request_after_the_errors_is_served(server) -> None:
    """A framing error closes only its own connection."""
    base, port, _ = server
    _raw(port, MALFORMED["bad request line"])
    assert httpx.get(base + "/healthz").status_code == 200


def test_head_is_answered_as_get_without_a_body(server) -> None:
    """HEAD (uptime checks, `curl -I`) answers what GET would, headers only: the next response
    on the same keep-alive connection starts right after them."""
    base, port, key = server
    for path, auth, status in [("/healthz", b"", 200),
                               ("/v1/items/nope", b"X-API-Key: " + key.encode() + b"\r\n", 404),
                               ("/v1/items/nope", b"", 401),
                               ("/v1/events", b"X-API-Key: " + key.encode() + b"\r\n", 405)]:
        get = httpx.get(base + path, headers={"X-API-Key": key} if auth else {})
        assert get.status_code == status, (path, get.text)
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.settimeout(10)
            sock.sendall(b"HEAD " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n" + auth + b"\r\n"
                         + b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 %d " % status), (path, head)
        headers = dict(line.lower().split(": ", 1)
                       for line in head.decode("latin-1").split("\r\n")[1:])
        assert int(headers["content-length"]) == len(get.content)  # GET's length, no body
        assert rest.startswith(b"HTTP/1.1 200 "), (path, rest[:80])  # the next response
