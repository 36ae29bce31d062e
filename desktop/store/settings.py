"""App settings kept as JSON values in the database."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlite_utils

_MISSING = object()


class Settings:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self.conn = db.conn

    def get(self, key: str, default: Any = None) -> Any:
        row = self.conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def set(self, key: str, value: Any) -> None:
        if value is None:
            self.conn.execute("DELETE FROM settings WHERE key = ?", (key,))
            return
        self.conn.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value)),
        )

    def all(self) -> dict[str, Any]:
        return {k: json.loads(v) for k, v in self.conn.execute("SELECT key, value FROM settings")}


def setting_reader(settings: Settings, database: Path | str, key: str) -> Callable[[], Any]:
    """A function reading one setting from any thread: the store's connection in the thread
    that made it, a brief read-only connection of its own elsewhere (DESIGN rule 6)."""
    owner = threading.get_ident()

    def read() -> Any:
        if threading.get_ident() == owner:
            return settings.get(key)
        conn = sqlite3.connect(f"{Path(database).as_uri()}?mode=ro", uri=True, timeout=5.0)
        try:
            row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:
            return None
        finally:
            conn.close()
        return json.loads(row[0]) if row else None

    return read
