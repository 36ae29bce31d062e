"""Fitting a conversation into the model's context window."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

DROP_OLDEST = "drop_oldest"
STOP = "stop"
POLICIES = (DROP_OLDEST, STOP)

ChatMessage = dict[str, Any]


class ContextFullError(Exception):
    """The conversation does not fit and the policy forbids dropping turns."""

    def __init__(self, message: str, used: int, limit: int) -> None:
        super().__init__(message)
        self.used = used
        self.limit = limit


@dataclass(frozen=True)
class FittedPrompt:
    messages: list[ChatMessage]
    tokens: int
    dropped: int  # how many of the oldest non-system messages were left out


def fit_messages(
    messages: list[ChatMessage],
    count_tokens: Callable[[list[ChatMessage]], int],
    budget: int,
    *,
    policy: str = DROP_OLDEST,
    estimate_tokens: Callable[[ChatMessage], int] | None = None,
) -> FittedPrompt:
    """Keep system messages and the newest turns that fit in budget tokens.

    count_tokens renders and tokenizes a whole prompt (exact, costly); estimate_tokens
    sizes one message (cheap) so a very long chat is cut close to the right place in one
    step, then exact counts trim the last few messages.
    """
    total = count_tokens(messages)
    if total <= budget:
        return FittedPrompt(messages, total, 0)
    if policy == STOP:
        raise ContextFullError(
            f"This chat no longer fits in the model's context window ({total:,} of {budget:,} "
            "tokens). Start a new chat, raise the context length, or let the chat drop its "
            "oldest messages.",
            total,
            budget,
        )
    system = [m for m in messages if m["role"] == "system"]
    turns = [m for m in messages if m["role"] != "system"]
    start = 0
    if estimate_tokens is not None and len(turns) > 8:
        overhead = count_tokens(system) if system else 0
        running = overhead
        start = len(turns) - 1
        for index in range(len(turns) - 1, -1, -1):
            running += estimate_tokens(turns[index]) + 8
            if running > budget:
                break
            start = index
    while True:
        # A turn starts with a user message: never leave an answer without its question.
        while start < len(turns) - 1 and turns[start]["role"] != "user":
            start += 1
        kept = system + turns[start:]
        used = count_tokens(kept)
        if used <= budget:
            return FittedPrompt(kept, used, start)
        if start >= len(turns) - 1:
            raise ContextFullError(
                f"Your message is too long for this model's context window ({used:,} of "
                f"{budget:,} tokens). Shorten it or raise the context length in the chat settings.",
                used,
                budget,
            )
        start += 1
