"""Which engine answers for a model: this computer's, or a server the user added."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from desktop.engine.api import Engine, EngineError, EngineModel
from desktop.engine.client import EngineClient
from desktop.engine.local import LocalEngine
from desktop.engine.options import DEVICE_SETTING
from desktop.engine.threads import THREADS_KEY, thread_choice
from desktop.store import Store
from desktop.store.records import ModelFile
from desktop.store.settings import setting_reader

log = logging.getLogger("openweight.engine")

REMOTE_SOURCE = "server:"  # a ModelFile whose source starts so is a model a server offers


def server_of(model: ModelFile) -> str | None:
    """The server a model lives on, or None for a file on this computer."""
    return model.source[len(REMOTE_SOURCE):] if model.source.startswith(REMOTE_SOURCE) else None


class Engines:
    """The composition root's one set of engines: the local one, and one per server in use.

    remote_factory builds an engine for a server name (None when there is no such server);
    remote_models lists the models servers offer, as ModelFile records named "Server/model";
    remote_model finds one by name.
    """

    def __init__(self, local: LocalEngine,
                 remote_factory: Callable[[str], Engine | None] | None = None,
                 remote_models: Callable[[], list[ModelFile]] | None = None,
                 remote_model: Callable[[str], ModelFile | None] | None = None) -> None:
        self.local = local
        self._remote_factory = remote_factory or (lambda name: None)
        self._remote_models = remote_models or (lambda: [])
        self._remote_model = remote_model or (
            lambda name: next((m for m in self.remote_models() if m.name == name), None))
        self._remotes: dict[str, Engine] = {}

    def for_model(self, model: ModelFile) -> Engine:
        server = server_of(model)
        if server is None:
            return self.local
        engine = self._remotes.get(server)
        if engine is None:
            engine = self._remote_factory(server)
            if engine is None:
                raise EngineError(f"The server {server!r} is no longer in your list of servers.",
                                  "model_gone")
            self._remotes[server] = engine
        return engine

    def forget(self, server: str) -> None:
        """Drop a server's engine (its settings changed or it was removed)."""
        engine = self._remotes.pop(server, None)
        if engine is not None:
            engine.close()

    def remote_models(self) -> list[ModelFile]:
        try:
            return self._remote_models()
        except Exception:  # noqa: BLE001 - a server that cannot be listed offers nothing now
            log.exception("listing server models failed")
            return []

    def find_remote(self, name: str) -> ModelFile | None:
        """A server's model by "Server/model", even while the server cannot list it (its
        engine then says why it cannot answer); None when no such server was added."""
        try:
            return self._remote_model(name)
        except Exception:  # noqa: BLE001 - as remote_models: nothing found now
            log.exception("finding a server model failed")
            return None

    def models(self) -> list[EngineModel]:
        return self.local.models() + [
            EngineModel(m.name, server_of(m) or "", m.kind, m.context_length)
            for m in self.remote_models()
        ]

    def stop(self) -> None:
        self.local.stop()
        for engine in list(self._remotes.values()):
            engine.stop()

    def close(self, timeout: float = 5.0) -> None:
        for engine in list(self._remotes.values()):
            engine.close()
        self._remotes.clear()
        self.local.close(timeout=timeout)


def build_engines(store: Store, make_client: Callable[[], EngineClient] = EngineClient,
                  keys_folder: Path | None = None, threads: int | None = None) -> Engines:
    """The engines every front end uses, built the same way: local models from the store's
    registry, and the servers the user added (their keys in keys_folder's key store, by
    default the database's folder). threads overrides the "threads" setting."""
    from desktop.engine.remote.catalog import ServerCatalog
    from desktop.engine.remote.engine import RemoteEngine
    from desktop.engine.remote.servers import KeyStore, Servers

    local = LocalEngine(make_client=make_client, installed=store.models.all,
                        n_threads=thread_choice(
                            setting_reader(store.settings, store.path, THREADS_KEY), threads),
                        # read at each load, maybe from the API server's thread
                        device=setting_reader(store.settings, store.path, DEVICE_SETTING))
    folder = keys_folder or Path(store.path).parent
    catalog = ServerCatalog(Servers(store.settings, KeyStore(folder)))

    def remote_factory(name: str) -> Engine | None:
        if catalog.servers.get(name) is None:
            return None
        return RemoteEngine(name, lambda: catalog.endpoint(name))

    return Engines(local, remote_factory, catalog.models, catalog.find)
