"""A tiny OpenAI-style server for what a real one will not do on demand: refuse a key, say it
is busy, cut a stream off mid-answer, send reasoning fields and usage, report its context."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

GOOD_KEY = "edge-key"
N_CTX = 256

# model id -> what the server does with a chat request for it
MODELS = ("plain", "reasoner", "busy", "cut-off", "broken", "thinker")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: EdgeServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's name
        pass

    def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _authorised(self) -> bool:
        if self.headers.get("Authorization") == f"Bearer {GOOD_KEY}":
            return True
        self._json(401, {"error": {"message": "Invalid API key", "type": "auth"}})
        return False

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def do_GET(self) -> None:  # noqa: N802 - stdlib's name
        if not self._authorised():
            return
        if self.path == "/v1/models":
            self._json(200, {"object": "list", "data": [
                {"id": m, "object": "model", "meta": {"n_ctx_train": 4096}} for m in MODELS]})
        elif self.path == "/props":
            self._json(200, {"default_generation_settings": {"n_ctx": N_CTX}})
        else:
            self._json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:  # noqa: N802 - stdlib's name
        if not self._authorised():
            return
        body = self._body()
        if self.path == "/apply-template":
            # One line per message, so the token count below is easy to follow.
            prompt = "".join(f"<{m['role']}> {m['content']}\n" for m in body["messages"])
            self._json(200, {"prompt": prompt})
        elif self.path == "/tokenize":
            self._json(200, {"tokens": list(range(len(body["content"].split())))})
        elif self.path == "/v1/embeddings":
            # Out of order and not unit length, as some servers send them.
            rows = [{"index": i, "embedding": [float(len(t)), 0.0, 2.0]}
                    for i, t in enumerate(body["input"])]
            self._json(200, {"data": rows[::-1]})
        elif self.path == "/v1/chat/completions":
            self.server.requests.append(body)
            self._chat(body)
        else:
            self._json(404, {"error": {"message": "not found"}})

    def _chat(self, body: dict[str, Any]) -> None:
        model = body.get("model")
        if model == "busy":
            self._json(429, {"error": {"message": "too many requests"}}, {"Retry-After": "7"})
            return
        if model not in MODELS:
            self._json(404, {"error": {"message": f"model {model} not found"}})
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if model == "reasoner":
            deltas = [{"reasoning_content": "The user asks "}, {"reasoning_content": "about France."},
                      {"content": "Paris"}, {"content": " it is."}]
        elif model == "thinker":
            deltas = [{"content": "<think>Fr"}, {"content": "ance...</th"}, {"content": "ink>Paris"}]
        else:
            deltas = [{"content": "Par"}, {"content": "is"}, {"content": " is"}]
        for delta in deltas:
            self._event({"choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
        if model == "cut-off":
            self.wfile.flush()
            self.connection.shutdown(2)  # the connection drops: no finish_reason, no [DONE]
            self.close_connection = True
            return
        if model == "broken":
            self._event({"error": {"message": "the GPU fell off the bus"}})
        self._event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        self._event({"choices": [], "usage": {"prompt_tokens": 42, "completion_tokens": 3,
                                              "total_tokens": 45}})
        self._chunk(b"data: [DONE]\n\n")
        self._chunk(b"")

    def _event(self, data: dict[str, Any]) -> None:
        self._chunk(b"data: " + json.dumps(data).encode() + b"\n\n")

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()


class EdgeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[dict[str, Any]] = []
        self.thread = threading.Thread(target=self.serve_forever, name="edge-server", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def __enter__(self) -> EdgeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
        self.thread.join(5)
