"""Keeping served conversations in the history, when the user asked for that in Settings."""

from __future__ import annotations

from typing import Any

from desktop.chat.titles import title_from_message
from desktop.engine.api import Done, Failed
from desktop.store import Store
from desktop.store.settings import Settings

SAVE_HISTORY_KEY = "server.save_history"  # off unless the user turns it on


def saving_enabled(settings: Settings) -> bool:
    return bool(settings.get(SAVE_HISTORY_KEY, False))


def save_served_chat(store: Store, model: str, messages: list[dict[str, Any]], answer: str,
                     reasoning: str, final: Done | Failed) -> int:
    """One conversation per request: its messages, then the answer as it ended."""
    history = store.history
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    turns = [m for m in messages if m["role"] in ("user", "assistant")]
    first = next((m["content"] for m in turns if m["role"] == "user"), "")
    conv = history.create_conversation(title=title_from_message(first) if first else "Served chat",
                                       model=model, system_prompt=system)
    parent: int | None = None
    for m in turns:
        parent = history.add_message(conv.id, m["role"], m["content"], parent_id=parent,
                                     model=model if m["role"] == "assistant" else None).id
    if isinstance(final, Done):
        status = "stopped" if final.stop_reason == "stopped" else "complete"
    else:
        status = "failed"
    reply = history.add_message(conv.id, "assistant", answer, parent_id=parent, status=status,
                                model=model, reasoning=reasoning)
    if isinstance(final, Done):
        history.update_message(reply.id, stats={**final.stats, "stop_reason": final.stop_reason,
                                                "served": True})
    else:
        history.update_message(reply.id, error=final.message)
    return conv.id
