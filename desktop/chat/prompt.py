"""Building the prompt for a chat's next answer: system prompt, history, template switches.

One place for it, so the answer and the window's context meter always count the same prompt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from desktop.chat.defaults import chat_defaults
from desktop.store import Store
from desktop.store.records import ChatSettings, Message


@dataclass
class Prompt:
    messages: list[dict[str, Any]]
    settings: ChatSettings  # the chat's settings with the app's defaults filled in


def template_variables(settings: ChatSettings, reasoning_style: str | None) -> dict[str, Any]:
    """The chat-template switches a chat's settings turn on."""
    variables: dict[str, Any] = {}
    if reasoning_style == "harmony" and settings.reasoning_effort:
        variables["reasoning_effort"] = settings.reasoning_effort
    if reasoning_style == "think" and settings.thinking is False:
        variables["enable_thinking"] = False
    return variables


def prompt_candidates(branch: list[Message]) -> list[Message]:
    """The messages a prompt is built from (answers that failed empty are left out)."""
    return [
        m for m in branch if not (m.role == "assistant" and m.status == "failed" and not m.content)
    ]


def prompt_messages(system_prompt: str, branch: list[Message]) -> list[dict[str, Any]]:
    """The chat messages a prompt is made of: the system prompt, then the branch's turns."""
    messages: list[dict[str, Any]] = []
    if system_prompt.strip():
        messages.append({"role": "system", "content": system_prompt})
    messages.extend({"role": m.role, "content": m.content} for m in prompt_candidates(branch))
    return messages


def effective_settings(store: Store, settings: ChatSettings) -> ChatSettings:
    return settings.merged_over(chat_defaults(store.settings))


def with_draft(messages: list[dict[str, Any]], draft: str) -> list[dict[str, Any]]:
    """The prompt's messages with an unsent draft as the user's next message, when there is one."""
    return messages + [{"role": "user", "content": draft}] if draft.strip() else messages


def conversation_prompt(store: Store, conversation_id: int, up_to: int | None = None,
                        draft: str = "") -> Prompt:
    """The prompt for the answer after message up_to (default: the current branch's end),
    with an unsent draft appended as the user's next message when given."""
    conv = store.history.conversation(conversation_id)
    branch = store.history.branch(conversation_id, up_to) if up_to else store.history.branch(
        conversation_id)
    messages = with_draft(prompt_messages(conv.system_prompt, branch), draft)
    return Prompt(messages, effective_settings(store, conv.settings))


SOURCES_INSTRUCTION = (
    "Answer the question using the numbered sources below. Cite each source you use with its "
    "number in square brackets, like [1] or [2]. If the sources do not hold the answer, say so."
)


def source_heading(number: int, path: str, page: int | None, heading: str) -> str:
    from pathlib import PurePath

    label = f"[{number}] {PurePath(path).name}"
    if page:
        label += f", page {page}"
    if heading:
        label += f" ({heading})"
    return label


def with_sources(messages: list[dict[str, Any]], sources: list[Any]) -> list[dict[str, Any]]:
    """The messages with the last user message carrying the numbered sources before it.

    sources are documents.Source records (number, path, page, heading, text). Only the
    prompt carries them: the question stays as typed in the history.
    """
    if not sources or not messages or messages[-1]["role"] != "user":
        return messages
    blocks = [f"{source_heading(s.number, s.path, s.page, s.heading)}\n{s.text.strip()}"
              for s in sources]
    question = messages[-1]["content"]
    content = f"{SOURCES_INSTRUCTION}\n\n" + "\n\n".join(blocks) + f"\n\nQuestion: {question}"
    return [*messages[:-1], {**messages[-1], "content": content}]
