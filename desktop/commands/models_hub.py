"""`openweight models catalog | search | files | download | remove`: the model library from a terminal."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from desktop.library.errors import LibraryError
from desktop.paths import DataPaths, resolve_paths

_BAR_WIDTH = 28


def register(models_subparsers: Any, add_common: Callable[[Any], None] | None = None) -> None:
    """Add the library subcommands; each parser's `handler` takes the args and returns an exit code.

    add_common adds the options every command shares (--data-dir); without it, this adds its own.
    """

    def add(name: str, handler: Callable[[argparse.Namespace], int], about: str) -> Any:
        short = about.rstrip(".")
        short = short[0].lower() + short[1:]
        parser = models_subparsers.add_parser(name, help=short, description=about)
        if add_common is not None:
            add_common(parser)
        else:  # SUPPRESS: a --data-dir given before the subcommand is not overwritten
            parser.add_argument(
                "--data-dir", default=argparse.SUPPRESS, help="use this data folder"
            )
        parser.set_defaults(handler=handler, func=handler)
        return parser

    parser = add(
        "catalog",
        cmd_catalog,
        "Show the curated models and how well each would run on this computer.",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")

    parser = add("search", cmd_search, "Search the Hugging Face Hub for GGUF models.")
    parser.add_argument("query", help="words to look for in repository names")
    parser.add_argument("--limit", type=int, default=20, help="at most this many results")
    parser.add_argument("--json", action="store_true", help="print JSON")

    parser = add("files", cmd_files, "List a Hub repository's GGUF files, grouped by quantization.")
    parser.add_argument("repo", help="repository id, e.g. bartowski/Qwen_Qwen3-8B-GGUF")
    parser.add_argument("--revision", default=None, help="branch, tag or commit (default: main)")
    parser.add_argument("--json", action="store_true", help="print JSON")

    parser = add(
        "download",
        cmd_download,
        "Download a catalog model, or a file from a Hub repository (resumes where it stopped).",
    )
    parser.add_argument("target", help="a catalog model name, or a Hub repository id")
    parser.add_argument(
        "file", nargs="?", default=None, help="the GGUF file, when target is a repository"
    )
    parser.add_argument("--revision", default=None, help="branch, tag or commit (default: main)")

    parser = add(
        "remove",
        cmd_remove,
        "Remove an installed model; its file is deleted if it is in the models folder.",
    )
    parser.add_argument("name", help="the installed model's name")


# -- handlers ---------------------------------------------------------------------------------
def _paths(args: argparse.Namespace) -> DataPaths:
    return resolve_paths(getattr(args, "data_dir", None)).ensure()


def _fail(message: object) -> int:
    print(f"openweight: {message}", file=sys.stderr)
    return 1


def _guarded(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Errors become one line on stderr and exit code 1, never a traceback."""

    def handler(args: argparse.Namespace) -> int:
        from desktop.store import StoreError

        try:
            return run(args)
        except (LibraryError, StoreError) as exc:
            return _fail(exc)

    handler.__name__ = run.__name__
    handler.__doc__ = run.__doc__
    return handler


@_guarded
def cmd_catalog(args: argparse.Namespace) -> int:
    from desktop.engine.options import CPU_ONLY, DEVICE_SETTING
    from desktop.engine.threads import generation_threads
    from desktop.library.bandwidth import measured_machine
    from desktop.library.catalog import load_catalog
    from desktop.library.units import format_bytes
    from desktop.store import Store

    paths = _paths(args)
    store = Store(paths.database)
    try:
        installed = {(m.repo_id, m.filename) for m in store.models.all()}
        machine = measured_machine(store.settings)  # memory bandwidth: measured once, kept
        machine = machine.with_threads(generation_threads(store.settings))
        if store.settings.get(DEVICE_SETTING) == CPU_ONLY:
            machine = machine.without_gpus()
    finally:
        store.close()
    rows = []
    for entry in load_catalog():
        fit = entry.fit(machine)
        rows.append((entry, fit, (entry.repo_id, entry.filename) in installed))
    if args.json:
        data = [
            entry.to_dict()
            | {
                "fit": {"level": fit.level, "label": fit.label, "reason": fit.reason},
                "speed": {
                    "level": fit.speed.level,
                    "label": fit.speed.label,
                    "tokens_per_s": round(fit.speed.tokens_per_s, 1),
                    "reason": fit.speed.reason,
                }
                if fit.speed
                else None,
                "installed": done,
            }
            for entry, fit, done in rows
        ]
        print(json.dumps(data, indent=2))
        return 0
    width = max(len(entry.name) for entry, _, _ in rows)
    print(f"{'NAME':<{width}}  {'SIZE':>8}  {'FIT':<9}  {'SPEED':<16}  {'THINKS':<7}  DESCRIPTION")
    for entry, fit, done in rows:
        thinks = {"harmony": "yes", "think": "yes"}.get(entry.reasoning_style, "")
        if entry.kind == "embedding":
            thinks = "(embed)"
        mark = " [installed]" if done else ""
        speed = f"{fit.speed.label} ~{fit.speed.tokens_per_s:.0f} tok/s" if fit.speed else ""
        print(
            f"{entry.name:<{width}}  {format_bytes(entry.size_bytes):>8}  {fit.label:<9}  "
            f"{speed:<16}  {thinks:<7}  {entry.description}{mark}"
        )
    gpu = (
        ", ".join(f"{g.name} ({format_bytes(g.memory_bytes)})" for g in machine.gpus)
        or "no GPU found"
    )
    bandwidth = (
        f"{machine.memory_bandwidth / 1e9:.0f} GB/s memory bandwidth"
        if machine.memory_bandwidth
        else "memory bandwidth not measured"
    )
    print(
        f"\nFit is judged for this computer: {format_bytes(machine.ram_bytes)} of memory, "
        f"{machine.cpu_cores} CPU cores, {bandwidth}, {gpu}. Speeds are estimates."
    )
    return 0


@_guarded
def cmd_search(args: argparse.Namespace) -> int:
    from desktop.library.hub import HubClient
    from desktop.library.network import offline_check_for

    paths = _paths(args)
    results = HubClient(offline_check_for(paths.database)).search(args.query, limit=args.limit)
    if args.json:
        data = [
            {
                "repo_id": r.repo_id,
                "downloads": r.downloads,
                "likes": r.likes,
                "last_modified": r.last_modified.isoformat() if r.last_modified else None,
            }
            for r in results
        ]
        print(json.dumps(data, indent=2))
        return 0
    if not results:
        print(f"No GGUF repositories match {args.query!r}.")
        return 0
    width = max(len("REPOSITORY"), *(len(r.repo_id) for r in results))
    print(f"{'REPOSITORY':<{width}}  {'DOWNLOADS':>10}  {'LIKES':>6}  UPDATED")
    for r in results:
        updated = r.last_modified.date().isoformat() if r.last_modified else ""
        print(f"{r.repo_id:<{width}}  {r.downloads:>10,}  {r.likes:>6,}  {updated}")
    print(f"\nSee a repository's files with: openweight models files {results[0].repo_id}")
    return 0


@_guarded
def cmd_files(args: argparse.Namespace) -> int:
    from desktop.library.hardware import detect_machine
    from desktop.library.hub import HubClient, recommend
    from desktop.library.network import offline_check_for
    from desktop.library.units import format_bytes

    paths = _paths(args)
    listing = HubClient(offline_check_for(paths.database)).list_files(args.repo, args.revision)
    machine = detect_machine()
    best = recommend(listing.models, machine)
    if args.json:
        print(json.dumps(_listing_json(listing, best, machine), indent=2))
        return 0
    print(f"{listing.repo_id} at {listing.revision[:12]}")
    if not listing.models:
        print("This repository has no GGUF model files.")
    for quant, models in listing.by_quantization().items():
        print(f"\n{quant}")
        for model in models:
            fit = model.fit(machine)
            label = fit.label if fit else "size unknown"
            name = f"{model.name} ({len(model.parts)} parts)" if model.is_split else model.filename
            size = format_bytes(model.size_bytes) if model.size_bytes else "?"
            star = "  <- recommended for this computer" if model is best else ""
            print(f"  {name:<48} {size:>9}  {label}{star}")
    if listing.projectors:
        names = ", ".join(p.filename for p in listing.projectors)
        print(f"\nVision add-ons (not chat models): {names}")
    if listing.incomplete_splits:
        print(f"\nSplit models with parts missing: {', '.join(listing.incomplete_splits)}")
    if listing.models:
        example = (best or listing.models[0]).filename
        print(f"\nDownload one with: openweight models download {listing.repo_id} {example}")
    return 0


def _listing_json(listing: Any, best: Any, machine: Any) -> dict[str, Any]:
    def model_json(model: Any) -> dict[str, Any]:
        fit = model.fit(machine)
        return {
            "name": model.name,
            "filename": model.filename,
            "quantization": model.quantization,
            "size_bytes": model.size_bytes,
            "parts": [
                {"filename": p.filename, "size_bytes": p.size_bytes, "sha256": p.sha256}
                for p in model.parts
            ],
            "fit": {"level": fit.level, "label": fit.label, "reason": fit.reason} if fit else None,
            "recommended": model is best,
        }

    return {
        "repo_id": listing.repo_id,
        "revision": listing.revision,
        "models": [model_json(m) for m in listing.models],
        "projectors": [model_json(m) for m in listing.projectors],
        "incomplete_splits": list(listing.incomplete_splits),
    }


@_guarded
def cmd_download(args: argparse.Namespace) -> int:
    from desktop.library.catalog import find_entry
    from desktop.library.downloads import DownloadManager
    from desktop.library.jobs import DownloadRequest, DownloadState
    from desktop.library.units import format_bytes

    paths = _paths(args)
    if args.file is None:
        if "/" in args.target:
            return _fail(
                f"Name the file to download from {args.target}. "
                f"Run 'openweight models files {args.target}' to see them."
            )
        request = DownloadRequest.from_catalog(find_entry(args.target))
    else:
        request = DownloadRequest(args.target, args.file, revision=args.revision)
    manager = DownloadManager(_chosen_models_folder(paths), paths.database)
    bar = ProgressBar(sys.stderr)
    manager.add_listener(bar.update)
    job = manager.enqueue(request)
    try:
        result = manager.wait(job)
    except KeyboardInterrupt:
        manager.pause(job)
        result = manager.wait(job, timeout=30)
    finally:
        manager.close()
        bar.finish()
    if result.state == DownloadState.COMPLETED and result.model is not None:
        model = result.model
        if result.message.startswith("Already"):
            print(f"{model.name} is already installed at {model.path}")
        else:
            print(f"{model.name} is ready ({format_bytes(model.size_bytes)}, SHA-256 verified).")
            print(f"Saved at {model.path}")
        return 0
    if result.state == DownloadState.PAUSED:
        pct = f" at {result.fraction:.0%}" if result.fraction is not None else ""
        print(
            f"Paused{pct}. Run the same command again to resume where it stopped.", file=sys.stderr
        )
        return 130
    return _fail(result.message)


def _chosen_models_folder(paths: DataPaths, store: Any = None) -> Path:
    """The models folder the user chose in Settings (or the default one)."""
    from desktop.library.relocate import models_folder
    from desktop.store import Store

    if store is not None:
        return models_folder(paths, store.settings)
    own = Store(paths.database)
    try:
        return models_folder(paths, own.settings)
    finally:
        own.close()


@_guarded
def cmd_remove(args: argparse.Namespace) -> int:
    from desktop.library.installed import remove_model
    from desktop.library.units import format_bytes
    from desktop.store import Store

    paths = _paths(args)
    store = Store(paths.database)
    try:
        removal = remove_model(store, args.name, _chosen_models_folder(paths, store))
    finally:
        store.close()
    name = removal.model.name
    if removal.kept is not None:
        print(f"Removed {name} from your models. Its file was left where it is: {removal.kept}")
    elif removal.deleted:
        print(f"Removed {name} and deleted its file, freeing {format_bytes(removal.freed_bytes)}.")
    else:
        print(f"Removed {name} (its file was already gone).")
    return 0


class ProgressBar:
    """A one-line bar on a terminal; a line every few seconds when output goes to a file."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.last_line = 0.0
        self.drawn = False
        self.last_state: str | None = None

    def update(self, progress: Any) -> None:
        from desktop.library.units import format_bytes, format_duration, format_rate

        now = time.monotonic()
        changed = progress.state != self.last_state
        self.last_state = progress.state
        if not self.tty and not changed and now - self.last_line < 2.0:
            return
        if progress.state in ("queued", "starting"):
            return
        self.last_line = now
        done, total = progress.downloaded_bytes, progress.total_bytes
        amount = f"{format_bytes(done)} / {format_bytes(total)}" if total else format_bytes(done)
        if progress.state == "downloading" and progress.fraction is not None:
            filled = int(_BAR_WIDTH * progress.fraction)
            bar = "#" * filled + "-" * (_BAR_WIDTH - filled)
            speed = format_rate(progress.speed_bps) if progress.speed_bps else "--"
            eta = format_duration(progress.eta_seconds)
            line = f"[{bar}] {progress.fraction:4.0%}  {amount}  {speed}  {eta} left"
        elif progress.state == "failed":
            return  # the command ends with the failure, said once
        else:
            line = f"{progress.name}: {progress.message}"
        if self.tty:
            self.stream.write("\r\x1b[2K" + line)
            self.drawn = True
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.tty and self.drawn:
            self.stream.write("\n")
            self.stream.flush()
