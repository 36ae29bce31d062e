"""Turns in the window: send, regenerate, edit, stop; the one answer that streams at a time.

An answer keeps streaming into its own conversation when the user opens another one (the
sidebar marks it “answering…”); its text is only ever drawn into the transcript that shows
that conversation, so it can never land in the wrong chat.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from desktop.chat.session import ChatSession
from desktop.store import Store
from desktop.store.history import NotFoundError
from desktop.ui.engine_bridge import EngineBridge
from desktop.ui.status_area import StatusArea
from desktop.ui.transcript.transcript_view import TranscriptView

log = logging.getLogger("openweight.ui.chat")

MIN_RENDER_MS = 33  # about 30 redraws a second while an answer streams
MAX_RENDER_MS = 250


@dataclass
class ActiveStream:
    request_id: int
    conversation_id: int
    parent_id: int
    model_name: str | None
    message_id: int | None = None
    answer_parts: list[str] = field(default_factory=list)
    reasoning_parts: list[str] = field(default_factory=list)
    thought_s: float | None = None
    answer_started: float | None = None
    answer_chars: int = 0
    source_tokens: int = 0  # what the passages from documents add to the prompt

    @property
    def answer(self) -> str:
        if len(self.answer_parts) > 1:
            self.answer_parts[:] = ["".join(self.answer_parts)]
        return self.answer_parts[0] if self.answer_parts else ""

    @property
    def reasoning(self) -> str:
        if len(self.reasoning_parts) > 1:
            self.reasoning_parts[:] = ["".join(self.reasoning_parts)]
        return self.reasoning_parts[0] if self.reasoning_parts else ""


class ChatController(QObject):
    stream_changed = Signal()  # an answer started or ended
    conversation_touched = Signal(int)  # a conversation's messages or title changed
    prompt_measured = Signal(int, object)  # conversation id, the "started" event
    answer_finished = Signal(int, int)  # conversation id, message id
    saving_failed = Signal(str)  # the history could not be written (disk full, locked...)

    def __init__(
        self,
        store: Store,
        bridge: EngineBridge,
        transcript: TranscriptView,
        status: StatusArea,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.history = store.history
        # Only its history operations are used here; answers run in the engine thread.
        self.session = ChatSession(store, None)  # type: ignore[arg-type]
        self.bridge = bridge
        self.transcript = transcript
        self.status = status
        self.active: ActiveStream | None = None
        self._render_timer = QTimer(self)
        self._render_timer.setSingleShot(True)
        self._render_timer.timeout.connect(self._render)
        self._render_interval = MIN_RENDER_MS
        bridge.event.connect(self._on_event)
        bridge.turn_finished.connect(self._on_finished)

    # -- starting turns ------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self.active is not None

    def send(self, conversation_id: int, text: str, model_name: str | None) -> None:
        if self.busy:
            return
        shown = self.transcript.conversation_id == conversation_id
        message = self.session.add_user_message(conversation_id, text)  # under the shown branch
        if shown:
            if self.transcript.end < len(self.transcript.messages):
                self.transcript.scroll_to_bottom()
            self.transcript.append_message(message)
        self.conversation_touched.emit(conversation_id)
        self._start(conversation_id, message.id, model_name)

    def regenerate(self, assistant_id: int, model_name: str | None) -> None:
        if self.busy:
            return
        parent = self.session.regenerate_parent(assistant_id)
        self._start(parent.conversation_id, parent.id, model_name)

    def edit(self, user_message_id: int, text: str, model_name: str | None) -> None:
        if self.busy:
            return
        message = self.session.edit_user_message(user_message_id, text)
        self._reload(message.conversation_id)
        self._start(message.conversation_id, message.id, model_name)

    def stop(self) -> None:
        if self.active is not None:
            self.bridge.stop(self.active.request_id)
            self.status.show_activity("Stopping…")

    def _start(self, conversation_id: int, parent_id: int, model_name: str | None) -> None:
        request_id = self.bridge.start_turn(conversation_id, parent_id, model_name)
        self.active = ActiveStream(request_id, conversation_id, parent_id, model_name)
        self.transcript.set_busy(True)
        self.status.show_activity("Starting…")
        self.stream_changed.emit()

    # -- what comes back -----------------------------------------------------------------

    def attach_transcript(self) -> None:
        """The transcript now shows a conversation: draw the live answer if it is this one's."""
        active = self.active
        self.transcript.set_busy(self.busy)
        if (
            active is not None
            and active.message_id is not None
            and self.transcript.conversation_id == active.conversation_id
        ):
            self.transcript.update_stream(
                active.message_id, active.answer, active.reasoning, active.thought_s
            )

    def _on_event(self, request_id: int, conversation_id: int, event: dict[str, Any]) -> None:
        active = self.active
        kind = event.get("event")
        if kind in ("progress", "loaded"):
            self._loading_event(event)
        if active is None or request_id != active.request_id:
            return  # a count's loading, or a turn that is no longer current
        if kind == "message":
            active.message_id = event["message_id"]
            self._show_new_answer(active)
        elif kind == "sources":
            widget = self.transcript.widget_for(active.message_id or 0)
            if widget is not None and self.transcript.conversation_id == active.conversation_id:
                widget.set_sources(event.get("sources") or [])
            active.source_tokens = int(event.get("tokens") or 0)
            if event.get("warning"):
                self.status.show_activity(str(event["warning"]))
        elif kind == "started":
            self.status.show_activity("Reading the conversation…")
            self.prompt_measured.emit(conversation_id,
                                      {**event, "source_tokens": active.source_tokens})
        elif kind == "delta":
            if event.get("answer"):
                active.answer_parts.append(event["answer"])
                active.answer_chars += len(event["answer"])
                active.answer_started = active.answer_started or time.monotonic()
            if event.get("reasoning"):
                active.reasoning_parts.append(event["reasoning"])
            active.thought_s = event.get("thought_s", active.thought_s)
            if not self._render_timer.isActive():
                self._render_timer.start(self._render_interval)
        elif kind == "done":
            self._render()

    def _loading_event(self, event: dict[str, Any]) -> None:
        if event["event"] == "progress":
            self.status.show_loading(
                event.get("model") or "the model", float(event.get("value", 0))
            )
        else:
            self.status.show_loading(None)
            # Where it runs, and any warning (such as falling back to the CPU), stay in view.
            self.status.show_device(event.get("info"))

    def _show_new_answer(self, active: ActiveStream) -> None:
        if self.transcript.conversation_id != active.conversation_id:
            return
        shown = self.transcript.messages
        if shown and shown[-1].id == active.parent_id:
            try:
                self.transcript.append_message(self.history.message(active.message_id or 0))
            except NotFoundError:
                pass
        else:  # a new version of an earlier answer: the shown branch changed
            self._reload(active.conversation_id)

    def _render(self) -> None:
        active = self.active
        if active is None or active.message_id is None:
            return
        if self.transcript.conversation_id == active.conversation_id:
            started = time.perf_counter()
            self.transcript.update_stream(
                active.message_id, active.answer, active.reasoning, active.thought_s
            )
            cost_ms = (time.perf_counter() - started) * 1000
            # Redraw less often when a redraw is costly, so typing and scrolling stay smooth.
            self._render_interval = int(min(max(MIN_RENDER_MS, cost_ms * 3), MAX_RENDER_MS))
        if active.answer_started:
            elapsed = time.monotonic() - active.answer_started
            if elapsed > 0.5:
                rate = active.answer_chars / 4 / elapsed  # about four characters a token
                # "about 0 tokens/s" reads as stalled; a busy computer can be that slow.
                speed = f"about {rate:.0f} tokens/s" if rate >= 1 else "under 1 token/s"
                self.status.show_activity(f"Answering · {speed}")
            else:
                self.status.show_activity("Answering…")
        elif active.reasoning_parts:
            self.status.show_activity("Thinking…")

    def _on_finished(self, request_id: int, conversation_id: int, outcome: dict[str, Any]) -> None:
        active = self.active
        if active is None or request_id != active.request_id:
            return
        self._render_timer.stop()
        self.active = None
        self.status.show_loading(None)
        message_id = outcome.get("message_id")
        message = None
        if message_id is not None:
            try:
                message = self.history.message(message_id)
            except NotFoundError:
                message = None
        if message is not None and self.transcript.conversation_id == conversation_id:
            if self.transcript.index_of(message.id) is None:
                self._reload(conversation_id)  # an answer that failed before it could start
            else:
                self.transcript.replace_message(message)
        self.transcript.set_busy(False)
        if self.transcript.conversation_id == conversation_id:
            self.status.show_activity(_finished_note(outcome, message))
        self.conversation_touched.emit(conversation_id)
        self.stream_changed.emit()
        if message is not None:
            self.answer_finished.emit(conversation_id, message.id)
        if outcome.get("saving_failed"):
            self.saving_failed.emit(str(outcome["saving_failed"]))

    def _reload(self, conversation_id: int) -> None:
        if self.transcript.conversation_id != conversation_id:
            return
        branch = self.history.branch(conversation_id)
        self.transcript.show_messages(
            conversation_id, branch, None, self.transcript.memory_start_id
        )


def _finished_note(outcome: dict[str, Any], message: Any) -> str:
    if message is None:
        return "Stopped" if outcome.get("status") == "stopped" else ""
    stats = message.stats
    if message.status == "failed":
        return "The answer failed; see the message for why"
    parts = []
    if stats.get("tokens_per_s"):
        parts.append(f"{stats['tokens_per_s']:.1f} tokens/s")
    if stats.get("ttft_s") is not None:
        parts.append(f"first word after {stats['ttft_s']:.1f} s")
    if message.status == "stopped":
        parts.insert(0, "Stopped")
    return "  ·  ".join(parts)
