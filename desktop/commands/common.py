"""What every command shares: the data folder, the store, one-line errors."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, TextIO

from desktop.paths import DataPaths, resolve_paths
from desktop.store import Store


class UserError(Exception):
    """Printed as one line, exit code 1, no traceback."""


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", metavar="DIR", default=argparse.SUPPRESS,
        help="keep all data (history, models, logs) in DIR instead of the usual place "
        "(also: OPENWEIGHT_HOME)",
    )


def paths_for(args: argparse.Namespace) -> DataPaths:
    return resolve_paths(getattr(args, "data_dir", None)).ensure()


def open_store(args: argparse.Namespace) -> Store:
    """The store after start-up care (damage recovered, daily backup); notices go to stderr."""
    from desktop.store.startup import open_at_startup

    opened = open_at_startup(paths_for(args).database)
    for notice in opened.notices:
        sys.stderr.write(f"openweight: {notice}\n")
    return opened.store


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def marked(snippet: str, highlights: list[tuple[int, int]], stream: TextIO | None = None) -> str:
    """A snippet with the matching words in bold on a terminal, and in [brackets] when the
    output goes to a file or another program (or NO_COLOR is set)."""
    from desktop.documents.retrieval import mark

    stream = stream or sys.stdout
    bold = (getattr(stream, "isatty", lambda: False)() and "NO_COLOR" not in os.environ
            and os.environ.get("TERM") != "dumb")
    return mark(snippet, highlights, "\x1b[1m", "\x1b[0m") if bold else mark(snippet, highlights)
