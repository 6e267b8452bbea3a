"""A real OpenAI-compatible HTTP server on loopback (`POST /v1/chat/completions`, the OpenAI
wire format with `tools` / `tool_calls` / `role: tool`) whose "model" is a small
deterministic tool-calling policy, for the agent-mode tests. Not a language model: it picks
a tool from keywords, then writes the reply from the tool's JSON. Modes (the request's
`model`): honest, liar (swaps two prices), invent (adds free shipping), loop (never
answers), slow (sleeps past the budget), broken (HTTP 500)."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

POLICY_WORDS = ("退货", "退款", "发货", "包邮", "运费", "保修", "发票", "付款", "客服", "return",
                "refund", "ship", "warranty", "invoice", "pay", "hours", "delivery")
ORDINALS = {"第一": 1, "第二": 2, "第三": 3, "first": 1, "second": 2, "third": 3}
calls: list[dict[str, Any]] = []  # every request body seen (for assertions)


def _price(value: float, zh: bool) -> str:
    number = str(int(value)) if float(value).is_integer() else f"{value:.2f}".rstrip("0")
    return f"{number}元" if zh else f"CNY {number}"


def _tool_call(name: str, args: dict[str, Any], n: int) -> dict[str, Any]:
    return {"role": "assistant", "content": None, "tool_calls": [
        {"id": f"call_{n}", "type": "function",
         "function": {"name": name, "arguments": json.dumps(args, ensure_ascii=False)}}]}


def _plan(messages: list[dict[str, Any]], mode: str) -> dict[str, Any]:
    zh = "Chinese" in messages[0]["content"]
    last = messages[-1]
    if last["role"] == "user" or mode == "loop":
        text = next(m["content"] for m in reversed(messages) if m["role"] == "user")
        shown = re.findall(r"^\d+\. (\S+):", messages[1]["content"], re.M)
        if any(w in text.lower() for w in POLICY_WORDS):
            return _tool_call("knowledge", {"question": text, "language": "zh" if zh else "en"},
                              len(messages))
        for word, n in ORDINALS.items():
            if word in text.lower() and len(shown) >= n:
                return _tool_call("get_item", {"item_id": shown[n - 1]}, len(messages))
        return _tool_call("search", {"query": text, "k": 5}, len(messages))
    return {"role": "assistant", "content": _write(json.loads(last["content"]), zh, mode)}


def _write(result: dict[str, Any], zh: bool, mode: str) -> str:
    if "passage" in result:
        p = result["passage"]
        if p is None:
            return ("政策文档里没有这个答案。" if zh else "Our documents do not say. ") + \
                (result.get("contact") or "")
        return f"“{p['text']}” [1]"
    items = result.get("items") or ([result] if "title" in result else [])
    if not items:
        return "没有找到。" if zh else "Nothing found."
    prices = [i["price"] for i in items]
    if mode == "liar" and len(prices) >= 2:
        prices[0], prices[1] = prices[1], prices[0]
    lines = [f"{n}. {i['title']} — {_price(p, zh)}" for n, (i, p) in
             enumerate(zip(items, prices, strict=True), 1)]
    if mode == "invent":
        lines.append("全部包邮。" if zh else "All with free shipping.")
    return "\n".join(lines)


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        calls.append(body)
        mode = body.get("model", "honest")
        if not self.path.endswith("/chat/completions") or not body.get("tools"):
            return self._send(400, {"error": {"message": "expected tools"}})
        if mode == "broken":
            return self._send(500, {"error": {"message": "model crashed"}})
        if mode == "slow":
            time.sleep(3)
        message = _plan(body["messages"], mode)
        finish = "tool_calls" if message.get("tool_calls") else "stop"
        self._send(200, {"id": "chatcmpl-test", "object": "chat.completion",
                         "created": int(time.time()), "model": mode,
                         "choices": [{"index": 0, "message": message, "finish_reason": finish}]})

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def free_port(low: int = 8190, high: int = 8199) -> int:
    for port in range(low, high + 1):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError(f"no free port in {low}-{high}")


@contextmanager
def serve() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
