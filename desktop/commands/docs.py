"""`openweight docs`: collections of your own files to ask questions of."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from desktop.commands.common import (
    UserError,
    add_common,
    marked,
    open_store,
    paths_for,
    print_json,
)
from desktop.documents import (
    DEFAULT_EMBEDDING_MODEL,
    DocumentIndex,
    DocumentsError,
    IndexJob,
    IndexProgress,
    Retriever,
    embedder_factory,
)
from desktop.documents.retrieval import snippet_for
from desktop.engine.engines import Engines, build_engines
from desktop.store import Store


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("docs", help="collections of your files to ask questions of",
                              description="Make named collections of folders and files, index "
                              "them, and search them; 'openweight chat --docs NAME' answers from "
                              "them with citations.")
    add_common(p)
    sub = p.add_subparsers(dest="docs_command", metavar="ACTION", required=True)

    add = sub.add_parser("add", help="create a collection, or add folders/files to one")
    add_common(add)
    add.add_argument("name", metavar="NAME")
    add.add_argument("paths", nargs="+", metavar="PATH")
    add.set_defaults(handler=add_command)

    ls = sub.add_parser("list", help="collections with their files, passages and problems")
    add_common(ls)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=list_command)

    index = sub.add_parser("index", help="bring collections up to date with their folders")
    add_common(index)
    index.add_argument("name", nargs="?", metavar="NAME", help="only this collection")
    index.add_argument("--json", action="store_true", help="print a JSON summary")
    index.set_defaults(handler=index_command)

    search = sub.add_parser("search", help="the passages of a collection that match a question")
    add_common(search)
    search.add_argument("name", metavar="NAME")
    search.add_argument("query", metavar="QUERY")
    search.add_argument("--limit", type=int, default=5, metavar="N")
    search.add_argument("--bm25", action="store_true", help="keywords only, no embedding model")
    search.add_argument("--json", action="store_true")
    search.set_defaults(handler=search_command)

    remove = sub.add_parser("remove", help="delete a collection's index (your files stay)")
    add_common(remove)
    remove.add_argument("name", metavar="NAME")
    remove.add_argument("paths", nargs="*", metavar="PATH",
                        help="only stop indexing these folders/files")
    remove.set_defaults(handler=remove_command)


def _index(args: argparse.Namespace) -> DocumentIndex:
    try:
        return DocumentIndex(paths_for(args).documents_database)
    except DocumentsError as exc:
        raise UserError(str(exc)) from None


def add_command(args: argparse.Namespace) -> int:
    paths = []
    for text in args.paths:
        path = Path(text).expanduser().resolve()
        if not path.exists():
            raise UserError(f"{text} does not exist. Check the path and try again.")
        paths.append(str(path))
    index = _index(args)
    try:
        if index.find(args.name) is None:
            collection = index.create(args.name, paths)
            print(f"Created collection {collection.name!r} with {len(paths)} "
                  f"{'path' if len(paths) == 1 else 'paths'}. Index it with: "
                  f"openweight docs index {_quote(collection.name)}")
        else:
            collection = index.add_paths(args.name, paths)
            print(f"Collection {collection.name!r} now has {len(collection.paths)} paths. "
                  f"Index the new ones with: openweight docs index {_quote(collection.name)}")
    except DocumentsError as exc:
        raise UserError(str(exc)) from None
    finally:
        index.close()
    return 0


def list_command(args: argparse.Namespace) -> int:
    index = _index(args)
    try:
        statuses = [index.status(c.name) for c in index.collections()]
    finally:
        index.close()
    if args.json:
        print_json([s.to_json() for s in statuses])
        return 0
    if not statuses:
        print("No collections yet. Make one with: openweight docs add NAME FOLDER")
        return 0
    for s in statuses:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(s.indexed_at)) \
            if s.indexed_at else "never"
        search = (f"hybrid ({s.model})" if s.model and s.embedded_passages else "keywords only")
        print(f"{s.name}: {s.files} files, {s.passages} passages, indexed {when}, {search}")
        for p in s.paths:
            print(f"  {p}" + ("  (not found: unplugged or moved?)" if p in s.missing_paths else ""))
        if s.skipped:
            print(f"  {len(s.skipped)} skipped:")
            for path, reason in s.skipped:
                print(f"    {path}: {reason}")
    return 0


class _TerminalProgress:
    """One line redrawn in place on a terminal; nothing when output is redirected."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last = 0.0

    def __call__(self, p: IndexProgress) -> None:
        if not self.tty:
            return
        now = time.monotonic()
        if p.state not in ("done", "cancelled") and now - self.last < 0.1:
            return
        self.last = now
        left = f", about {_duration(p.seconds_left)} left" if p.seconds_left else ""
        line = (f"{p.collection}: {p.state} {p.files_done}/{p.files_total} files, "
                f"{p.passages} passages{left}")
        sys.stderr.write("\r\x1b[K" + line[:150])
        if p.state in ("done", "cancelled"):
            sys.stderr.write("\n")
        sys.stderr.flush()


@contextmanager
def _index_and_engines(args: argparse.Namespace) -> Iterator[tuple[Store, Engines, DocumentIndex]]:
    """The history (for the installed models), the engines (for embeddings) and the index,
    closed together whatever happens; a documents problem becomes one line."""
    store = open_store(args)
    engines = build_engines(store)
    try:
        index = _index(args)
        try:
            yield store, engines, index
        except DocumentsError as exc:
            raise UserError(str(exc)) from None
        finally:
            index.close()
    finally:
        engines.close()
        store.close()


def index_command(args: argparse.Namespace) -> int:
    with _index_and_engines(args) as (store, engines, index):
        names = [index.get(args.name).name] if args.name else [c.name for c in index.collections()]
        if not names:
            raise UserError("No collections yet. Make one with: openweight docs add NAME FOLDER")
        embedder_for = embedder_factory(engines.local, store.models.all)
        if not any(m.kind == "embedding" for m in store.models.all()) and not args.json:
            print(f"No embedding model is installed, so search uses keywords only. For search "
                  f"by meaning, download one: openweight models download {DEFAULT_EMBEDDING_MODEL}",
                  file=sys.stderr)
        job = IndexJob(paths_for(args).documents_database, names, embedder_for, _TerminalProgress())
        try:
            summaries = job.run()
        except KeyboardInterrupt:
            raise UserError("Indexing stopped; every file finished so far is kept. Run "
                            "'openweight docs index' again to go on.") from None
    if args.json:
        print_json([{**s.__dict__, "skipped": [{"path": p, "reason": r} for p, r in s.skipped]}
                    for s in summaries])
        return 0
    for s in summaries:
        parts = [f"{s.indexed} files indexed", f"{s.unchanged} unchanged"]
        if s.embedded:
            parts.append(f"{s.embedded} embedded with {s.model}")
        if s.removed:
            parts.append(f"{s.removed} removed")
        print(f"{s.collection}: " + ", ".join(parts) + f", {s.passages} passages "
              f"in {s.seconds:.1f} s")
        for path in s.missing_paths:
            print(f"  {path} is not there (unplugged drive?); what was indexed from it is kept")
        for path, reason in s.skipped:
            print(f"  skipped {path}: {reason}")
    return 0


def search_command(args: argparse.Namespace) -> int:
    with _index_and_engines(args) as (store, engines, index):
        collection = index.get(args.name)
        retriever = Retriever(index, embedder_factory(engines.local, store.models.all))
        hits = retriever.search([collection.name], args.query, args.limit,
                                "bm25" if args.bm25 else "hybrid")
    if args.json:
        print_json([{"path": h.path, "page": h.page, "heading": h.heading, "score": round(h.score, 4),
                     "bm25_rank": h.bm25_rank, "vector_rank": h.vector_rank, "text": h.text,
                     "start": h.start, "end": h.end} for h in hits])
        return 0
    if not hits:
        print(f"Nothing in {collection.name!r} matches {args.query!r}.")
        return 0
    for rank, h in enumerate(hits, 1):
        where = h.path + (f", page {h.page}" if h.page else "")
        print(f"{rank}. {where}  (score {h.score:.2f})")
        print("   " + marked(*snippet_for(h.text, args.query)))
    return 0


def remove_command(args: argparse.Namespace) -> int:
    index = _index(args)
    try:
        if args.paths:
            paths = [str(Path(p).expanduser().resolve()) for p in args.paths]
            collection = index.remove_paths(args.name, paths)
            print(f"Collection {collection.name!r} no longer indexes {len(paths)} "
                  f"{'path' if len(paths) == 1 else 'paths'}.")
        else:
            name = index.get(args.name).name
            index.delete(name)
            print(f"Removed collection {name!r}. Your files were not touched.")
    except DocumentsError as exc:
        raise UserError(str(exc)) from None
    finally:
        index.close()
    return 0


def _quote(name: str) -> str:
    return f'"{name}"' if " " in name else name


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    return f"{round(seconds / 60)} min"
