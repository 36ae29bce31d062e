"""SQLite errors split in two, as qutebrowser does: ones a person can act on, and bugs.

A full disk, a read-only folder, a database another program holds, a damaged file: these
happen on real machines and get a message that says what to do. Anything else (a syntax
error, a constraint we broke) is a bug in Openweight and is left to propagate as it is.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any


class StoreError(Exception):
    """A problem with the history database, worded for the user."""


class NewerSchemaError(StoreError):
    pass


class DiskFullError(StoreError):
    """The disk (or the file-size limit) has no room for what was being saved."""


class ReadOnlyError(StoreError):
    """The data folder or database file cannot be written to."""


class LockedError(StoreError):
    """Another program holds the database and did not let go in time."""


class DamagedError(StoreError):
    """The database file is damaged or is not a database."""


# Primary result codes (the low byte of an extended code); see sqlite.org/rescode.html.
_FULL, _READONLY, _BUSY, _LOCKED, _CORRUPT, _NOTADB = 13, 8, 5, 6, 11, 26
_CANTOPEN, _PERM, _IOERR, _NOLFS, _AUTH = 14, 3, 10, 22, 23
# Extended I/O codes that a full disk or a quota produces on some systems.
_IOERR_WRITE_LIKE = {778, 1290, 1546, 3338, 4874}  # WRITE, FSYNC, TRUNCATE, SHMSIZE, DIR_FSYNC


def error_code(exc: BaseException) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return int(code) if isinstance(code, int) else None


def is_known(exc: BaseException) -> bool:
    """True for errors that come from the machine (disk, permissions, locks, damage)."""
    return classify(exc, "") is not None


def classify(exc: BaseException, path: Path | str) -> StoreError | None:
    """A StoreError that says what happened and what to do, or None for a bug."""
    if isinstance(exc, StoreError):
        return exc
    if not isinstance(exc, sqlite3.Error):
        return None
    code = error_code(exc)
    text = str(exc).lower()
    primary = code & 0xFF if code is not None else None
    where = f" ({path})" if path else ""
    if primary == _FULL or (code in _IOERR_WRITE_LIKE) or "disk is full" in text:
        return DiskFullError(
            f"Openweight could not save to its history database{where}: the disk is full "
            f"({exc}). Free some space and try again; everything saved before this is kept."
        )
    if primary in (_READONLY, _CANTOPEN, _PERM, _AUTH) or "readonly" in text or "read-only" in text:
        return ReadOnlyError(
            f"Openweight cannot write to its history database{where} ({exc}). Check that the "
            "data folder exists and that you may write to it, or choose another one with "
            "--data-dir or OPENWEIGHT_HOME."
        )
    if primary in (_BUSY, _LOCKED) or "database is locked" in text:
        return LockedError(
            f"The history database{where} is being used by another program and stayed locked "
            f"({exc}). Close the other program (or another Openweight using the same data "
            "folder) and try again."
        )
    if primary in (_CORRUPT, _NOTADB) or "malformed" in text or "not a database" in text:
        return DamagedError(
            f"The history database{where} is damaged ({exc}). Restart Openweight to keep the "
            "damaged file aside and recover what it can, or restore a backup with "
            "'openweight history restore --latest'."
        )
    if primary in (_IOERR, _NOLFS):
        return DiskFullError(
            f"Openweight could not read or write its history database{where} ({exc}). The disk "
            "may be full or failing; free some space, check the disk and try again."
        )
    return None


class GuardedCursor(sqlite3.Cursor):
    """A cursor whose machine-made errors arrive as StoreErrors (bugs pass through)."""

    path: str = ""

    def execute(self, sql: str, parameters: object = (), /) -> GuardedCursor:  # type: ignore[override]
        try:
            super().execute(sql, parameters)  # type: ignore[arg-type]
        except sqlite3.Error as exc:
            _raise_known(exc, self.path)
            raise
        return self

    def executemany(self, sql: str, seq: object, /) -> GuardedCursor:  # type: ignore[override]
        try:
            super().executemany(sql, seq)  # type: ignore[arg-type]
        except sqlite3.Error as exc:
            _raise_known(exc, self.path)
            raise
        return self

    def fetchone(self) -> Any:
        try:
            return super().fetchone()
        except sqlite3.Error as exc:
            _raise_known(exc, self.path)
            raise

    def fetchall(self) -> list[Any]:
        try:
            return super().fetchall()
        except sqlite3.Error as exc:
            _raise_known(exc, self.path)
            raise

    def __next__(self) -> Any:
        try:
            return super().__next__()
        except sqlite3.Error as exc:
            _raise_known(exc, self.path)
            raise

    def fetchmany(self, size: int | None = 1) -> list[Any]:
        try:
            return super().fetchmany(size or 1)
        except sqlite3.Error as exc:
            _raise_known(exc, self.path)
            raise


class GuardedConnection(sqlite3.Connection):
    """sqlite3.Connection (made with factory=) whose statements raise StoreErrors for the
    errors a person can act on, so every caller gets the same plain words."""

    path: str = ""

    def cursor(self, factory: object = None) -> GuardedCursor:  # type: ignore[override]
        cur = super().cursor(GuardedCursor)  # type: ignore[arg-type]
        cur.path = self.path
        return cur  # type: ignore[return-value]

    def execute(self, sql: str, parameters: object = (), /) -> GuardedCursor:  # type: ignore[override]
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, seq: object, /) -> GuardedCursor:  # type: ignore[override]
        return self.cursor().executemany(sql, seq)

    def executescript(self, script: str, /) -> sqlite3.Cursor:
        try:
            return super().executescript(script)
        except sqlite3.Error as exc:
            _raise_known(exc, self.path)
            raise

    def commit(self) -> None:
        try:
            super().commit()
        except sqlite3.Error as exc:
            _raise_known(exc, self.path)
            raise


def _raise_known(exc: sqlite3.Error, path: str) -> None:
    known = classify(exc, path)
    if known is None:
        return
    if isinstance(known, DamagedError) and path and path != ":memory:":
        _mark_for_check(Path(path))
    raise known from exc


def check_marker(database: Path) -> Path:
    """A file whose presence makes the next start-up check (and if need be recover) the
    database: damage met while running is repaired at the next start, as the message says."""
    return database.with_name(database.name + ".needs-check")


def _mark_for_check(database: Path) -> None:
    try:
        check_marker(database).touch()
    except OSError:
        pass
