"""`openweight models`: installed models (list, import, default); the library adds the rest."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from desktop.commands.common import UserError, add_common, open_store, print_json
from desktop.library.errors import NotAModelError
from desktop.library.importing import import_model as import_model_file
from desktop.library.units import format_bytes, format_params


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("models", help="installed models and the model library")
    add_common(p)
    sub = p.add_subparsers(dest="models_command", metavar="COMMAND", required=True)

    ls = sub.add_parser("list", help="installed models")
    add_common(ls)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=list_models)

    imp = sub.add_parser("import", help="register a .gguf file you already have")
    add_common(imp)
    imp.add_argument("path")
    imp.add_argument("--name", help="name to use (default: from the file)")
    imp.set_defaults(handler=import_command)

    default = sub.add_parser("default", help="show or set the model new chats use")
    add_common(default)
    default.add_argument("name", nargs="?")
    default.set_defaults(handler=default_command)

    try:
        from desktop.commands import models_hub
    except ImportError:
        return
    models_hub.register(sub, add_common)


def list_models(args: argparse.Namespace) -> int:
    store = open_store(args)
    models = store.models.all()
    default = store.models.default_name
    listings = _server_listings(args, store)
    if args.json:
        from dataclasses import asdict

        print_json([{**asdict(m), "default": m.name == default} for m in models]
                   + [{**asdict(m), "default": False} for s in listings for m in s.models])
        return 0
    if not models and not listings:
        print("No models installed. Import one with: openweight models import PATH.gguf")
        return 0
    for m in models:
        mark = "*" if m.name == default else " "
        missing = "" if Path(m.path).is_file() else "  (file missing)"
        missing += "  (embedding model)" if m.kind == "embedding" else ""
        print(f"{mark} {m.name}  {format_params(m.parameters)} {m.quantization or ''}  "
              f"{format_bytes(m.size_bytes)}  ctx {m.context_length or '?'}  {m.architecture or ''}{missing}")
    for listing in listings:
        print(f"\nOn the server {listing.server.name} ({listing.server.base_url}):")
        if listing.error:
            print(f"  unavailable: {listing.error}")
        for m in listing.models:
            context = f"  ctx {m.context_length}" if m.context_length else ""
            embedding = "  (embedding)" if m.kind == "embedding" else ""
            print(f"  {m.name}{context}{embedding}")
    return 0


def _server_listings(args: argparse.Namespace, store: Any) -> list[Any]:
    """What each server the user added offers (a short wait per server at most)."""
    from desktop.commands.servers import open_servers
    from desktop.engine.remote.catalog import list_server
    from desktop.engine.remote.http import Endpoint

    servers = open_servers(args, store)
    return [list_server(s, Endpoint(s.name, s.base_url, servers.api_key(s.name)))
            for s in servers.all()]


def import_command(args: argparse.Namespace) -> int:
    store = open_store(args)
    try:
        model = import_model_file(store, args.path, args.name)
    except NotAModelError as exc:
        raise UserError(str(exc)) from None
    default = " (default)" if store.models.default_name == model.name else ""
    if model.kind == "embedding":
        print(f"Imported {model.name}: an embedding model for local documents "
              f"({model.architecture}, {format_params(model.parameters)} parameters, "
              f"{model.quantization or 'unknown quantization'}). 'openweight docs index' uses it.")
        return 0
    print(f"Imported {model.name}{default}: {model.architecture}, {format_params(model.parameters)} "
          f"parameters, {model.quantization or 'unknown quantization'}, context "
          f"{model.context_length or '?'}, {'with' if model.has_chat_template else 'without'} a chat template.")
    return 0


def default_command(args: argparse.Namespace) -> int:
    store = open_store(args)
    if not args.name:
        name = store.models.default_name
        print(name or "No default model (none installed).")
        return 0
    model = store.models.find(args.name)
    if model is None:
        raise UserError(f"No installed model is called {args.name!r}. See 'openweight models list'.")
    store.models.set_default(model.name)
    print(f"New chats will use {model.name}.")
    return 0
