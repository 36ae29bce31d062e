"""`openweight history`: list, show, search, export and delete conversations."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict
from typing import Any

from desktop.commands.common import UserError, add_common, open_store, paths_for, print_json
from desktop.store import Store
from desktop.store.export import export_conversation, source_label
from desktop.store.history import NotFoundError


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("history", help="your saved conversations")
    add_common(p)
    sub = p.add_subparsers(dest="history_command", metavar="COMMAND", required=True)

    ls = sub.add_parser("list", help="conversations, newest first")
    add_common(ls)
    ls.add_argument("--limit", type=int, default=50)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=list_conversations)

    show = sub.add_parser("show", help="one conversation's messages")
    add_common(show)
    show.add_argument("id", nargs="?", type=int)
    show.add_argument("--last", action="store_true", help="the most recent conversation")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=show_conversation)

    search = sub.add_parser("search", help="full-text search over every message")
    add_common(search)
    search.add_argument("text")
    search.add_argument("--json", action="store_true")
    search.set_defaults(handler=search_messages)

    export = sub.add_parser("export", help="write a conversation as Markdown or JSON")
    add_common(export)
    export.add_argument("id", type=int)
    export.add_argument("--format", choices=["md", "json"], default="md")
    export.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of stdout")
    export.set_defaults(handler=export_one)

    delete = sub.add_parser("delete", help="delete a conversation")
    add_common(delete)
    delete.add_argument("id", type=int)
    delete.set_defaults(handler=delete_one)

    backup = sub.add_parser("backup", help="back up the history now (one is made daily anyway)")
    add_common(backup)
    backup.set_defaults(handler=backup_now)

    backups = sub.add_parser("backups", help="the backups kept (the last 7), newest first")
    add_common(backups)
    backups.add_argument("--json", action="store_true")
    backups.set_defaults(handler=list_backups_cmd)

    restore = sub.add_parser(
        "restore", help="replace the history with a backup (the current one is kept aside)"
    )
    add_common(restore)
    restore.add_argument("file", nargs="?", metavar="FILE", help="a backup file")
    restore.add_argument("--latest", action="store_true", help="the newest backup")
    restore.set_defaults(handler=restore_cmd)


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def list_conversations(args: argparse.Namespace) -> int:
    store = open_store(args)
    convs = store.history.conversations(limit=args.limit)
    if args.json:
        print_json([{**asdict(c), "message_count": store.history.message_count(c.id)} for c in convs])
        return 0
    if not convs:
        print("No conversations yet. Start one with: openweight chat \"Hello\"")
        return 0
    for c in convs:
        pin = "📌 " if c.pinned else ""
        print(f"{c.id:>5}  {_when(c.updated_at)}  {pin}{c.title}  ({store.history.message_count(c.id)} messages)")
    return 0


def _conversation_id(store: Store, args: argparse.Namespace) -> int:
    if args.last or args.id is None:
        latest = store.history.latest_conversation()
        if latest is None:
            raise UserError("There are no conversations yet.")
        return latest.id
    return int(args.id)


def show_conversation(args: argparse.Namespace) -> int:
    store = open_store(args)
    try:
        conv_id = _conversation_id(store, args)
        conv = store.history.conversation(conv_id)
        branch = store.history.branch(conv_id)
    except NotFoundError as exc:
        raise UserError(str(exc)) from None
    if args.json:
        print_json({"conversation": asdict(conv), "messages": [asdict(m) for m in branch]})
        return 0
    print(f"# {conv.title}  (conversation {conv.id}, {conv.model or 'no model yet'})")
    for m in branch:
        who = {"user": "You", "assistant": "Assistant", "system": "System"}[m.role]
        note = "" if m.status == "complete" else f" [{m.status}]"
        print(f"\n{who}{note}:")
        if m.reasoning:
            print("  (thinking) " + m.reasoning.strip().replace("\n", "\n  "))
        print(m.content)
        for i, source in enumerate(m.sources):
            print(f"  [{source.get('number', i + 1)}] {source_label(source)}")
        if m.error:
            print(f"  ! {m.error}")
    return 0


def search_messages(args: argparse.Namespace) -> int:
    store = open_store(args)
    hits = store.history.search(args.text)
    if args.json:
        print_json([asdict(h) for h in hits])
        return 0
    if not hits:
        print(f"Nothing matches {args.text!r}.")
        return 0
    for h in hits:
        print(f"{h.conversation_id:>5}  {h.conversation_title}  [{h.role}, message {h.message_id}]  {h.snippet}")
    return 0


def export_one(args: argparse.Namespace) -> int:
    store = open_store(args)
    try:
        text = export_conversation(store.history, args.id, args.format)
    except NotFoundError as exc:
        raise UserError(str(exc)) from None
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            raise UserError(f"Could not write {args.output}: {exc.strerror or exc}") from None
        print(f"Exported conversation {args.id} to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def delete_one(args: argparse.Namespace) -> int:
    store = open_store(args)
    try:
        title = store.history.conversation(args.id).title
        store.history.delete_conversation(args.id)
    except NotFoundError as exc:
        raise UserError(str(exc)) from None
    print(f"Deleted conversation {args.id} ({title}).")
    return 0


def backup_now(args: argparse.Namespace) -> int:
    from desktop.store.backups import back_up

    database = paths_for(args).database
    made = back_up(database)
    print(f"Backed up your history to {made.path} ({made.size_bytes / 1e6:.1f} MB).")
    return 0


def list_backups_cmd(args: argparse.Namespace) -> int:
    from desktop.store.backups import backups_folder, list_backups

    database = paths_for(args).database
    found = list_backups(database)
    if args.json:
        print_json([{"path": str(b.path), "created_at": b.created_at, "size_bytes": b.size_bytes}
                    for b in found])
        return 0
    if not found:
        print(f"No backups yet in {backups_folder(database)}. Make one with: "
              "openweight history backup")
        return 0
    for b in found:
        print(f"{_when(b.created_at)}  {b.size_bytes / 1e6:6.1f} MB  {b.path}")
    return 0


def restore_cmd(args: argparse.Namespace) -> int:
    from pathlib import Path

    from desktop.store.backups import list_backups, restore

    database = paths_for(args).database
    if args.latest == bool(args.file):
        raise UserError("Say which backup to restore: a FILE, or --latest for the newest.")
    if args.latest:
        found = list_backups(database)
        if not found:
            raise UserError("There are no backups to restore yet.")
        source = found[0].path
    else:
        source = Path(args.file).expanduser().resolve()
    kept = restore(database, source)
    print(f"Restored your history from {source}.")
    if kept is not None:
        print(f"The history it replaced is kept as {kept}.")
    return 0
