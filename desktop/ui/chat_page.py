"""The centre of the window: top bar (model, chat settings), transcript, composer, status."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.ui.composer import Composer
from desktop.ui.documents.picker import DocumentsPicker
from desktop.ui.markdown_blocks import BlockRenderer
from desktop.ui.model_picker import ModelPicker
from desktop.ui.status_area import StatusArea
from desktop.ui.transcript.transcript_view import TranscriptView, VersionsLookup
from desktop.ui.undo_bar import UndoBar


class EmptyChat(QWidget):
    """What a new chat shows before its first message."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        self.title = QLabel("What can I help with?", self)
        self.title.setObjectName("pageTitle")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.title)
        self.subtitle = QLabel(self)
        self.subtitle.setObjectName("muted")
        self.subtitle.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.subtitle.setWordWrap(True)
        layout.addWidget(self.subtitle)
        layout.addStretch(1)

    def set_model(self, name: str | None) -> None:
        self.subtitle.setText(
            f"{name} runs on this computer; nothing you write leaves it."
            if name
            else "Choose a model above to begin."
        )


class ChatPage(QWidget):
    def __init__(
        self, renderer: BlockRenderer, versions_of: VersionsLookup, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)

        self.top_bar = QWidget(self)
        self.top_bar.setObjectName("topBar")
        top = QHBoxLayout(self.top_bar)
        top.setContentsMargins(12, 8, 12, 8)
        self.sidebar_button = QPushButton("☰", self.top_bar)
        self.sidebar_button.setAccessibleName("Show or hide the chat list")
        self.sidebar_button.setToolTip("Show or hide the chat list")
        self.sidebar_button.setFixedWidth(36)
        top.addWidget(self.sidebar_button)
        self.model_picker = ModelPicker(self.top_bar)
        top.addWidget(self.model_picker)
        self.documents_picker = DocumentsPicker(self.top_bar)
        top.addWidget(self.documents_picker)
        top.addStretch(1)
        self.title = QLabel(self.top_bar)
        self.title.setObjectName("muted")
        top.addWidget(self.title)
        top.addStretch(1)
        self.settings_button = QPushButton("Chat settings", self.top_bar)
        self.settings_button.setCheckable(True)
        self.settings_button.setAccessibleName("Show or hide this chat's settings")
        self.settings_button.setToolTip("System prompt, temperature, lengths for this chat")
        top.addWidget(self.settings_button)
        layout.addWidget(self.top_bar)

        self.stack = QStackedWidget(self)
        self.empty = EmptyChat(self.stack)
        self.transcript = TranscriptView(renderer, versions_of, self.stack)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.transcript)
        layout.addWidget(self.stack, 1)

        self.undo_bar = UndoBar(self)
        undo_row = QHBoxLayout()
        undo_row.setContentsMargins(24, 0, 24, 0)
        undo_row.addWidget(self.undo_bar)
        layout.addLayout(undo_row)
        self.composer = Composer(self)
        layout.addWidget(self.composer)
        self.status = StatusArea(renderer.colors, self)
        layout.addWidget(self.status)

    def show_empty(self, empty: bool) -> None:
        self.stack.setCurrentWidget(self.empty if empty else self.transcript)
