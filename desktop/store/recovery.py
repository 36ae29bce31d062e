"""A damaged history database is never written over: it is kept aside, and what still reads
is copied into a fresh one, so the app starts and the person is told what happened."""

from __future__ import annotations

import logging
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from desktop.store.errors import DamagedError

log = logging.getLogger("openweight.store")

SQLITE_MAGIC = b"SQLite format 3\x00"
# Parents before children, so foreign keys find their rows.
TABLES = ("conversations", "messages", "models", "settings")
MAX_SKIPS = 2000  # rowids tried past an unreadable spot before giving up on a table


@dataclass
class Recovery:
    """What happened to a damaged database at start-up."""

    kept_as: Path
    salvaged: dict[str, int] = field(default_factory=dict)
    reason: str = ""

    @property
    def notice(self) -> str:
        rows = self.salvaged.get("messages", 0)
        chats = self.salvaged.get("conversations", 0)
        return (
            f"Your history database was damaged ({self.reason}). Openweight kept the damaged "
            f"file as {self.kept_as} and recovered {chats} chats and {rows} messages from it "
            "into a fresh database. If something is missing, restore a backup with "
            "'openweight history restore --latest'."
        )


def check(path: Path) -> str | None:
    """None when the database reads cleanly, else what SQLite says is wrong (read-only check)."""
    if not path.exists():
        return None
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
        if head and head != SQLITE_MAGIC:
            return "file is not a database"
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10.0)
        try:
            rows = [r[0] for r in conn.execute("PRAGMA quick_check(5)").fetchall()]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        code = getattr(exc, "sqlite_errorcode", 0) or 0
        if code & 0xFF in (11, 26) or "malformed" in str(exc) or "not a database" in str(exc):
            return str(exc)
        raise
    return None if rows == ["ok"] else "; ".join(rows)[:300]


def keep_aside(path: Path, label: str = "damaged") -> Path:
    """Rename the database (with its -wal and -shm) out of the way; returns its new name."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.{label}-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.{label}-{stamp}-{n}")
    for suffix in ("-wal", "-shm"):
        side = Path(str(path) + suffix)
        if side.exists():
            side.rename(Path(str(target) + suffix))
    path.rename(target)
    return target


def recover(path: Path, reason: str) -> Recovery:
    """Keep the damaged file aside, make a fresh database and copy into it what still reads."""
    from desktop.store.db import connect

    kept = keep_aside(path)
    log.warning("history database damaged (%s): kept aside as %s", reason, kept)
    recovery = Recovery(kept_as=kept, reason=reason)
    db = connect(path)
    try:
        with tempfile.TemporaryDirectory(prefix="openweight-salvage-") as scratch:
            # Salvage from a copy, so the kept file stays exactly as it was found.
            copy = Path(scratch) / "damaged.sqlite3"
            shutil.copyfile(kept, copy)
            wal = Path(str(kept) + "-wal")
            if wal.exists():
                shutil.copyfile(wal, Path(str(copy) + "-wal"))
            _repair_magic(copy)
            recovery.salvaged = _salvage(copy, db.conn)
    except (sqlite3.Error, OSError) as exc:
        log.warning("salvage stopped early: %s", exc)
    finally:
        db.conn.close()
    log.warning("salvaged from the damaged database: %s", recovery.salvaged)
    return recovery


def _repair_magic(copy: Path) -> None:
    """A damaged first line hides every page from SQLite; put the known header text back."""
    with copy.open("r+b") as fh:
        head = fh.read(16)
        if len(head) == 16 and head != SQLITE_MAGIC:
            fh.seek(0)
            fh.write(SQLITE_MAGIC)


def _salvage(source: Path, target: sqlite3.Connection) -> dict[str, int]:
    counts: dict[str, int] = {}
    try:
        src = sqlite3.connect(str(source), isolation_level=None)
        src.execute("PRAGMA query_only=ON")
    except sqlite3.Error:
        return counts
    try:
        target.execute("PRAGMA foreign_keys=OFF")
        target.execute("BEGIN IMMEDIATE")
        for table in TABLES:
            counts[table] = _copy_table(src, target, table)
        _mend_links(target)
        target.execute("COMMIT")
    except sqlite3.Error:
        if target.in_transaction:
            target.execute("ROLLBACK")
        raise
    finally:
        target.execute("PRAGMA foreign_keys=ON")
        src.close()
    return counts


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    try:
        return [r[1] for r in conn.execute(f"PRAGMA table_info({table})").fetchall()]
    except sqlite3.Error:
        return []


def _copy_table(src: sqlite3.Connection, dst: sqlite3.Connection, table: str) -> int:
    """Every row that still reads, stepping past unreadable spots rowid by rowid."""
    wanted = set(_columns(dst, table))
    columns = [c for c in _columns(src, table) if c in wanted]
    if not columns:
        return 0
    names = ", ".join(columns)
    insert = f"INSERT OR IGNORE INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})"
    copied, last, skips = 0, -(2**63), 0
    while skips < MAX_SKIPS:
        try:
            cur = src.execute(
                f"SELECT rowid, {names} FROM {table} WHERE rowid > ? ORDER BY rowid", (last,)
            )
            for row in cur:
                last = row[0]
                try:
                    dst.execute(insert, row[1:])
                    copied += 1
                except sqlite3.Error:
                    continue
            break
        except sqlite3.DatabaseError:
            last = last + 1 if last > -(2**63) else 0
            skips += 1
    return copied


def _mend_links(dst: sqlite3.Connection) -> None:
    """Messages whose chat or parent was lost still show: under a recovered chat, as a root."""
    now = time.time()
    dst.execute(
        "INSERT INTO conversations (id, title, created_at, updated_at)"
        " SELECT DISTINCT conversation_id, 'Recovered chat', ?, ? FROM messages"
        " WHERE conversation_id NOT IN (SELECT id FROM conversations)",
        (now, now),
    )
    dst.execute(
        "UPDATE messages SET parent_id = NULL"
        " WHERE parent_id IS NOT NULL AND parent_id NOT IN (SELECT id FROM messages)"
    )
    dst.execute(
        "UPDATE conversations SET current_leaf_id = (SELECT max(id) FROM messages m"
        " WHERE m.conversation_id = conversations.id)"
        " WHERE current_leaf_id IS NULL OR current_leaf_id NOT IN (SELECT id FROM messages)"
    )


def open_damage_reason(exc: BaseException) -> str | None:
    """The reason to recover when opening failed because the file is damaged, else None."""
    if isinstance(exc, DamagedError):
        cause = exc.__cause__
        return str(cause) if cause is not None else str(exc)
    return None
