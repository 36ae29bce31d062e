"""App-wide defaults for new chats, overridable in Settings and per chat."""

from __future__ import annotations

from desktop.engine.context import DROP_OLDEST
from desktop.store.records import ChatSettings
from desktop.store.settings import Settings

DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant."

BUILT_IN = ChatSettings(
    temperature=0.7,
    top_p=0.95,
    max_tokens=2048,
    context_length=8192,
    reasoning_effort="medium",
    thinking=True,
    context_policy=DROP_OLDEST,
)

DEFAULTS_KEY = "chat_defaults"
SYSTEM_PROMPT_KEY = "default_system_prompt"


def chat_defaults(settings: Settings) -> ChatSettings:
    """Built-in defaults overlaid with what the user chose in Settings."""
    stored = ChatSettings.from_json(_as_json(settings.get(DEFAULTS_KEY)))
    return stored.merged_over(BUILT_IN)


def save_chat_defaults(settings: Settings, chosen: ChatSettings) -> None:
    settings.set(DEFAULTS_KEY, {k: v for k, v in chosen.__dict__.items() if v is not None})


def default_system_prompt(settings: Settings) -> str:
    value = settings.get(SYSTEM_PROMPT_KEY)
    return DEFAULT_SYSTEM_PROMPT if value is None else str(value)


def _as_json(value: object) -> str:
    import json

    return json.dumps(value or {})
