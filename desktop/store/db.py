"""Opening the SQLite database: pragmas, schema version and forward migrations."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import Any

import sqlite_utils

from desktop.store.errors import (  # noqa: F401 - StoreError's old home, still imported from here
    GuardedConnection,
    NewerSchemaError,
    ReadOnlyError,
    StoreError,
)

log = logging.getLogger("openweight.store")


def _migrate_1(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE conversations (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL DEFAULT 'New chat',
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            model TEXT,
            system_prompt TEXT NOT NULL DEFAULT '',
            settings TEXT NOT NULL DEFAULT '{}',
            pinned INTEGER NOT NULL DEFAULT 0,
            current_leaf_id INTEGER
        )"""
    )
    db.execute(
        """
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            parent_id INTEGER REFERENCES messages(id) ON DELETE CASCADE,
            role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
            content TEXT NOT NULL DEFAULT '',
            reasoning TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'complete'
                CHECK (status IN ('streaming', 'complete', 'stopped', 'failed', 'interrupted')),
            model TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            stats TEXT NOT NULL DEFAULT '{}',
            error TEXT,
            owner_pid INTEGER
        )"""
    )
    db.execute("CREATE INDEX messages_conversation ON messages(conversation_id, id)")
    db.execute("CREATE INDEX messages_parent ON messages(parent_id)")
    db.execute("CREATE INDEX messages_status ON messages(status)")
    db.execute("CREATE INDEX conversations_updated ON conversations(updated_at)")
    # External-content FTS5 index kept in step by triggers, so search never lags a write.
    db.table("messages").enable_fts(
        ["content", "reasoning"], fts_version="FTS5", create_triggers=True, tokenize="porter"
    )
    db.execute(
        """
        CREATE TABLE models (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            path TEXT NOT NULL,
            size_bytes INTEGER NOT NULL DEFAULT 0,
            sha256 TEXT,
            architecture TEXT,
            parameters INTEGER,
            quantization TEXT,
            context_length INTEGER,
            has_chat_template INTEGER NOT NULL DEFAULT 0,
            reasoning_style TEXT,
            source TEXT NOT NULL DEFAULT 'import',
            repo_id TEXT,
            filename TEXT,
            revision TEXT,
            added_at REAL NOT NULL
        )"""
    )
    db.execute("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


def _migrate_2(db: sqlite_utils.Database) -> None:
    # Embedding models (for local documents) live beside chat models but are not for chatting.
    db.execute("ALTER TABLE models ADD COLUMN kind TEXT NOT NULL DEFAULT 'chat'")


def _migrate_3(db: sqlite_utils.Database) -> None:
    # Local documents: the collections a chat asks, and the sources each answer cited (JSON).
    db.execute("ALTER TABLE conversations ADD COLUMN collections TEXT NOT NULL DEFAULT '[]'")
    db.execute("ALTER TABLE messages ADD COLUMN sources TEXT NOT NULL DEFAULT '[]'")


def _migrate_4(db: sqlite_utils.Database) -> None:
    # Search finds answers by the files they cited: their names go into the full-text index
    # (names only: every path shares folders like "home" that would match everything).
    db.execute("ALTER TABLE messages ADD COLUMN source_names TEXT NOT NULL DEFAULT ''")
    rows = db.execute("SELECT id, sources FROM messages WHERE sources != '[]'").fetchall()
    for message_id, sources in rows:
        try:
            names = source_names(json.loads(sources))
        except (ValueError, TypeError, AttributeError):
            continue  # unreadable sources stay unsearchable, as before
        db.execute("UPDATE messages SET source_names = ? WHERE id = ?", (names, message_id))
    db.table("messages").disable_fts()
    db.table("messages").enable_fts(
        ["content", "reasoning", "source_names"], fts_version="FTS5", create_triggers=True,
        tokenize="porter"
    )


def source_names(sources: list[dict[str, Any]]) -> str:
    """The file names an answer's sources came from, for the search index."""
    names = (PurePath(str(s.get("path") or "")).name for s in sources)
    return " ".join(dict.fromkeys(n for n in names if n))


# Index i holds the step from version i to i+1. Append; never edit a released step.
MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _migrate_1, _migrate_2, _migrate_3, _migrate_4]
SCHEMA_VERSION = len(MIGRATIONS)


BUSY_TIMEOUT_S = 10.0  # how long a write waits for another program's lock before saying so


def connect(path: Path | str, busy_timeout: float | None = None) -> sqlite_utils.Database:
    """Open (creating or upgrading) the database; one connection per thread."""
    if busy_timeout is None:
        busy_timeout = BUSY_TIMEOUT_S  # read at each call, so a test can shorten it
    if str(path) != ":memory:":
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ReadOnlyError(
                f"Openweight cannot create its data folder {Path(path).parent} "
                f"({exc.strerror or exc}). Choose a folder you may write to with --data-dir "
                "or OPENWEIGHT_HOME."
            ) from exc
    conn: sqlite3.Connection | None = None
    try:
        conn = sqlite3.connect(
            str(path), timeout=busy_timeout, isolation_level=None, factory=GuardedConnection
        )
        conn.path = str(path)  # type: ignore[attr-defined]
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except StoreError:
        if conn is not None:
            conn.close()
        raise
    except sqlite3.DatabaseError as exc:
        if conn is not None:
            conn.close()
        raise StoreError(
            f"The history database at {path} cannot be read ({exc}). "
            "It may be damaged or not an Openweight database."
        ) from exc
    if version > SCHEMA_VERSION:
        conn.close()
        raise NewerSchemaError(
            f"The history database at {path} was written by a newer version of Openweight "
            f"(schema {version}, this version knows {SCHEMA_VERSION}). "
            "Update Openweight to open it; nothing was changed."
        )
    db = sqlite_utils.Database(conn)
    if version < SCHEMA_VERSION:
        _upgrade(db, version)
    return db


def _upgrade(db: sqlite_utils.Database, version: int) -> None:
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Another process may have migrated while we waited for the write lock.
        current = conn.execute("PRAGMA user_version").fetchone()[0]
        for step in range(current, SCHEMA_VERSION):
            log.info("migrating history database to schema %d", step + 1)
            MIGRATIONS[step](db)
            conn.execute(f"PRAGMA user_version = {step + 1}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
