"""The window's switch for the OpenAI-compatible API server.

The server package is handed in by the entry point (the window never imports it); the
server answers through a view of the window's own engine host, so a model is loaded once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QObject, Signal

from desktop.store import Store
from desktop.ui.engine_bridge import EngineBridge

log = logging.getLogger("openweight.ui.server")

ENABLED_KEY = "server.enabled"
HOST_KEY = "server.host"
PORT_KEY = "server.port"
DEFAULT_PORT = 8765
LOOPBACK = "127.0.0.1"
ALL_INTERFACES = "0.0.0.0"


class RunningServer(Protocol):
    started: Any  # base_url, key_required, new_key

    def stop(self) -> None: ...


class ServeHooks(Protocol):
    save_history_key: str

    def start(self, engine: Any, database: Path, host: str, port: int) -> RunningServer: ...


@dataclass
class ServerState:
    running: bool
    base_url: str = ""
    key_required: bool = False
    new_key: str | None = None  # made just now: shown once, then forgotten
    error: str | None = None


class ApiServerSwitch(QObject):
    """Starts and stops the server; remembers in the settings whether it should run."""

    changed = Signal(object)  # ServerState

    def __init__(self, store: Store, bridge: EngineBridge, hooks: ServeHooks,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.bridge = bridge
        self.hooks = hooks
        self._server: RunningServer | None = None
        self.state = ServerState(False)

    @property
    def host(self) -> str:
        return str(self.store.settings.get(HOST_KEY, LOOPBACK))

    @property
    def port(self) -> int:
        return int(self.store.settings.get(PORT_KEY, DEFAULT_PORT))

    @property
    def save_history(self) -> bool:
        return bool(self.store.settings.get(self.hooks.save_history_key, False))

    def set_save_history(self, on: bool) -> None:
        self.store.settings.set(self.hooks.save_history_key, True if on else None)

    def start(self, host: str, port: int) -> ServerState:
        """Start serving (after stopping a running server); the state says how it went."""
        self.stop(remember=False)
        self.store.settings.set(HOST_KEY, host)
        self.store.settings.set(PORT_KEY, port)
        engine = self.bridge.local_engine()
        if engine is None:
            return self._set(ServerState(False, error="The model engine is not ready yet; "
                                         "try again in a moment."))
        try:
            self._server = self.hooks.start(engine, Path(self.store.path), host, port)
        except Exception as exc:  # noqa: BLE001 - ServeError and friends: say why, stay usable
            log.warning("the API server did not start: %s", exc)
            self.store.settings.set(ENABLED_KEY, None)
            return self._set(ServerState(False, error=str(exc)))
        self.store.settings.set(ENABLED_KEY, True)
        started = self._server.started
        return self._set(ServerState(True, started.base_url, started.key_required,
                                     started.new_key))

    def forget_new_key(self) -> None:
        """The key has been shown: from now on only its hash exists."""
        if self.state.new_key is not None:
            self.state = replace(self.state, new_key=None)

    def stop(self, remember: bool = True) -> None:
        server, self._server = self._server, None
        if remember:
            self.store.settings.set(ENABLED_KEY, None)
        if server is not None:
            server.stop()
            self._set(ServerState(False))

    def restore(self) -> None:
        """At start-up: serve again if the user left the switch on."""
        if self.store.settings.get(ENABLED_KEY):
            state = self.start(self.host, self.port)
            if state.new_key is not None:  # not expected: a key already existed
                log.info("a new API key was made at start-up")

    def shutdown(self) -> None:
        """The window is closing: stop serving but keep the switch as the user left it."""
        self.stop(remember=False)

    def _set(self, state: ServerState) -> ServerState:
        self.state = state
        self.changed.emit(state)
        return state
