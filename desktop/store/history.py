"""Conversations and messages, with branches and full-text search."""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import sqlite_utils

from desktop.store.db import source_names
from desktop.store.records import ChatSettings, Conversation, Message, SearchHit


class NotFoundError(LookupError):
    """A conversation or message that does not exist (any more)."""


class History:
    """Reads and writes chats through one connection (use one History per thread)."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self.conn = db.conn

    # -- conversations -------------------------------------------------------------------

    def create_conversation(
        self,
        *,
        title: str = "New chat",
        model: str | None = None,
        system_prompt: str = "",
        settings: ChatSettings | None = None,
    ) -> Conversation:
        now = time.time()
        cur = self.conn.execute(
            "INSERT INTO conversations (title, created_at, updated_at, model, system_prompt, settings)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (title, now, now, model, system_prompt, (settings or ChatSettings()).to_json()),
        )
        return self.conversation(int(cur.lastrowid or 0))

    def conversation(self, conversation_id: int) -> Conversation:
        row = self._row("SELECT * FROM conversations WHERE id = ?", (conversation_id,))
        if row is None:
            raise NotFoundError(f"There is no conversation {conversation_id}.")
        return Conversation.from_row(row)

    def conversations(self, limit: int | None = None) -> list[Conversation]:
        """Pinned first, then most recently updated."""
        sql = "SELECT * FROM conversations ORDER BY pinned DESC, updated_at DESC, id DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [Conversation.from_row(r) for r in self._rows(sql)]

    def latest_conversation(self) -> Conversation | None:
        row = self._row("SELECT * FROM conversations ORDER BY updated_at DESC, id DESC LIMIT 1")
        return Conversation.from_row(row) if row else None

    def update_conversation(
        self,
        conversation_id: int,
        *,
        title: str | None = None,
        model: str | None = None,
        system_prompt: str | None = None,
        settings: ChatSettings | None = None,
        pinned: bool | None = None,
        touch: bool = False,
        collections: list[str] | None = None,
    ) -> Conversation:
        changes: dict[str, Any] = {}
        if collections is not None:
            changes["collections"] = json.dumps(list(dict.fromkeys(collections)))
        if title is not None:
            changes["title"] = title.strip() or "New chat"
        if model is not None:
            changes["model"] = model
        if system_prompt is not None:
            changes["system_prompt"] = system_prompt
        if settings is not None:
            changes["settings"] = settings.to_json()
        if pinned is not None:
            changes["pinned"] = int(pinned)
        if touch:
            changes["updated_at"] = time.time()
        if changes:
            assignments = ", ".join(f"{k} = ?" for k in changes)
            self.conn.execute(
                f"UPDATE conversations SET {assignments} WHERE id = ?",
                (*changes.values(), conversation_id),
            )
        return self.conversation(conversation_id)

    def delete_conversation(self, conversation_id: int) -> None:
        self.conversation(conversation_id)
        self.conn.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    # -- messages ------------------------------------------------------------------------

    def add_message(
        self,
        conversation_id: int,
        role: str,
        content: str,
        *,
        parent_id: int | None = None,
        status: str = "complete",
        model: str | None = None,
        reasoning: str = "",
    ) -> Message:
        """Append a message under parent_id and make it the tip of the shown branch."""
        now = time.time()
        owner = os.getpid() if status == "streaming" else None
        with self._transaction():
            cur = self.conn.execute(
                "INSERT INTO messages (conversation_id, parent_id, role, content, reasoning, status,"
                " model, created_at, updated_at, owner_pid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (conversation_id, parent_id, role, content, reasoning, status, model, now, now, owner),
            )
            message_id = int(cur.lastrowid or 0)
            self.conn.execute(
                "UPDATE conversations SET current_leaf_id = ?, updated_at = ? WHERE id = ?",
                (message_id, now, conversation_id),
            )
        return self.message(message_id)

    def message(self, message_id: int) -> Message:
        row = self._row("SELECT * FROM messages WHERE id = ?", (message_id,))
        if row is None:
            raise NotFoundError(f"There is no message {message_id}.")
        return Message.from_row(row)

    def update_message(
        self,
        message_id: int,
        *,
        content: str | None = None,
        reasoning: str | None = None,
        status: str | None = None,
        stats: dict[str, Any] | None = None,
        error: str | None = None,
        sources: list[dict[str, Any]] | None = None,
    ) -> None:
        changes: dict[str, Any] = {"updated_at": time.time()}
        if sources is not None:
            changes["sources"] = json.dumps(sources, ensure_ascii=False)
            changes["source_names"] = source_names(sources)
        if content is not None:
            changes["content"] = content
        if reasoning is not None:
            changes["reasoning"] = reasoning
        if status is not None:
            changes["status"] = status
        if stats is not None:
            changes["stats"] = json.dumps(stats)
        if error is not None:
            changes["error"] = error
        assignments = ", ".join(f"{k} = ?" for k in changes)
        self.conn.execute(
            f"UPDATE messages SET {assignments} WHERE id = ?", (*changes.values(), message_id)
        )

    def messages(self, conversation_id: int) -> list[Message]:
        """Every message of a conversation, all branches, oldest first."""
        rows = self._rows(
            "SELECT * FROM messages WHERE conversation_id = ? ORDER BY id", (conversation_id,)
        )
        return [Message.from_row(r) for r in rows]

    def branch(self, conversation_id: int, leaf_id: int | None = None) -> list[Message]:
        """The messages on the path from the root to leaf_id (default: the shown branch)."""
        if leaf_id is None:
            leaf_id = self.conversation(conversation_id).current_leaf_id
        if leaf_id is None:
            return []
        rows = self._rows(
            """
            WITH RECURSIVE path(id, parent_id, depth) AS (
                SELECT id, parent_id, 0 FROM messages WHERE id = ? AND conversation_id = ?
                UNION ALL
                SELECT m.id, m.parent_id, path.depth + 1 FROM messages m JOIN path ON m.id = path.parent_id
            )
            SELECT messages.* FROM messages JOIN path USING (id) ORDER BY path.depth DESC
            """,
            (leaf_id, conversation_id),
        )
        return [Message.from_row(r) for r in rows]

    def siblings(self, message_id: int) -> list[Message]:
        """The versions of a message: those sharing its parent and role, oldest first."""
        msg = self.message(message_id)
        rows = self._rows(
            "SELECT * FROM messages WHERE conversation_id = ? AND role = ? AND parent_id IS ?"
            " ORDER BY id",
            (msg.conversation_id, msg.role, msg.parent_id),
        )
        return [Message.from_row(r) for r in rows]

    def select_branch(self, message_id: int) -> list[Message]:
        """Show the branch through message_id, following its newest descendants; returns it."""
        msg = self.message(message_id)
        leaf = msg.id
        while True:
            row = self._row(
                "SELECT id FROM messages WHERE parent_id = ? ORDER BY id DESC LIMIT 1", (leaf,)
            )
            if row is None:
                break
            leaf = row["id"]
        self.conn.execute(
            "UPDATE conversations SET current_leaf_id = ? WHERE id = ?", (leaf, msg.conversation_id)
        )
        return self.branch(msg.conversation_id, leaf)

    def mark_interrupted(self) -> int:
        """Answers left 'streaming' by a process that died become 'interrupted'.

        Another live Openweight process (the window while the CLI runs) keeps its own.
        """
        rows = self._rows("SELECT id, owner_pid FROM messages WHERE status = 'streaming'")
        orphans = [r["id"] for r in rows if not _process_alive(r["owner_pid"])]
        for message_id in orphans:
            self.conn.execute(
                "UPDATE messages SET status = 'interrupted' WHERE id = ? AND status = 'streaming'",
                (message_id,),
            )
        return len(orphans)

    def message_count(self, conversation_id: int) -> int:
        row = self._row(
            "SELECT count(*) AS n FROM messages WHERE conversation_id = ?", (conversation_id,)
        )
        return int(row["n"]) if row else 0

    # -- search --------------------------------------------------------------------------

    def search(self, text: str, limit: int = 50) -> list[SearchHit]:
        """Full-text search over every message; words are matched as prefixes."""
        query = _fts_query(text)
        if not query:
            return []
        rows = self._rows(
            """
            SELECT m.id AS message_id, m.conversation_id, m.role, c.title,
                   snippet(messages_fts, -1, '[', ']', '…', 12) AS snippet
            FROM messages_fts
            JOIN messages m ON m.rowid = messages_fts.rowid
            JOIN conversations c ON c.id = m.conversation_id
            WHERE messages_fts MATCH ?
            ORDER BY rank LIMIT ?
            """,
            (query, limit),
        )
        return [
            SearchHit(
                conversation_id=r["conversation_id"],
                conversation_title=r["title"],
                message_id=r["message_id"],
                role=r["role"],
                snippet=r["snippet"],
            )
            for r in rows
        ]

    # -- helpers -------------------------------------------------------------------------

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        cur = self.conn.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def _row(self, sql: str, params: tuple[Any, ...] = ()) -> dict[str, Any] | None:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    def _transaction(self) -> _Transaction:
        return _Transaction(self.conn)


class _Transaction:
    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.outer = conn.in_transaction

    def __enter__(self) -> None:
        if not self.outer:
            self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if self.outer:
            return
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")


def _fts_query(text: str) -> str:
    """Turn what a person types into a safe FTS5 query (no syntax errors from quotes etc.)."""
    words = [w for w in "".join(c if c.isalnum() else " " for c in text).split() if w]
    return " ".join(f'"{w}"*' for w in words)


def _process_alive(pid: int | None) -> bool:
    if not pid or pid == os.getpid():
        return False  # called at start-up: nothing of ours can be streaming yet
    if sys.platform == "win32":
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)  # type: ignore[attr-defined]
        if not handle:
            return False
        ctypes.windll.kernel32.CloseHandle(handle)  # type: ignore[attr-defined]
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
