"""SQLite storage: history, installed models and settings in one file."""

from __future__ import annotations

from pathlib import Path

from desktop.store.db import NewerSchemaError, StoreError, connect
from desktop.store.history import History, NotFoundError
from desktop.store.models import ModelRegistry
from desktop.store.records import ChatSettings, Conversation, Message, ModelFile, SearchHit
from desktop.store.settings import Settings


class Store:
    """One thread's view of the database: history, models and settings on one connection."""

    def __init__(self, path: Path | str, busy_timeout: float | None = None) -> None:
        self.path = path
        self.db = connect(path, busy_timeout)
        self.history = History(self.db)
        self.models = ModelRegistry(self.db)
        self.settings = Settings(self.db)

    def close(self) -> None:
        self.db.conn.close()


__all__ = [
    "ChatSettings",
    "Conversation",
    "History",
    "Message",
    "ModelFile",
    "ModelRegistry",
    "NewerSchemaError",
    "NotFoundError",
    "SearchHit",
    "Settings",
    "Store",
    "StoreError",
    "connect",
]
