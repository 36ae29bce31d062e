"""Plain HTTP to an OpenAI-compatible server, with failures turned into EngineErrors.

The standard library's http.client, because Stop must cut a stream at once from another
thread: shutting the socket down wakes the reading thread immediately, whatever it waits on.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from desktop.engine.api import EngineError

CONNECT_TIMEOUT = 10.0  # seconds to reach a server
LIST_TIMEOUT = 3.0  # listing models must not hold up a window or a command for long
READ_TIMEOUT = 300.0  # a big prompt on a big model can take minutes before its first token


@dataclass(frozen=True)
class Endpoint:
    """Where a server is and how to talk to it (the name appears in messages)."""

    name: str
    base_url: str
    api_key: str | None = None

    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json",
                   "User-Agent": "Openweight"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers


_ssl_context: ssl.SSLContext | None = None


def ssl_context() -> ssl.SSLContext:
    """Certificates checked against the operating system's own store where truststore can
    reach it (the frozen app has no OpenSSL certificate bundle of its own)."""
    global _ssl_context
    if _ssl_context is None:
        try:
            import truststore

            _ssl_context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        except ImportError:
            _ssl_context = ssl.create_default_context()
    return _ssl_context


class Connection:
    """One request on its own connection; close() from any thread ends it at once."""

    def __init__(self, endpoint: Endpoint, connect_timeout: float = CONNECT_TIMEOUT,
                 read_timeout: float = READ_TIMEOUT) -> None:
        self.endpoint = endpoint
        self.read_timeout = read_timeout
        parts = urlsplit(endpoint.base_url)
        self.prefix = parts.path.rstrip("/")
        self.root_prefix = self.prefix[: -len("/v1")] if self.prefix.endswith("/v1") else self.prefix
        host, port = parts.hostname or "localhost", parts.port
        if parts.scheme == "https":
            self.conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                host, port, timeout=connect_timeout, context=ssl_context())
        else:
            self.conn = http.client.HTTPConnection(host, port, timeout=connect_timeout)
        self._lock = threading.Lock()
        self.closed = False

    def open(self, method: str, path: str, body: Any = None, *,
             root: bool = False) -> http.client.HTTPResponse:
        """Send the request and return the response once its headers arrive (any status)."""
        url = (self.root_prefix if root else self.prefix) + path
        data = json.dumps(body).encode() if body is not None else None
        try:
            self.conn.connect()
            if self.closed:  # closed while connecting
                raise Stopped()
            sock = self.conn.sock
            if sock is not None:
                sock.settimeout(self.read_timeout)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.conn.request(method, url, body=data, headers=self.endpoint.headers())
            return self.conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            if self.closed:
                raise Stopped() from None
            raise connection_error(self.endpoint, exc) from None

    def close(self) -> None:
        """End the request now: a thread blocked reading the answer wakes up at once."""
        with self._lock:
            self.closed = True
            sock = self.conn.sock
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self.conn.close()


class Stopped(Exception):
    """The request was closed on purpose (Stop)."""


def request_json(endpoint: Endpoint, method: str, path: str, body: Any = None, *,
                 root: bool = False, timeout: float = CONNECT_TIMEOUT) -> Any:
    """One JSON request and its decoded answer; raise EngineError for any failure."""
    conn = Connection(endpoint, connect_timeout=timeout, read_timeout=timeout)
    try:
        response = conn.open(method, path, body, root=root)
        try:
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise connection_error(endpoint, exc) from None
        if response.status >= 400:
            raise status_error(endpoint, response.status, raw, response.getheader("Retry-After"))
        try:
            return json.loads(raw or b"null")
        except ValueError:
            raise EngineError(
                f"The server {endpoint.name} answered with something that is not JSON. Check "
                f"that {endpoint.base_url} is the address of an OpenAI-compatible server "
                "(it usually ends in /v1).", "engine") from None
    finally:
        conn.close()


def sse_lines(response: http.client.HTTPResponse) -> Iterator[bytes]:
    """The `data:` payloads of a server-sent event stream, as they arrive."""
    buffer = b""
    while True:
        try:
            chunk = response.read1(65536)
        except http.client.IncompleteRead:
            return  # the connection ended inside a chunk: the caller sees the stream end early
        if not chunk:
            return
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            line = line.rstrip(b"\r")
            if line.startswith(b"data:"):
                yield line[5:].lstrip()


# -- turning failures into words -----------------------------------------------------------


def connection_error(endpoint: Endpoint, exc: BaseException) -> EngineError:
    where = f"the server {endpoint.name} ({endpoint.base_url})"
    if isinstance(exc, TimeoutError | socket.timeout):
        return EngineError(f"{where[0].upper()}{where[1:]} did not answer in time. It may be busy "
                           "or stuck; try again, or check the machine it runs on.", "timeout")
    if isinstance(exc, ssl.SSLError):
        return EngineError(f"A secure connection to {where} failed: {exc.reason or exc}. Check "
                           "the address (http:// or https://) and the server's certificate.",
                           "unreachable")
    if isinstance(exc, socket.gaierror):
        return EngineError(f"Could not find {where}: the host name is unknown. Check the "
                           "address in Settings → Servers.", "unreachable")
    if isinstance(exc, ConnectionRefusedError):
        return EngineError(f"Could not reach {where}: nothing is listening there. Check that "
                           "the server is running and the address and port are right.",
                           "unreachable")
    if isinstance(exc, http.client.RemoteDisconnected | ConnectionResetError):
        return EngineError(f"{where[0].upper()}{where[1:]} closed the connection without "
                           "answering. Check that the address points at an OpenAI-compatible "
                           "server and that it is healthy.", "unreachable")
    return EngineError(f"Could not reach {where}: {exc}. Check that the server is running and "
                       "that this computer can reach it.", "unreachable")


def server_message(raw: bytes) -> str:
    """The error text a server put in its answer (OpenAI shape, FastAPI shape, or plain)."""
    try:
        data = json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace").strip()[:300]
    if isinstance(data, dict):
        error = data.get("error", data.get("detail", data.get("message")))
        if isinstance(error, dict):
            error = error.get("message") or error.get("msg")
        if isinstance(error, list) and error and isinstance(error[0], dict):
            error = error[0].get("msg")
        if error:
            return str(error)[:300]
    return str(data)[:300]


def status_error(endpoint: Endpoint, status: int, raw: bytes,
                 retry_after: str | None = None, model: str | None = None) -> EngineError:
    said = server_message(raw)
    said_part = f" The server said: {said}" if said else ""
    name = endpoint.name
    if status in (401, 403):
        return EngineError(
            f"The server {name} refused the API key (HTTP {status}). Check the key in "
            "Settings → Servers (or 'openweight servers add … --api-key-file').", "auth")
    if status == 404 and model:
        return EngineError(
            f"The server {name} does not offer the model {model!r} (HTTP 404). It may have been "
            f"unloaded or renamed: choose another model.{said_part}", "model_gone")
    if status == 404:
        return EngineError(
            f"The server {name} has nothing at this address (HTTP 404). Check that "
            f"{endpoint.base_url} is its OpenAI-compatible address (it usually ends in /v1).",
            "model_gone")
    if status in (429, 503):
        wait = f" It asks to wait {retry_after} s." if retry_after else ""
        return EngineError(f"The server {name} is busy (HTTP {status}).{wait} Try again in a "
                           f"moment.{said_part}", "busy")
    if status in (400, 413, 422):
        lowered = said.lower()
        if "context" in lowered and any(w in lowered for w in ("exceed", "length", "too long")):
            return EngineError(f"This chat no longer fits in the server's context window. Start "
                               f"a new chat or shorten your message.{said_part}", "context_full")
        return EngineError(f"The server {name} rejected the request (HTTP {status}).{said_part}",
                           "bad_request")
    if status in (502, 504):
        return EngineError(f"The server {name} is behind a gateway that got no answer (HTTP "
                           f"{status}). The model server may be down or overloaded.{said_part}",
                           "timeout" if status == 504 else "unreachable")
    return EngineError(f"The server {name} failed (HTTP {status}).{said_part}", "engine")
