"""Running the API: bind, serve with Uvicorn (in the foreground for the CLI, on a thread
for the window), stop cleanly so no engine host is left behind."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop.engine.engines import Engines
from desktop.server.keys import is_loopback, resolve_key
from desktop.store import Store

log = logging.getLogger("openweight.server")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
GRACEFUL_SECONDS = 1  # at exit, answers still streaming are cut after this long


class ServeError(Exception):
    """The server could not start (the port is taken, the address is not this computer's)."""


@dataclass
class ServeOptions:
    database: Path
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    api_key: str | None = None  # set this key (kept only as a hash)
    new_key: bool = False  # make a new key even if one is set
    max_queue: int = 16


@dataclass
class Started:
    base_url: str
    key_required: bool
    new_key: str | None  # shown once, right now; never stored in clear


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if port and exc.errno in (98, 48, 10048):  # EADDRINUSE on Linux, macOS, Windows
            raise ServeError(f"Port {port} is already in use on {host}. Choose another with "
                             "--port, or stop the program using it.") from None
        raise ServeError(f"Could not listen on {host}:{port}: {exc.strerror or exc}.") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


class ApiServer:
    """One server: its socket, its Uvicorn instance and its serving worker."""

    def __init__(self, options: ServeOptions, make_engines: Callable[[Store], Engines]) -> None:
        import uvicorn  # here, not at the top: only a running server needs it

        from desktop.server.app import ServerSettings, build_app
        from desktop.server.worker import ServingWorker

        self.options = options
        store = Store(options.database)
        try:
            key_hash, new_key = resolve_key(store.settings, options.host, options.api_key,
                                            options.new_key)
        finally:
            store.close()
        self.socket = _bind(options.host, options.port)
        port = self.socket.getsockname()[1]
        shown_host = options.host if ":" not in options.host else f"[{options.host}]"
        if options.host in ("0.0.0.0", "::"):
            shown_host = "127.0.0.1"  # reachable from here; other computers use this one's name
        self.started = Started(f"http://{shown_host}:{port}/v1", key_hash is not None, new_key)
        self.worker = ServingWorker(options.database, make_engines, options.max_queue)
        app = build_app(ServerSettings(options.database, key_hash, options.max_queue),
                        self.worker)
        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on",
                                timeout_graceful_shutdown=GRACEFUL_SECONDS, server_header=False)
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def listens_beyond_this_computer(self) -> bool:
        return not is_loopback(self.options.host)

    def run(self) -> None:
        """Serve in this thread until Ctrl+C (Uvicorn handles the signal, then re-raises it)."""
        try:
            self.server.run(sockets=[self.socket])
        finally:
            self.close()

    def start(self) -> None:
        """Serve on a background thread (the window); returns once it accepts requests."""
        self._thread = threading.Thread(target=self._serve_in_thread, name="serve-http",
                                        daemon=True)
        self._thread.start()
        while not self.server.started and self._thread.is_alive():
            self._thread.join(0.02)
        if not self.server.started:
            raise ServeError("The server stopped while starting; details are in the log file.")

    def _serve_in_thread(self) -> None:
        try:
            asyncio.run(self.server.serve(sockets=[self.socket]))
        except Exception:
            log.exception("the API server failed")

    def stop(self, timeout: float = 15.0) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        self.close()

    def close(self) -> None:
        self.worker.close()  # again, in case Uvicorn ended before its lifespan shut down
        self.socket.close()

    def info(self) -> dict[str, Any]:
        return {"base_url": self.started.base_url, "key_required": self.started.key_required,
                "served": self.worker.served, "waiting": self.worker.waiting}
