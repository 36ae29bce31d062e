"""The one entry point: the window by default, subcommands for everything else."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from desktop import __version__
from desktop.commands import chat, docs, history, info, models, serve, servers
from desktop.commands.common import UserError, add_common, paths_for
from desktop.library.errors import LibraryError

log = logging.getLogger("openweight")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="openweight",
        description="Openweight: chat privately with open-weight language models on this "
        "computer. With no command, opens the window.",
    )
    parser.add_argument("--version", action="version", version=f"Openweight {__version__}")
    add_common(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chat.register(sub)
    history.register(sub)
    models.register(sub)
    info.register(sub)
    docs.register(sub)
    servers.register(sub)
    serve.register(sub, _serve_hooks())
    gui = sub.add_parser("gui", help="open the window (the default)")
    add_common(gui)
    gui.set_defaults(handler=run_gui)
    return parser


def run_gui(args: argparse.Namespace) -> int:
    try:
        from desktop.ui.preflight import display_problem, show_without_qt

        problem = display_problem()  # before Qt, which would abort without a word
        if problem:
            show_without_qt(problem)
            raise UserError(problem)
        from desktop.ui.app import run_app
    except ImportError as exc:
        log.exception("the window could not start")
        message = (f"The window could not start: {exc}. The command line still works: "
                   "see 'openweight --help'.")
        show_without_qt(message)
        raise UserError(message) from None
    return int(run_app(getattr(args, "data_dir", None), serve=_serve_hooks()))


def _serve_hooks() -> Any:
    """The API server, for the front ends that offer it (they never import each other)."""
    from desktop.server.hooks import ServeHooks

    return ServeHooks()


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--engine-host"]:  # the frozen app starts its engine host this way
        from desktop.engine.host import main as host_main

        return host_main()
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", run_gui)
    try:
        from desktop.logs import setup_logging

        setup_logging(paths_for(args).log_file)
        return int(handler(args) or 0)
    except (UserError, LibraryError) as exc:
        sys.stderr.write(f"openweight: {exc}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, details in the log
        from desktop.store import StoreError

        log.exception("unexpected error")
        if isinstance(exc, StoreError):
            sys.stderr.write(f"openweight: {exc}\n")
        else:
            sys.stderr.write(f"openweight: unexpected error: {exc} (details in the log file)\n")
        return 1
