"""A fenced code block: language, a Copy button, highlighted text that scrolls sideways.

Code is not wrapped (wrapped code misleads, and a wrapping label must be laid out again at
every width the layout tries, which made long answers with code slow to stream).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.ui.code_highlight import highlight_code, language_label
from desktop.ui.transcript.labels import SELECTABLE


class CodeBlock(QFrame):
    def __init__(
        self, code: str, language: str, code_style: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("codeBlock")
        self.code = ""
        self.language = language
        self.code_style = code_style
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)

        header = QWidget(self)
        header.setObjectName("codeHeader")
        row = QHBoxLayout(header)
        row.setContentsMargins(12, 3, 6, 3)
        self.language_label = QLabel(language_label(language), header)
        row.addWidget(self.language_label)
        row.addStretch(1)
        self.copy_button = QToolButton(header)
        self.copy_button.setText("Copy")
        self.copy_button.setAccessibleName("Copy code")
        self.copy_button.setToolTip("Copy this code")
        self.copy_button.clicked.connect(self.copy)
        row.addWidget(self.copy_button)
        layout.addWidget(header)

        self.scroller = QScrollArea(self)
        self.scroller.setFrameShape(QFrame.Shape.NoFrame)
        self.scroller.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.scroller.viewport().setAutoFillBackground(False)
        self.scroller.setStyleSheet("background: transparent;")
        self.body = QLabel()
        self.body.setTextFormat(Qt.TextFormat.RichText)
        self.body.setTextInteractionFlags(SELECTABLE)
        self.body.setCursor(Qt.CursorShape.IBeamCursor)
        self.body.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.body.setContentsMargins(12, 8, 12, 10)
        self.body.setAccessibleName(f"{language_label(language)} code")
        self.scroller.setWidget(self.body)
        self.scroller.viewport().installEventFilter(self)
        layout.addWidget(self.scroller)
        self.set_code(code)

    def set_code(self, code: str) -> None:
        if code == self.code and self.body.text():
            return
        self.code = code
        spans = highlight_code(code, self.language, self.code_style)
        self.body.setText(f'<pre style="margin: 0;">{spans}</pre>')
        self.body.adjustSize()
        self._fit_height()

    def _fit_height(self) -> None:
        height = self.body.height()
        if self.body.width() > self.scroller.viewport().width():
            height += self.scroller.horizontalScrollBar().sizeHint().height()
        if self.scroller.height() != height:
            self.scroller.setFixedHeight(height)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Resize:
            self._fit_height()  # the sideways scroll bar comes and goes with the width
        return False

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.code)
        self.copy_button.setText("Copied")
        QTimer.singleShot(1500, self, self._reset_copy_label)

    def _reset_copy_label(self) -> None:
        self.copy_button.setText("Copy")
