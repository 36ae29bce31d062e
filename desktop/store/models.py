"""The registry of installed model files."""

from __future__ import annotations

import time
from dataclasses import asdict

import sqlite_utils

from desktop.store.history import NotFoundError
from desktop.store.records import ModelFile
from desktop.store.settings import Settings

DEFAULT_MODEL_KEY = "default_model"


class ModelRegistry:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self.settings = Settings(db)

    def add(self, model: ModelFile) -> ModelFile:
        """Register (or re-register) a model; the first one becomes the default."""
        values = asdict(model)
        values.pop("id")
        values["added_at"] = values["added_at"] or time.time()
        values["has_chat_template"] = int(values["has_chat_template"])
        self.db.table("models").upsert(values, pk="name")
        if self.settings.get(DEFAULT_MODEL_KEY) is None and model.kind == "chat":
            self.settings.set(DEFAULT_MODEL_KEY, model.name)
        return self.get(model.name)

    def all(self) -> list[ModelFile]:
        return [ModelFile.from_row(r) for r in self.db.table("models").rows_where(order_by="name")]

    def chat_models(self) -> list[ModelFile]:
        """The models a conversation can use (embedding models are for documents)."""
        return [m for m in self.all() if m.kind == "chat"]

    def get(self, name: str) -> ModelFile:
        rows = list(self.db.table("models").rows_where("name = ?", [name]))
        if not rows:
            raise NotFoundError(f"No installed model is called {name!r}.")
        return ModelFile.from_row(rows[0])

    def find(self, name_or_path: str) -> ModelFile | None:
        """By name, by file path, or by a unique name prefix."""
        for model in self.all():
            if model.name == name_or_path or model.path == name_or_path:
                return model
        matches = [m for m in self.all() if m.name.lower().startswith(name_or_path.lower())]
        return matches[0] if len(matches) == 1 else None

    def remove(self, name: str) -> ModelFile:
        model = self.get(name)
        self.db.execute("DELETE FROM models WHERE name = ?", [name])
        if self.settings.get(DEFAULT_MODEL_KEY) == name:
            remaining = self.chat_models()
            self.settings.set(DEFAULT_MODEL_KEY, remaining[0].name if remaining else None)
        return model

    def update_path(self, name: str, path: str) -> None:
        self.db.execute("UPDATE models SET path = ? WHERE name = ?", [path, name])

    @property
    def default_name(self) -> str | None:
        value = self.settings.get(DEFAULT_MODEL_KEY)
        return str(value) if value else None

    def set_default(self, name: str) -> None:
        if self.get(name).kind != "chat":
            raise ValueError(f"{name} is an embedding model; it cannot be used for chats.")
        self.settings.set(DEFAULT_MODEL_KEY, name)

    def default(self) -> ModelFile | None:
        name = self.default_name
        if name:
            try:
                return self.get(name)
            except NotFoundError:
                pass
        models = self.chat_models()
        return models[0] if models else None
