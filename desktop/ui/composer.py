"""Where the user writes: Enter sends, Shift+Enter adds a line; Send turns into Stop."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QSize, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.ui.drops import local_paths

MAX_VISIBLE_LINES = 8


class MessageField(QPlainTextEdit):
    """A text box that grows with what is typed, up to a few lines."""

    enter_pressed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTabChangesFocus(True)
        self.setPlaceholderText("Message the model…  (Enter to send, Shift+Enter for a new line)")
        self.setAccessibleName("Message")
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.document().documentLayout().documentSizeChanged.connect(self._fit_height)
        self._fit_height()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and not event.modifiers() & (
            Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.AltModifier
        ):
            self.enter_pressed.emit()
            return
        super().keyPressEvent(event)

    def canInsertFromMimeData(self, source: QMimeData) -> bool:  # noqa: N802 - Qt's name
        # Dropped files are not pasted as their paths: the window takes them (models, documents).
        return not local_paths(source) and super().canInsertFromMimeData(source)

    def _fit_height(self, *_: object) -> None:
        line = self.fontMetrics().lineSpacing()
        lines = max(1, min(MAX_VISIBLE_LINES, int(self.document().size().height())))
        margins = self.contentsMargins()
        frame = int(self.document().documentMargin() * 2) + margins.top() + margins.bottom()
        self.setFixedHeight(lines * line + frame + 4)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(400, self.height())


class Composer(QWidget):
    send_requested = Signal(str)
    stop_requested = Signal()
    show_other_chat = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.streaming_here = False
        self.other_chat_title: str | None = None
        self.has_model = True
        outer = QVBoxLayout(self)
        outer.setContentsMargins(24, 6, 24, 8)
        outer.setSpacing(6)

        self.notice = QFrame(self)
        self.notice.setObjectName("noticeBar")
        notice_row = QHBoxLayout(self.notice)
        notice_row.setContentsMargins(12, 6, 6, 6)
        self.notice_label = QLabel(self.notice)
        notice_row.addWidget(self.notice_label, 1)
        self.show_button = QPushButton("Show it", self.notice)
        self.show_button.clicked.connect(self.show_other_chat)
        self.notice_stop = QPushButton("Stop it", self.notice)
        self.notice_stop.setAccessibleName("Stop the answer in the other chat")
        self.notice_stop.clicked.connect(self.stop_requested)
        notice_row.addWidget(self.show_button)
        notice_row.addWidget(self.notice_stop)
        self.notice.hide()
        outer.addWidget(self.notice)

        frame = QFrame(self)
        frame.setObjectName("composerFrame")
        row = QHBoxLayout(frame)
        row.setContentsMargins(12, 8, 8, 8)
        self.field = MessageField(frame)
        self.field.enter_pressed.connect(self.submit)
        self.field.textChanged.connect(self._refresh)
        row.addWidget(self.field, 1)
        self.button = QPushButton("Send", frame)
        self.button.setObjectName("primaryButton")
        self.button.setAccessibleName("Send message")
        self.button.setMinimumWidth(72)
        self.button.clicked.connect(self._button_clicked)
        row.addWidget(self.button, 0, Qt.AlignmentFlag.AlignBottom)
        outer.addWidget(frame)

        self.hint = QLabel("Answers come from the model on this computer and can be wrong.", self)
        self.hint.setObjectName("muted")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        outer.addWidget(self.hint)
        self.setFocusProxy(self.field)
        self._refresh()

    @property
    def text(self) -> str:
        return self.field.toPlainText()

    def set_text(self, text: str) -> None:
        self.field.setPlainText(text)
        self.field.moveCursor(self.field.textCursor().MoveOperation.End)

    def set_streaming(self, here: bool, other_chat_title: str | None) -> None:
        """here: this chat is answering; other_chat_title: another chat is."""
        self.streaming_here = here
        self.other_chat_title = other_chat_title
        if other_chat_title is not None:
            self.notice_label.setText(
                f"Still answering in “{other_chat_title}”. Send again when it is done, or stop it."
            )
        self.notice.setVisible(other_chat_title is not None)
        self._refresh()

    def set_server(self, server: str | None) -> None:
        """Say where answers come from: this computer, or a server the user added."""
        where = f"the server {server}" if server else "the model on this computer"
        self.hint.setText(f"Answers come from {where} and can be wrong.")

    def set_has_model(self, has_model: bool) -> None:
        self.has_model = has_model
        self._refresh()

    def can_send(self) -> bool:
        busy = self.streaming_here or self.other_chat_title is not None
        return bool(self.text.strip()) and not busy and self.has_model

    def submit(self) -> None:
        if self.can_send():
            text = self.text
            self.field.clear()
            self.send_requested.emit(text)

    def _button_clicked(self) -> None:
        if self.streaming_here:
            self.stop_requested.emit()
        else:
            self.submit()

    def _refresh(self) -> None:
        if self.streaming_here:
            self.button.setText("Stop")
            self.button.setObjectName("stopButton")
            self.button.setAccessibleName("Stop the answer")
            self.button.setToolTip("Stop the answer (Esc)")
            self.button.setEnabled(True)
        else:
            self.button.setText("Send")
            self.button.setObjectName("primaryButton")
            self.button.setAccessibleName("Send message")
            self.button.setToolTip("Send (Enter)" if self.has_model else "Add a model first")
            self.button.setEnabled(self.can_send())
        self.button.style().unpolish(self.button)
        self.button.style().polish(self.button)
