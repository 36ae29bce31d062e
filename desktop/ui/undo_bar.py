"""A short-lived bar that offers to undo what was just done (deleting a chat)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

UNDO_SECONDS = 8


class UndoBar(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("noticeBar")
        row = QHBoxLayout(self)
        row.setContentsMargins(12, 6, 6, 6)
        self.label = QLabel(self)
        row.addWidget(self.label, 1)
        self.undo_button = QPushButton("Undo", self)
        self.undo_button.setAccessibleName("Undo")
        self.undo_button.clicked.connect(self.undo)
        row.addWidget(self.undo_button)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.commit)
        self._undo: Callable[[], None] | None = None
        self._commit: Callable[[], None] | None = None
        self.hide()

    def offer(self, text: str, undo: Callable[[], None], commit: Callable[[], None]) -> None:
        """Show text with Undo; commit runs when the offer lapses (or a new one replaces it)."""
        self.commit()
        self.label.setText(text)
        self._undo, self._commit = undo, commit
        self.show()
        self.timer.start(UNDO_SECONDS * 1000)

    def undo(self) -> None:
        action, self._undo, self._commit = self._undo, None, None
        self.timer.stop()
        self.hide()
        if action:
            action()

    def commit(self) -> None:
        """Carry out what is pending now (also called when the window closes)."""
        action, self._undo, self._commit = self._commit, None, None
        self.timer.stop()
        self.hide()
        if action:
            action()
