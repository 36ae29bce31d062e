"""One message of the transcript: the question in a bubble, or the answer with its thinking,
its errors, its versions (‹ 2/3 ›) and its actions."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.store.records import Message
from desktop.ui.markdown_blocks import BlockRenderer
from desktop.ui.transcript.labels import TextLabel
from desktop.ui.transcript.markdown_view import MarkdownView
from desktop.ui.transcript.message_parts import (
    EditBox,
    ErrorBox,
    MemoryMarker,
    VersionSwitcher,
    status_note,
)
from desktop.ui.transcript.sources_view import SourcesView
from desktop.ui.transcript.thinking_block import ThinkingBlock

USER_BUBBLE_SHARE = 0.8  # a question takes at most this share of the column, like a chat app


class MessageWidget(QWidget):
    regenerate_requested = Signal(int)
    edit_submitted = Signal(int, str)
    version_requested = Signal(int)  # the id of the sibling to show

    def __init__(
        self,
        message: Message,
        versions: list[int],
        renderer: BlockRenderer,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.message = message
        self.renderer = renderer
        self.streaming = False
        self._busy = False  # some answer is streaming (maybe in another chat)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(6)
        self.marker = MemoryMarker(self)
        outer.addWidget(self.marker)
        self.footer = QHBoxLayout()
        self.footer.setSpacing(2)
        self.versions = VersionSwitcher(self)
        self.versions.version_requested.connect(self.version_requested)
        self.copy_button = self._action("Copy", "Copy this message", self.copy)
        if message.role == "user":
            self._build_user(outer)
        else:
            self._build_assistant(outer)
        self.set_message(message, versions)

    # -- building ------------------------------------------------------------------------

    def _action(self, text: str, tip: str, slot: object) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        button.setToolTip(tip)
        button.setAccessibleName(tip)
        button.clicked.connect(slot)
        return button

    def _build_user(self, outer: QVBoxLayout) -> None:
        row = QHBoxLayout()
        row.addStretch(1)
        self.bubble = QFrame(self)
        self.bubble.setObjectName("userBubble")
        bubble_layout = QVBoxLayout(self.bubble)
        bubble_layout.setContentsMargins(14, 9, 14, 9)
        self.text_label = TextLabel(rich=False, fill_width=False, parent=self.bubble)
        self.text_label.setAccessibleName("Your message")
        bubble_layout.addWidget(self.text_label)
        row.addWidget(self.bubble)
        outer.addLayout(row)
        self.editor = EditBox(self)
        self.editor.submitted.connect(self._edit_done)
        self.editor.cancelled.connect(self._edit_cancelled)
        self.editor.hide()
        outer.addWidget(self.editor)
        self.edit_button = self._action("Edit", "Edit this message", self.start_editing)
        self.footer.addStretch(1)
        self.footer.addWidget(self.versions)
        self.footer.addWidget(self.edit_button)
        self.footer.addWidget(self.copy_button)
        outer.addLayout(self.footer)

    def _build_assistant(self, outer: QVBoxLayout) -> None:
        self.model_label = QLabel(self)
        self.model_label.setObjectName("muted")
        outer.addWidget(self.model_label)
        self.thinking = ThinkingBlock(self)
        outer.addWidget(self.thinking)
        self.body = MarkdownView(self.renderer, self)
        outer.addWidget(self.body)
        self.waiting = QLabel("…", self)
        self.waiting.setObjectName("muted")
        self.waiting.setAccessibleName("Waiting for the answer")
        outer.addWidget(self.waiting)
        self.error_box = ErrorBox(self)
        self.error_box.retry_requested.connect(self._regenerate)
        outer.addWidget(self.error_box)
        self.sources = SourcesView(self)
        outer.addWidget(self.sources)
        self.body.cited.connect(self.sources.open_number)
        self.regenerate_button = self._action(
            "Regenerate", "Write a new version of this answer", self._regenerate
        )
        self.stats_label = QLabel(self)
        self.stats_label.setObjectName("muted")
        self.footer.addWidget(self.versions)
        self.footer.addWidget(self.copy_button)
        self.footer.addWidget(self.regenerate_button)
        self.footer.addSpacing(8)
        self.footer.addWidget(self.stats_label)
        self.footer.addStretch(1)
        outer.addLayout(self.footer)

    # -- content -------------------------------------------------------------------------

    def set_message(self, message: Message, versions: list[int] | None = None) -> None:
        """Show the message as stored (final, or a snapshot of a streaming one)."""
        self.message = message
        if versions is not None:
            self.versions.set_versions(message.id, versions)
        if message.role == "user":
            self.text_label.setText(message.content)
            self._fit_bubble()
            return
        self.streaming = message.status == "streaming"
        self.model_label.setText(message.model or "")
        self.model_label.setVisible(bool(message.model))
        self.set_sources(message.sources)  # first: the text's citations link to them
        self.body.set_markdown(message.content)
        self.thinking.set_reasoning(
            message.reasoning, thinking=False, seconds=message.stats.get("thought_s")
        )
        self.waiting.setVisible(self.streaming and not message.content and not message.reasoning)
        failed = message.status == "failed" or (message.error and message.status != "complete")
        self.error_box.set_error(
            message.error or "The answer could not be finished." if failed else None,
            str(message.stats.get("error_detail") or ""),
        )
        self.stats_label.setText("" if self.streaming else status_note(message))
        self._update_actions()

    def show_stream(self, answer: str, reasoning: str, thought_seconds: float | None) -> None:
        """Text that streamed so far; cheap to call often (only changed blocks are redrawn)."""
        self.streaming = True
        self.waiting.setVisible(not answer and not reasoning)
        if reasoning:
            self.thinking.set_reasoning(reasoning, thinking=not answer, seconds=thought_seconds)
        self.body.set_markdown(answer)
        self._update_actions()

    def set_sources(self, sources: list[dict[str, Any]]) -> None:
        """The passages this answer is drawing on, shown as they are found."""
        if self.message.role == "assistant":
            self.sources.set_sources(sources)
            self.body.set_citations(len(sources))

    def set_busy(self, busy: bool) -> None:
        """While any answer streams, starting another one from here is not offered."""
        self._busy = busy
        self._update_actions()

    def set_memory_marker(self, shown: bool) -> None:
        self.marker.setVisible(shown)

    def rerender(self, renderer: BlockRenderer) -> None:
        self.renderer = renderer
        if self.message.role == "assistant":
            self.body.rerender(renderer)

    def _update_actions(self) -> None:
        busy = self._busy
        if self.message.role == "user":
            self.edit_button.setEnabled(not busy)
            self.versions.setEnabled(not busy)
            return
        failed = self.error_box.isVisibleTo(self)
        self.regenerate_button.setVisible(not failed)  # the error box has its own Retry
        self.copy_button.setVisible(bool(self.message.content) or self.streaming)
        self.regenerate_button.setEnabled(not busy and not self.streaming)
        self.copy_button.setEnabled(not self.streaming)
        self.versions.setEnabled(not busy)
        self.error_box.retry_button.setEnabled(not busy)

    # -- actions -------------------------------------------------------------------------

    def copy(self) -> None:
        text = self.message.content if self.message.role == "user" else self.body.text
        QGuiApplication.clipboard().setText(text)
        self.copy_button.setText("Copied")
        QTimer.singleShot(1500, self, lambda: self.copy_button.setText("Copy"))

    def start_editing(self) -> None:
        self.bubble.hide()
        self.editor.start(self.message.content)
        self.edit_button.setEnabled(False)

    def _edit_done(self, text: str) -> None:
        self._edit_cancelled()
        if text.strip() and text != self.message.content:
            self.edit_submitted.emit(self.message.id, text)

    def _edit_cancelled(self) -> None:
        self.editor.hide()
        self.bubble.show()
        self._update_actions()

    def _regenerate(self) -> None:
        self.regenerate_requested.emit(self.message.id)

    def resizeEvent(self, event: object) -> None:  # noqa: N802 - Qt's name
        if self.message.role == "user":
            self._fit_bubble()
        super().resizeEvent(event)  # type: ignore[arg-type]

    def _fit_bubble(self) -> None:
        """As wide as the text needs, up to a share of the column (a wrapping label alone
        would pick a narrow width and break even short questions over two lines)."""
        widest = int(self.width() * USER_BUBBLE_SHARE)
        self.bubble.setMaximumWidth(widest)
        metrics = self.text_label.fontMetrics()
        natural = (
            max(
                (
                    metrics.horizontalAdvance(line)
                    for line in self.message.content.splitlines() or [""]
                ),
                default=0,
            )
            + 4
        )
        margins = self.bubble.layout().contentsMargins()
        self.text_label.setMinimumWidth(min(natural, widest - margins.left() - margins.right()))
