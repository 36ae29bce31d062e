"""What the front ends get from this package, handed to them by the entry point (the CLI's
commands and the window never import the server themselves: front ends stay apart)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from desktop.engine.engines import Engines, build_engines
from desktop.engine.local import LocalEngine
from desktop.engine.options import DEVICE_SETTING
from desktop.server.history import SAVE_HISTORY_KEY
from desktop.server.keys import is_loopback
from desktop.server.runner import DEFAULT_PORT, ApiServer, ServeError, ServeOptions
from desktop.store import Store


@dataclass(frozen=True)
class ServeHooks:
    save_history_key: str = SAVE_HISTORY_KEY
    default_port: int = DEFAULT_PORT
    error: type[Exception] = ServeError  # a server that cannot start says why in this

    def is_loopback(self, host: str) -> bool:
        return is_loopback(host)

    def open(self, options: ServeOptions) -> ApiServer:
        """A server with engines of its own (`openweight serve`); run() it to serve."""
        return ApiServer(options, build_engines)

    def options(self, database: Path, host: str, port: int, api_key: str | None = None,
                new_key: bool = False, max_queue: int = 16) -> ServeOptions:
        return ServeOptions(database, host, port, api_key, new_key, max_queue)

    def start(self, engine: LocalEngine, database: Path, host: str, port: int) -> ApiServer:
        """Serve beside the window, on a background thread, through a view of the window's
        engine host, so a model the window loaded is never loaded twice."""
        def view(store: Store) -> Engines:
            return Engines(engine.share(lambda: store.settings.get(DEVICE_SETTING),
                                        store.models.all))

        server = ApiServer(ServeOptions(database, host, port), view)
        server.start()
        return server
