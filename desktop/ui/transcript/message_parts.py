"""Small parts of a message: version switcher, error box, edit box, memory marker, status line."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.store.records import Message
from desktop.ui.composer import MessageField
from desktop.ui.transcript.labels import TextLabel


class VersionSwitcher(QWidget):
    """‹ 2/3 ›: move between the versions of a message (edits and regenerated answers)."""

    version_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ids: list[int] = []
        self.index = 0
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        self.previous = QToolButton(self)
        self.previous.setText("‹")
        self.previous.setAccessibleName("Previous version")
        self.previous.setToolTip("Previous version")
        self.previous.clicked.connect(lambda: self._go(-1))
        self.label = QLabel(self)
        self.label.setObjectName("muted")
        self.next = QToolButton(self)
        self.next.setText("›")
        self.next.setAccessibleName("Next version")
        self.next.setToolTip("Next version")
        self.next.clicked.connect(lambda: self._go(1))
        for widget in (self.previous, self.label, self.next):
            row.addWidget(widget)
        self.setVisible(False)

    def set_versions(self, current_id: int, ids: list[int]) -> None:
        self.ids = list(ids)
        self.index = self.ids.index(current_id) if current_id in self.ids else 0
        self.setVisible(len(self.ids) > 1)
        self.label.setText(f"{self.index + 1}/{len(self.ids)}")
        self.label.setAccessibleName(f"Version {self.index + 1} of {len(self.ids)}")
        self.previous.setEnabled(self.index > 0)
        self.next.setEnabled(self.index < len(self.ids) - 1)

    def _go(self, step: int) -> None:
        target = self.index + step
        if 0 <= target < len(self.ids):
            self.version_requested.emit(self.ids[target])


class ErrorBox(QFrame):
    """Why an answer failed, in words, with a way to try again."""

    retry_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorBox")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        self.text = TextLabel(rich=False, parent=self)
        self.text.setAccessibleName("Error")
        layout.addWidget(self.text)
        # The technical reason (llama.cpp's words, an exit signal) waits one click away.
        self.detail = TextLabel(rich=False, parent=self)
        self.detail.setObjectName("muted")
        self.detail.setAccessibleName("Error details")
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail.setVisible(False)
        layout.addWidget(self.detail)
        row = QHBoxLayout()
        self.retry_button = QPushButton("Retry", self)
        self.retry_button.setAccessibleName("Try this answer again")
        self.retry_button.clicked.connect(self.retry_requested)
        row.addWidget(self.retry_button)
        self.details_button = QPushButton("Details", self)
        self.details_button.setCheckable(True)
        self.details_button.setAccessibleName("Show the technical details")
        self.details_button.toggled.connect(self.detail.setVisible)
        row.addWidget(self.details_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.setVisible(False)

    def set_error(self, text: str | None, detail: str = "") -> None:
        self.setVisible(bool(text))
        self.text.setText(text or "")
        self.detail.setText(detail)
        self.details_button.setVisible(bool(text and detail))
        if not detail:
            self.details_button.setChecked(False)


class EditBox(QWidget):
    """Editing a question in place; sending it makes a new branch beside the old one."""

    submitted = Signal(str)
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.editor = _EditField(self)  # as tall as the message, like the message box
        self.editor.setAccessibleName("Edit your message")
        self.editor.setPlaceholderText("")
        self.editor.enter_pressed.connect(self._submit)
        self.editor.cancel.connect(self.cancelled)
        layout.addWidget(self.editor)
        row = QHBoxLayout()
        row.addStretch(1)
        cancel = QPushButton("Cancel", self)
        cancel.clicked.connect(self.cancelled)
        self.send_button = QPushButton("Send", self)
        self.send_button.setObjectName("primaryButton")
        self.send_button.setAccessibleName("Send the edited message")
        self.send_button.clicked.connect(self._submit)
        row.addWidget(cancel)
        row.addWidget(self.send_button)
        layout.addLayout(row)

    def start(self, text: str) -> None:
        self.editor.setPlainText(text)
        self.show()
        self.editor.setFocus()
        self.editor.selectAll()

    def _submit(self) -> None:
        self.submitted.emit(self.editor.toPlainText())


class _EditField(MessageField):
    """The message box's field (Enter sends, Shift+Enter adds a line), and Esc cancels."""

    cancel = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        if event.key() == Qt.Key.Key_Escape:
            self.cancel.emit()
        else:
            super().keyPressEvent(event)


class MemoryMarker(QWidget):
    """Marks where the model's memory now begins: older messages no longer fit its window."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("memoryMarker")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 4, 0, 8)
        for side in ("left", "right"):
            line = QFrame(self)
            line.setFrameShape(QFrame.Shape.HLine)
            row.addWidget(line, 1)
            if side == "left":
                label = QLabel("The model no longer remembers the messages above this line", self)
                label.setToolTip(
                    "They no longer fit in its context window. Raise the context "
                    "length in the chat settings, or start a new chat."
                )
                row.addWidget(label)
        self.setVisible(False)


def status_note(message: Message) -> str:
    """The quiet line under an answer: how it ended and how fast it came."""
    stats = message.stats
    parts: list[str] = []
    tokens = stats.get("generated_tokens")
    if tokens:
        parts.append(f"{tokens:,} tokens")
    speed = stats.get("tokens_per_s")
    if speed:
        parts.append(f"{speed:.1f} tokens/s")
    notes = {
        "stopped": "Stopped",
        "interrupted": "Interrupted: the app closed before this answer finished",
    }
    if message.status == "stopped" and not (message.content or message.reasoning):
        # Otherwise an empty answer reads as if the model had nothing to say.
        parts.append("Stopped before the model wrote anything")
    elif message.status in notes:
        parts.append(notes[message.status])
    return "  ·  ".join(parts)
