"""Servers' models as ModelFile records ("Server/model-id"), listed quickly and kept briefly."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from desktop.engine.api import EngineError
from desktop.engine.remote.http import LIST_TIMEOUT, Endpoint
from desktop.engine.remote.listing import RemoteModel, guess_reasoning_style, list_models
from desktop.engine.remote.servers import Server, Servers
from desktop.store.records import ModelFile

log = logging.getLogger("openweight.engine.remote")

CACHE_SECONDS = 30.0  # a server's model list rarely changes; an unreachable one is not retried
SOURCE_PREFIX = "server:"  # engines.REMOTE_SOURCE


def as_model_file(server: Server, model: RemoteModel) -> ModelFile:
    return ModelFile(
        name=f"{server.name}/{model.id}",
        path=f"{server.base_url}/models/{model.id}",
        context_length=model.context_length,
        reasoning_style=guess_reasoning_style(model.id),
        has_chat_template=True,
        source=f"{SOURCE_PREFIX}{server.name}",
        filename=model.id,
        kind=model.kind,
    )


@dataclass
class ServerListing:
    """One server's models, or why they could not be listed."""

    server: Server
    models: list[ModelFile] = field(default_factory=list)
    error: str | None = None
    error_kind: str | None = None


def list_server(server: Server, endpoint: Endpoint, timeout: float = LIST_TIMEOUT) -> ServerListing:
    """Ask one server for its models (needs no store: safe on any thread)."""
    try:
        models = list_models(endpoint, timeout)
    except EngineError as exc:
        return ServerListing(server, error=str(exc), error_kind=exc.kind)
    return ServerListing(server, [as_model_file(server, m) for m in models])


class ServerCatalog:
    """The servers in the store and what they offer. Use on the store's thread."""

    def __init__(self, servers: Servers, timeout: float = LIST_TIMEOUT,
                 cache_seconds: float = CACHE_SECONDS) -> None:
        self.servers = servers
        self.timeout = timeout
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, str, ServerListing]] = {}

    def endpoint(self, name: str) -> Endpoint:
        server = self.servers.get(name)
        if server is None:
            raise EngineError(f"The server {name!r} is no longer in your list of servers. Add "
                              "it again in Settings → Servers, or choose another model.",
                              "model_gone")
        return Endpoint(server.name, server.base_url, self.servers.api_key(server.name))

    def listings(self) -> list[ServerListing]:
        out = []
        now = time.monotonic()
        for server in self.servers.all():
            cached = self._cache.get(server.name)
            if cached and cached[1] == server.base_url and now - cached[0] < self.cache_seconds:
                out.append(cached[2])
                continue
            listing = list_server(server, self.endpoint(server.name), self.timeout)
            if listing.error:
                log.warning("listing the models of %s failed: %s", server.name, listing.error)
            self._cache[server.name] = (now, server.base_url, listing)
            out.append(listing)
        return out

    def models(self) -> list[ModelFile]:
        return [m for listing in self.listings() for m in listing.models]

    def find(self, name: str) -> ModelFile | None:
        """A model by "Server/model": as listed, else as named (a server that cannot be
        listed now still gets the chance to say why when asked to answer)."""
        server_name, _, model_id = name.partition("/")
        server = self.servers.get(server_name) if model_id else None
        if server is None:
            return None
        listing = next((lst for lst in self.listings() if lst.server.name == server_name), None)
        found = next((m for m in listing.models if m.name == name), None) if listing else None
        return found or as_model_file(server, RemoteModel(model_id))

    def forget(self) -> None:
        self._cache.clear()
