"""Domain records read from and written to the store."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

MESSAGE_STATUSES = ("streaming", "complete", "stopped", "failed", "interrupted")


@dataclass
class ChatSettings:
    """Per-chat generation settings; None means 'use the app default'."""

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    context_length: int | None = None
    reasoning_effort: str | None = None  # gpt-oss: low / medium / high
    thinking: bool | None = None  # Qwen3-style thinking switch
    context_policy: str | None = None  # "drop_oldest" or "stop"

    def to_json(self) -> str:
        return json.dumps({k: v for k, v in self.__dict__.items() if v is not None})

    @classmethod
    def from_json(cls, text: str | None) -> ChatSettings:
        data = json.loads(text or "{}")
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def merged_over(self, defaults: ChatSettings) -> ChatSettings:
        """These settings with gaps filled from defaults."""
        values = {
            name: getattr(self, name) if getattr(self, name) is not None else getattr(defaults, name)
            for name in self.__dataclass_fields__
        }
        return ChatSettings(**values)


@dataclass
class Conversation:
    id: int
    title: str
    created_at: float
    updated_at: float
    model: str | None
    system_prompt: str
    settings: ChatSettings
    pinned: bool
    current_leaf_id: int | None
    collections: list[str] = field(default_factory=list)  # document collections it asks

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Conversation:
        return cls(
            id=row["id"],
            title=row["title"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            model=row["model"],
            system_prompt=row["system_prompt"] or "",
            settings=ChatSettings.from_json(row["settings"]),
            pinned=bool(row["pinned"]),
            current_leaf_id=row["current_leaf_id"],
            collections=json.loads(row.get("collections") or "[]"),
        )


@dataclass
class Message:
    id: int
    conversation_id: int
    parent_id: int | None
    role: str
    content: str
    reasoning: str
    status: str
    model: str | None
    created_at: float
    updated_at: float
    stats: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    sources: list[dict[str, Any]] = field(default_factory=list)  # passages an answer cited

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Message:
        return cls(
            id=row["id"],
            conversation_id=row["conversation_id"],
            parent_id=row["parent_id"],
            role=row["role"],
            content=row["content"],
            reasoning=row["reasoning"],
            status=row["status"],
            model=row["model"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            stats=json.loads(row["stats"] or "{}"),
            error=row["error"],
            sources=json.loads(row.get("sources") or "[]"),
        )


@dataclass(frozen=True)
class SearchHit:
    conversation_id: int
    conversation_title: str
    message_id: int
    role: str
    snippet: str


@dataclass
class ModelFile:
    """A GGUF file the user can chat with."""

    name: str
    path: str
    size_bytes: int = 0
    sha256: str | None = None
    architecture: str | None = None
    parameters: int | None = None
    quantization: str | None = None
    context_length: int | None = None
    has_chat_template: bool = False
    reasoning_style: str | None = None
    source: str = "import"
    repo_id: str | None = None
    filename: str | None = None
    revision: str | None = None
    kind: str = "chat"  # "chat" or "embedding"
    added_at: float = 0.0
    id: int | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ModelFile:
        values = {k: row[k] for k in cls.__dataclass_fields__ if k in row}
        values["has_chat_template"] = bool(values.get("has_chat_template"))
        return cls(**values)
