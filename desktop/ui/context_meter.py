"""The context meter: how much of the model's window the next message would use.

Exact when the model is loaded (the engine renders the chat template and counts tokens);
estimated from the text until then, and for servers that cannot count ("about N tokens"). It also finds where the model's memory now begins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QTimer

from desktop.chat.prompt import prompt_candidates
from desktop.chat.retrieval import passage_budget
from desktop.engine.context import DROP_OLDEST
from desktop.store.records import ChatSettings, Message, ModelFile
from desktop.ui.engine_bridge import EngineBridge
from desktop.ui.status_area import ContextUse, StatusArea, context_reserve

COUNT_DELAY_MS = 400  # counting waits for a pause in typing
CHARS_PER_TOKEN = 4  # for the estimate before the model is loaded
PER_MESSAGE_TOKENS = 6  # the chat template's markers around each message


@dataclass
class MeterInputs:
    conversation_id: int  # 0: a new chat, not saved yet
    model: ModelFile | None
    settings: ChatSettings  # already merged over the defaults
    system_prompt: str
    branch: list[Message] = field(default_factory=list)
    draft: str = ""
    collections: list[str] = field(default_factory=list)  # document collections the chat uses


def memory_start_id(
    branch: list[Message], dropped: int | None = None, parent_id: int | None = None
) -> int | None:
    """The first message the model still sees, when older ones were left out of its prompt.

    Without dropped/parent_id, the last answer's stored figure is used.
    """
    if dropped is None:
        for index in range(len(branch) - 1, -1, -1):
            if branch[index].role == "assistant":
                dropped = int(branch[index].stats.get("dropped_messages") or 0)
                parent_id = branch[index].parent_id
                break
    if not dropped:
        return None
    upto = next((i for i, m in enumerate(branch) if m.id == parent_id), len(branch) - 1)
    kept = prompt_candidates(branch[: upto + 1])
    return kept[dropped].id if dropped < len(kept) else None


def estimate_tokens(inputs: MeterInputs) -> int:
    texts = [inputs.system_prompt] + [m.content for m in prompt_candidates(inputs.branch)]
    if inputs.draft.strip():
        texts.append(inputs.draft)
    return sum(len(t) // CHARS_PER_TOKEN + PER_MESSAGE_TOKENS for t in texts if t)


def window_size(inputs: MeterInputs) -> int:
    wanted = inputs.settings.context_length or 8192
    trained = (
        inputs.model.context_length if inputs.model and inputs.model.context_length else wanted
    )
    return min(wanted, trained)


class ContextMeter(QObject):
    def __init__(
        self, bridge: EngineBridge, status: StatusArea, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.status = status
        self.inputs: MeterInputs | None = None
        self.allow_load = False
        self.latest_request = 0
        self.known_n_ctx: dict[str, int] = {}  # model path -> the window it was loaded with
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self._count_now)
        bridge.counted.connect(self._counted)

    def refresh(self, inputs: MeterInputs | None, *, typing: bool = False) -> None:
        """Show an estimate now; ask the engine for the exact figure after a pause."""
        self.inputs = inputs
        if inputs is None or inputs.model is None:
            self.timer.stop()
            self.status.set_context(None)
            return
        self._show_estimate()
        # Typing is a good moment to load the model: the answer then starts sooner.
        self.allow_load = typing and bool(inputs.draft.strip())
        self.timer.start(COUNT_DELAY_MS if typing else 0)

    def show_measured(self, tokens: int, n_ctx: int, dropped: int, exact: bool = True,
                      documents: int = 0) -> None:
        """Figures reported by an answer as it starts or ends (a server may only estimate
        them, and may not say its window size: then the chat's setting stands in)."""
        if self.inputs is None:
            return
        settings = self.inputs.settings
        n_ctx = n_ctx or window_size(self.inputs)
        self.status.set_context(
            ContextUse(
                tokens,
                n_ctx,
                context_reserve(n_ctx, settings.max_tokens),
                exact,
                settings.context_policy or DROP_OLDEST,
                dropped,
                documents,
            )
        )

    def show_started(self, event: dict[str, Any]) -> None:
        """An answer started: its prompt's exact size, passages from documents included."""
        self.show_measured(
            int(event.get("prompt_tokens") or 0),
            int(event.get("n_ctx") or 0),
            int(event.get("dropped_messages") or 0),
            not event.get("estimated"),
            int(event.get("source_tokens") or 0),
        )

    def show_finished(self, stats: dict[str, Any]) -> None:
        """An answer ended: the prompt and the answer, which the next question builds on."""
        if stats.get("prompt_tokens") is not None and (stats.get("n_ctx") or stats.get("server")):
            self.show_measured(
                int(stats["prompt_tokens"]) + int(stats.get("generated_tokens") or 0),
                int(stats.get("n_ctx") or 0),
                int(stats.get("dropped_messages") or 0),
                not stats.get("estimated_tokens"),
                int(stats.get("source_tokens") or 0),
            )

    def _count_now(self) -> None:
        inputs = self.inputs
        if inputs is None or inputs.model is None:
            return
        draft: dict[str, Any] = {
            "text": inputs.draft,
            "model": inputs.model.name,
            "allow_load": self.allow_load,
            "settings": inputs.settings.to_json(),
            "system_prompt": inputs.system_prompt,
        }
        self.latest_request = self.bridge.count(inputs.conversation_id, draft)

    def _counted(self, request_id: int, _conversation_id: int, result: dict[str, Any]) -> None:
        if request_id != self.latest_request or self.inputs is None:
            return
        if "tokens" not in result:
            return  # not loaded or failed: the estimate stays
        settings = self.inputs.settings
        n_ctx = int(result.get("n_ctx") or 0)
        if self.inputs.model is not None and n_ctx:
            self.known_n_ctx[self.inputs.model.path] = n_ctx
        n_ctx = n_ctx or window_size(self.inputs)  # a server that keeps its size to itself
        tokens = int(result["tokens"])
        reserve = context_reserve(n_ctx, settings.max_tokens)
        self.status.set_context(
            ContextUse(
                tokens,
                n_ctx,
                reserve,
                not result.get("estimated"),
                settings.context_policy or DROP_OLDEST,
                self._dropped(),
                documents_room=self._documents_room(n_ctx, reserve),
            )
        )

    def _show_estimate(self) -> None:
        inputs = self.inputs
        assert inputs is not None
        n_ctx = window_size(inputs)
        if inputs.model is not None:
            n_ctx = self.known_n_ctx.get(inputs.model.path, n_ctx)
        reserve = context_reserve(n_ctx, inputs.settings.max_tokens)
        self.status.set_context(
            ContextUse(
                estimate_tokens(inputs),
                n_ctx,
                reserve,
                False,
                inputs.settings.context_policy or DROP_OLDEST,
                self._dropped(),
                documents_room=self._documents_room(n_ctx, reserve),
            )
        )

    def _documents_room(self, n_ctx: int, reserve: int) -> int:
        """Tokens passages may take when the draft is sent (0 if the chat uses no documents):
        the session's own budget, which counts only the system prompt and the question."""
        inputs = self.inputs
        if inputs is None or not inputs.collections:
            return 0
        texts = [inputs.system_prompt, inputs.draft]
        base = sum(len(t) // CHARS_PER_TOKEN + PER_MESSAGE_TOKENS for t in texts if t)
        return passage_budget(n_ctx, reserve, base)

    def _dropped(self) -> int:
        if self.inputs is None:
            return 0
        for message in reversed(self.inputs.branch):
            if message.role == "assistant":
                return int(message.stats.get("dropped_messages") or 0)
        return 0
