"""The servers the user added: a name, a base URL, and an API key kept out of the database.

The list lives in the store's settings; each key lives in the OS keychain (through `keyring`)
where a working one exists, otherwise in a file in the data folder that only the user can
read. Keys never go into the history database, the logs or exports.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from desktop.store.settings import Settings

log = logging.getLogger("openweight.engine.remote")

SERVERS_KEY = "servers"
KEYRING_SERVICE = "Openweight"
KEY_FILE = "server-keys.json"


class ServerError(ValueError):
    """A server entry that cannot be saved as given (the message says why)."""


@dataclass(frozen=True)
class Server:
    name: str
    base_url: str  # ends in /v1 (or wherever the server's OpenAI-style routes live)

    @property
    def root(self) -> str:
        """Where llama-server's own routes (/tokenize, /props) live: the URL without /v1."""
        return self.base_url[: -len("/v1")] if self.base_url.endswith("/v1") else self.base_url

    @property
    def warning(self) -> str | None:
        return insecure_warning(self.base_url)


def normalise_url(url: str) -> str:
    """http(s)://host[:port][/path] without a trailing slash; a bare host gets /v1."""
    text = url.strip()
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ServerError(f"{url!r} is not a server address. Use one like http://localhost:8080/v1.")
    if parts.username or parts.password:
        # An address is saved with the chats' settings; a key in it would be saved there too.
        raise ServerError("Put the API key in its own field, not in the address.")
    path = parts.path.rstrip("/")
    if not path:
        path = "/v1"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def is_local_host(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def insecure_warning(url: str) -> str | None:
    """A warning for plain http:// to another machine: the conversation crosses the network
    unencrypted, readable by anyone on the way."""
    parts = urlsplit(url)
    if parts.scheme == "http" and parts.hostname and not is_local_host(parts.hostname):
        return (f"{parts.hostname} is reached over plain http://: your conversation crosses the "
                "network unencrypted. Use https:// (or a VPN/SSH tunnel) unless you trust every "
                "network in between.")
    return None


def check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ServerError("Give the server a name.")
    if "/" in name:
        raise ServerError(f"A server name cannot contain '/': {name!r}. Models are called "
                          "SERVER/MODEL, so the slash would be ambiguous.")
    if len(name) > 64:
        raise ServerError("Server names are at most 64 characters.")
    return name


class KeyStore:
    """API keys by server name: the OS keychain when it works, else a 0600 file."""

    def __init__(self, folder: Path, use_keyring: bool = True) -> None:
        self.file = folder / KEY_FILE
        self._keyring: Any = _working_keyring() if use_keyring else None

    @property
    def where(self) -> str:
        if self._keyring is not None:
            return "the system keychain"
        return f"a file only you can read ({self.file.name} in the data folder)"

    def get(self, name: str) -> str | None:
        if self._keyring is not None:
            try:
                value = self._keyring.get_password(KEYRING_SERVICE, _account(name))
                if value:
                    return str(value)
            except Exception:  # noqa: BLE001 - a locked or broken keychain: try the file
                log.warning("the keychain could not be read; trying the key file")
        return self._read_file().get(name)

    def set(self, name: str, key: str | None) -> None:
        self.delete(name)
        if not key:
            return
        if self._keyring is not None:
            try:
                self._keyring.set_password(KEYRING_SERVICE, _account(name), key)
                return
            except Exception:  # noqa: BLE001 - no usable keychain after all: use the file
                log.warning("the keychain refused the key; keeping it in %s", self.file)
        keys = self._read_file()
        keys[name] = key
        self._write_file(keys)

    def delete(self, name: str) -> None:
        if self._keyring is not None:
            try:
                self._keyring.delete_password(KEYRING_SERVICE, _account(name))
            except Exception:  # noqa: BLE001 - nothing was stored there
                pass
        keys = self._read_file()
        if keys.pop(name, None) is not None:
            self._write_file(keys)

    def _read_file(self) -> dict[str, str]:
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def _write_file(self, keys: dict[str, str]) -> None:
        self.file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.file.with_suffix(".tmp")
        # Created 0600 from the start: the key is never readable by others, not even briefly.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(keys, f)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.file)


def _account(name: str) -> str:
    return f"server:{name}"


def _working_keyring() -> Any:
    """The keyring backend when a real one is available (not the 'fail' or plaintext ones)."""
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:  # noqa: BLE001 - a misconfigured backend is no backend
        return None
    if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 0) < 1:
        return None
    return keyring


class Servers:
    """The list of servers (in settings) and their keys (in the key store)."""

    def __init__(self, settings: Settings, keys: KeyStore) -> None:
        self.settings = settings
        self.keys = keys

    def all(self) -> list[Server]:
        raw = self.settings.get(SERVERS_KEY) or []
        servers = []
        for entry in raw if isinstance(raw, list) else []:
            if isinstance(entry, dict) and entry.get("name") and entry.get("base_url"):
                servers.append(Server(str(entry["name"]), str(entry["base_url"])))
        return servers

    def get(self, name: str) -> Server | None:
        return next((s for s in self.all() if s.name == name), None)

    def add(self, name: str, url: str, api_key: str | None = None,
            replace: bool = False) -> Server:
        server = Server(check_name(name), normalise_url(url))
        others = [s for s in self.all() if s.name != server.name]
        if len(others) != len(self.all()) and not replace:
            raise ServerError(f"There is already a server called {server.name!r}. Remove it "
                              "first, or choose another name.")
        self._save([*others, server])
        self.keys.set(server.name, api_key.strip() if api_key else None)
        return server

    def remove(self, name: str) -> Server:
        server = self.get(name)
        if server is None:
            raise ServerError(f"There is no server called {name!r}. See 'openweight servers list'.")
        self._save([s for s in self.all() if s.name != name])
        self.keys.delete(name)
        return server

    def api_key(self, name: str) -> str | None:
        return self.keys.get(name)

    def _save(self, servers: list[Server]) -> None:
        self.settings.set(SERVERS_KEY, [{"name": s.name, "base_url": s.base_url} for s in servers])
