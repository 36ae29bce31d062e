"""Copies of the history made with SQLite's backup API (consistent even while the app writes),
kept in the data folder: one a day at start-up, the last seven kept; and restoring one."""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from desktop.store.errors import DamagedError, StoreError, classify

log = logging.getLogger("openweight.store")

KEEP = 7
DAILY_SECONDS = 24 * 3600
PREFIX = "openweight-"
SUFFIX = ".sqlite3"


@dataclass(frozen=True)
class Backup:
    path: Path
    created_at: float
    size_bytes: int


def backups_folder(database: Path) -> Path:
    return database.parent / "backups"


def list_backups(database: Path) -> list[Backup]:
    """Newest first."""
    folder = backups_folder(database)
    if not folder.is_dir():
        return []
    found: list[tuple[float, int, Path]] = []
    for path in folder.glob(f"{PREFIX}*{SUFFIX}"):
        stamp = path.name[len(PREFIX) : -len(SUFFIX)]
        try:
            created = time.mktime(time.strptime(stamp[:15], "%Y%m%d-%H%M%S"))
        except ValueError:
            continue
        extra = stamp[16:]
        found.append((created, int(extra) if extra.isdigit() else 0, path))
    found.sort(reverse=True)
    return [Backup(path, created, path.stat().st_size) for created, _n, path in found]


def back_up(database: Path, keep: int = KEEP) -> Backup:
    """Write a new backup now and drop all but the newest `keep`."""
    if not database.exists():
        raise StoreError(f"There is no history database at {database} to back up yet.")
    folder = backups_folder(database)
    now = time.time()
    # Microseconds in the name keep backups made in the same second apart and in order.
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now)) + f"-{int(now % 1 * 1e6):06d}"
    target = folder / f"{PREFIX}{stamp}{SUFFIX}"
    partial = target.with_name(target.name + ".part")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _copy(database, partial)
        partial.replace(target)  # a backup cut short never looks like a whole one
    except (sqlite3.Error, OSError) as exc:
        partial.unlink(missing_ok=True)
        known = classify(exc, database) if isinstance(exc, sqlite3.Error) else None
        raise known or StoreError(
            f"Could not write a backup of your history to {folder} "
            f"({getattr(exc, 'strerror', None) or exc})."
        ) from exc
    for old in list_backups(database)[keep:]:
        old.path.unlink(missing_ok=True)
    log.info("history backed up to %s", target)
    return Backup(target, time.time(), target.stat().st_size)


def backup_due(database: Path, now: float | None = None) -> bool:
    newest = list_backups(database)
    now = time.time() if now is None else now
    return database.exists() and (not newest or now - newest[0].created_at >= DAILY_SECONDS)


def restore(database: Path, source: Path) -> Path | None:
    """Put `source` in place of the history; the current database is kept aside first.

    Returns where the current one was kept (None when there was none). The copy goes through
    the backup API into the live file, so another Openweight with it open sees the result
    instead of writing into a file that was swapped away.
    """
    from desktop.store.recovery import check, keep_aside

    problem = check(source) if source.exists() else "no such file"
    if problem:
        raise DamagedError(f"The backup {source} cannot be restored: {problem}.")
    if not database.exists():
        _copy(source, database, single_file=False)
        return None
    if check(database) is not None:
        kept = keep_aside(database, "before-restore")
        _copy(source, database, single_file=False)
        return kept
    stamp = time.strftime("%Y%m%d-%H%M%S")
    kept = database.with_name(f"{database.name}.before-restore-{stamp}")
    _copy(database, kept)
    _copy(source, database, single_file=False)
    log.info("history restored from %s; the previous one is kept as %s", source, kept)
    return kept


def _copy(source: Path, target: Path, single_file: bool = True) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=10.0)
    dst = sqlite3.connect(str(target), timeout=10.0)
    try:
        src.backup(dst)
        if single_file:  # a copy lying in a folder is one file, with no -wal or -shm beside it
            dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()
