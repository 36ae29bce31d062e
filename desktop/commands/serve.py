"""`openweight serve`: the installed models behind an OpenAI-compatible API."""

from __future__ import annotations

import argparse
import functools
import sys
from typing import Any

from desktop.commands.common import UserError, add_common, paths_for


def register(subparsers: Any, hooks: Any) -> None:
    """hooks: the server package's ServeHooks, handed in by the entry point."""
    p = subparsers.add_parser(
        "serve", help="answer OpenAI-compatible API requests with your installed models",
        description="Serve /v1/models, /v1/chat/completions and /v1/embeddings, so editors and "
        "scripts that speak OpenAI's API can use the models installed here. Listens on this "
        "computer only unless --host says otherwise; any other address needs an API key.")
    add_common(p)
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this computer only; "
                   "0.0.0.0: every network this computer is on)")
    p.add_argument("--port", type=int, default=None, metavar="N",
                   help="port to listen on (default 8765; 0 picks a free one)")
    p.add_argument("--api-key", metavar="KEY",
                   help="require this key from clients (kept only as a hash); loopback "
                   "clients need it too")
    p.add_argument("--new-api-key", action="store_true",
                   help="make a new key (shown once) in place of the current one")
    p.add_argument("--queue", type=int, default=16, metavar="N",
                   help="requests that may wait for the model at once; more get HTTP 429 "
                   "(default 16)")
    p.add_argument("--save-history", action="store_true",
                   help="keep served conversations in your chat history (also a setting)")
    p.set_defaults(handler=functools.partial(run, hooks=hooks))


def run(args: argparse.Namespace, hooks: Any) -> int:
    from desktop.store import Store

    if args.queue < 1:
        raise UserError("--queue must be at least 1.")
    database = paths_for(args).database
    if args.save_history:
        store = Store(database)
        store.settings.set(hooks.save_history_key, True)
        store.close()
    port = hooks.default_port if args.port is None else args.port
    options = hooks.options(database, args.host, port, args.api_key, args.new_api_key, args.queue)
    try:
        server = hooks.open(options)
    except (hooks.error, ImportError) as exc:
        raise UserError(str(exc)) from None
    started = server.started
    out = sys.stdout
    out.write(f"Openweight is serving the OpenAI API at {started.base_url}\n")
    if not hooks.is_loopback(args.host):
        out.write(f"It listens on {args.host}: other computers on your networks can reach it, "
                  "so every request needs the API key.\n")
    if started.new_key:
        out.write(f"\nAPI key (shown only this once; keep it somewhere safe):\n  {started.new_key}\n\n")
    elif started.key_required:
        out.write("Requests need the API key set earlier (openweight serve --new-api-key "
                  "makes a new one).\n")
    key = "YOUR_KEY" if started.key_required else "none"
    out.write(
        "Point a client at it, for example:\n"
        f"  export OPENAI_BASE_URL={started.base_url}\n"
        f"  export OPENAI_API_KEY={key}\n"
        f"  curl {started.base_url}/models"
        + (" -H 'Authorization: Bearer YOUR_KEY'" if started.key_required else "") + "\n"
        "Press Ctrl+C to stop.\n")
    out.flush()
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    out.write("Stopped.\n")
    return 0
