"""What every command shares: the data folder, the store, one-line errors."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

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
