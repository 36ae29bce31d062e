"""The models the user's servers offer, listed off the GUI thread and kept for the window."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from desktop.engine.remote.catalog import ServerListing, as_model_file, list_server
from desktop.engine.remote.http import Endpoint
from desktop.engine.remote.listing import RemoteModel
from desktop.engine.remote.servers import KeyStore, Servers
from desktop.paths import DataPaths
from desktop.store import Store
from desktop.store.records import ModelFile
from desktop.ui.tasks import BackgroundTasks

# What the model picker says beside a server whose models could not be listed.
SHORT_NOTES = {"auth": "API key refused", "unreachable": "not reachable",
               "timeout": "not answering", "model_gone": "wrong address"}


class ServerModels(QObject):
    """Each server's last listing; `changed` after a refresh brings new ones."""

    changed = Signal()

    def __init__(self, store: Store, paths: DataPaths, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.servers = Servers(store.settings, KeyStore(paths.data_dir))
        self.listings: dict[str, ServerListing] = {}
        self.tasks = BackgroundTasks("server-models", self)
        self._latest = 0

    def refresh(self) -> None:
        """List every server's models in the background (a short timeout each)."""
        servers = self.servers.all()
        # Endpoints (with keys) are read here, on the store's thread.
        endpoints = [(s, Endpoint(s.name, s.base_url, self.servers.api_key(s.name)))
                     for s in servers]
        self.listings = {n: lst for n, lst in self.listings.items()
                         if any(s.name == n for s in servers)}
        if not endpoints:
            self.changed.emit()
            return

        def work(_report: object) -> list[ServerListing]:
            return [list_server(server, endpoint) for server, endpoint in endpoints]

        self._latest = self.tasks.run(work, self._listed)

    def _listed(self, result: list[ServerListing] | None, error: Exception | None) -> None:
        if result is None:
            return
        self.listings.update({listing.server.name: listing for listing in result})
        self.changed.emit()

    def grouped(self) -> dict[str, ServerListing]:
        """Chat models by server, in the order the servers were added; a short note where
        they could not be listed."""
        out = {}
        for server in self.servers.all():
            listing = self.listings.get(server.name) or ServerListing(server, error="checking…")
            chat = [m for m in listing.models if m.kind == "chat"]
            note = SHORT_NOTES.get(listing.error_kind or "", "unavailable") if listing.error_kind \
                else listing.error
            out[server.name] = ServerListing(server, chat, note, listing.error_kind)
        return out

    def find(self, name: str | None) -> ModelFile | None:
        """A server's model by "Server/model": as listed, or as named while its list loads."""
        if not name or "/" not in name:
            return None
        server_name, model_id = name.split("/", 1)
        server = self.servers.get(server_name)
        if server is None:
            return None
        listing = self.listings.get(server_name)
        found = next((m for m in listing.models if m.name == name), None) if listing else None
        return found or as_model_file(server, RemoteModel(model_id))

    def shutdown(self) -> None:
        self.tasks.shutdown(timeout=5.0)
