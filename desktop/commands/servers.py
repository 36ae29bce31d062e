"""`openweight servers`: OpenAI-compatible servers whose models this app can chat with."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from desktop.commands.common import UserError, add_common, open_store, paths_for, print_json
from desktop.engine.remote.catalog import list_server
from desktop.engine.remote.http import CONNECT_TIMEOUT, Endpoint
from desktop.engine.remote.servers import (
    KeyStore,
    Server,
    ServerError,
    Servers,
    check_name,
    normalise_url,
)
from desktop.store import Store


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "servers", help="inference servers to chat through (llama-server, vLLM, Ollama…)",
        description="Servers that speak the OpenAI API. Their models are called SERVER/MODEL: "
        "'openweight chat --model SERVER/MODEL …'.")
    add_common(p)
    sub = p.add_subparsers(dest="servers_command", metavar="COMMAND", required=True)

    add = sub.add_parser("add", help="add a server (tests the connection and lists its models)")
    add_common(add)
    add.add_argument("name", help="a short name, e.g. gpu-box")
    add.add_argument("url", help="its base URL, e.g. http://gpu-box:8080/v1")
    add.add_argument("--api-key-file", metavar="FILE",
                     help="a file holding the API key (kept in the system keychain, or a "
                     "private file, never in the history database)")
    add.add_argument("--no-test", action="store_true",
                     help="save it without connecting (the server is offline now)")
    add.set_defaults(handler=add_command)

    ls = sub.add_parser("list", help="the servers and their models")
    add_common(ls)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=list_command)

    rm = sub.add_parser("remove", help="forget a server and its API key")
    add_common(rm)
    rm.add_argument("name")
    rm.set_defaults(handler=remove_command)


def open_servers(args: argparse.Namespace, store: Store) -> Servers:
    return Servers(store.settings, KeyStore(paths_for(args).data_dir))


def _read_key(path: str | None) -> str | None:
    if not path:
        return None
    try:
        key = Path(path).expanduser().read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise UserError(f"Could not read the API key file {path}: {exc.strerror or exc}.") from None
    if not key:
        raise UserError(f"The API key file {path} is empty.")
    return key


def add_command(args: argparse.Namespace) -> int:
    store = open_store(args)
    try:
        servers = open_servers(args, store)
        key = _read_key(args.api_key_file)
        try:
            url = normalise_url(args.url)
            if servers.get(args.name.strip()) is not None:
                raise ServerError(f"There is already a server called {args.name.strip()!r}. "
                                  f"Remove it first: openweight servers remove {args.name}")
            if not args.no_test:
                server = Server(check_name(args.name), url)
                listing = list_server(server, Endpoint(server.name, url, key), CONNECT_TIMEOUT)
                if listing.error:
                    raise UserError(f"{listing.error} The server was not added (use --no-test "
                                    "to add it anyway).")
            server = servers.add(args.name, url, key)
        except ServerError as exc:
            raise UserError(str(exc)) from None
        print(f"Added {server.name}: {server.base_url}"
              + (f" (API key kept in {servers.keys.where})" if key else ""))
        if server.warning:
            sys.stderr.write(f"Warning: {server.warning}\n")
        if not args.no_test:
            chat = [m for m in listing.models if m.kind == "chat"]
            print(f"{len(listing.models)} model{'s' if len(listing.models) != 1 else ''}:")
            for model in listing.models:
                print(f"  {model.name}" + ("  (embedding)" if model.kind == "embedding" else ""))
            if chat:
                print(f"Chat with one: openweight chat --model '{chat[0].name}' \"Hello\"")
        return 0
    finally:
        store.close()


def list_command(args: argparse.Namespace) -> int:
    store = open_store(args)
    try:
        servers = open_servers(args, store)
        entries = []
        for server in servers.all():
            endpoint = Endpoint(server.name, server.base_url, servers.api_key(server.name))
            listing = list_server(server, endpoint)
            entries.append((server, endpoint, listing))
        if args.json:
            print_json([{"name": s.name, "base_url": s.base_url, "api_key": bool(e.api_key),
                         "models": [m.filename for m in listing.models], "error": listing.error,
                         "warning": s.warning} for s, e, listing in entries])
            return 0
        if not entries:
            print("No servers yet. Add one with: openweight servers add NAME URL")
            return 0
        for server, endpoint, listing in entries:
            key = ", with an API key" if endpoint.api_key else ""
            print(f"{server.name}  {server.base_url}{key}")
            if server.warning:
                print("  (plain http:// to another machine: not encrypted)")
            if listing.error:
                print(f"  unavailable: {listing.error}")
            for model in listing.models:
                print(f"  {model.name}" + ("  (embedding)" if model.kind == "embedding" else ""))
        return 0
    finally:
        store.close()


def remove_command(args: argparse.Namespace) -> int:
    store = open_store(args)
    try:
        try:
            server = open_servers(args, store).remove(args.name)
        except ServerError as exc:
            raise UserError(str(exc)) from None
        print(f"Removed {server.name} ({server.base_url}) and its API key.")
        return 0
    finally:
        store.close()
