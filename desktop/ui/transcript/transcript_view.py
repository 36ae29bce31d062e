"""The scrolling transcript. Only a window of the branch is built as widgets: the newest
messages first, older ones as the reader scrolls up, so a chat of thousands opens at once."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPalette, QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QScrollArea, QSizePolicy, QToolButton, QWidget

from desktop.store.records import Message
from desktop.ui.markdown_blocks import BlockRenderer
from desktop.ui.transcript.message_widget import MessageWidget
from desktop.ui.transcript.stack_column import StackColumn

FIRST_WINDOW = 12  # messages built when a chat opens
MORE_AT_A_TIME = 10  # messages built each time the reader nears either end
NEAR_EDGE_PX = 400
COLUMN_WIDTH = 860  # reading width, like the chat apps people know
MESSAGE_SPACING = 22
STICK_TO_BOTTOM_PX = 40

VersionsLookup = Callable[[Message], list[int]]


class TranscriptView(QScrollArea):
    regenerate_requested = Signal(int)
    edit_submitted = Signal(int, str)
    version_requested = Signal(int)

    def __init__(
        self, renderer: BlockRenderer, versions_of: VersionsLookup, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.renderer = renderer
        self.versions_of = versions_of
        self.conversation_id: int | None = None
        self.messages: list[Message] = []
        self.first = 0  # index in self.messages of the first built widget
        self.end = 0  # one past the last built widget
        self.widgets: dict[int, MessageWidget] = {}
        self.memory_start_id: int | None = None
        self.busy = False
        self._stick_to_bottom = True
        self._anchor: tuple[int, int] | None = None  # (value, maximum) before building above

        self.setObjectName("transcript")
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setAccessibleName("Conversation")
        page = QWidget(self)
        page.setObjectName("transcript")
        centring = QHBoxLayout(page)
        centring.setContentsMargins(24, 20, 24, 24)
        self.column = StackColumn(MESSAGE_SPACING, page)
        self.column.setObjectName("transcriptColumn")
        self.column.setMaximumWidth(COLUMN_WIDTH)
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.column.setSizePolicy(policy)
        centring.addStretch(1)
        centring.addWidget(self.column, 100, Qt.AlignmentFlag.AlignTop)
        centring.addStretch(1)
        self.setWidget(page)
        bar = self.verticalScrollBar()
        bar.rangeChanged.connect(self._range_changed)
        bar.valueChanged.connect(self._scrolled)
        self.jump_button = QToolButton(self.viewport())
        self.jump_button.setObjectName("jumpButton")
        self.jump_button.setText("↓  Latest")
        self.jump_button.setAccessibleName("Scroll to the latest message")
        self.jump_button.clicked.connect(self.scroll_to_bottom)
        self.jump_button.hide()

    # -- whole conversations -------------------------------------------------------------

    def show_messages(
        self,
        conversation_id: int | None,
        messages: list[Message],
        focus_id: int | None = None,
        memory_start_id: int | None = None,
        flash: bool = False,
    ) -> None:
        """Show a branch, scrolled to the end or to focus_id (flash: highlight it briefly)."""
        self.clear()
        self.conversation_id = conversation_id
        self.messages = list(messages)
        self.memory_start_id = memory_start_id
        index = self.index_of(focus_id) if focus_id is not None else None
        if index is None:
            self.first = self.end = max(0, len(self.messages) - FIRST_WINDOW)
            self._build(self.first, len(self.messages))
            self._stick_to_bottom = True
        else:
            self.first = self.end = max(0, index - 3)
            self._build(self.first, min(len(self.messages), index + FIRST_WINDOW))
            self._stick_to_bottom = False
            QTimer.singleShot(0, self, lambda: self.reveal(focus_id, flash))

    def clear(self) -> None:
        for widget in self.widgets.values():
            self.column.remove(widget)
            widget.hide()
            widget.deleteLater()
        self.widgets.clear()
        self.messages, self.first, self.end = [], 0, 0
        self.conversation_id = None
        self._anchor = None

    def index_of(self, message_id: int | None) -> int | None:
        for index in range(len(self.messages) - 1, -1, -1):
            if self.messages[index].id == message_id:
                return index
        return None

    # -- single messages -----------------------------------------------------------------

    def append_message(self, message: Message) -> None:
        """A new message at the end of the shown branch (a question, or an answer starting)."""
        at_end = self.end == len(self.messages)
        self.messages.append(message)
        if at_end:
            self._build(len(self.messages) - 1, len(self.messages))
            self._stick_to_bottom = True

    def replace_message(self, message: Message, versions: list[int] | None = None) -> None:
        index = self.index_of(message.id)
        if index is None:
            return
        self.messages[index] = message
        widget = self.widgets.get(message.id)
        if widget is not None:
            widget.set_message(
                message, versions if versions is not None else self.versions_of(message)
            )

    def update_stream(
        self, message_id: int, answer: str, reasoning: str, thought_seconds: float | None
    ) -> None:
        widget = self.widgets.get(message_id)
        if widget is not None:
            widget.show_stream(answer, reasoning, thought_seconds)

    def widget_for(self, message_id: int) -> MessageWidget | None:
        return self.widgets.get(message_id)

    def set_memory_start(self, message_id: int | None) -> None:
        self.memory_start_id = message_id
        for widget_id, widget in self.widgets.items():
            widget.set_memory_marker(widget_id == message_id)

    def set_busy(self, busy: bool) -> None:
        self.busy = busy
        for widget in self.widgets.values():
            widget.set_busy(busy)

    def set_renderer(self, renderer: BlockRenderer) -> None:
        self.renderer = renderer
        for widget in self.widgets.values():
            widget.rerender(renderer)

    def scroll_to_bottom(self) -> None:
        if self.end < len(self.messages):
            self.show_messages(self.conversation_id, self.messages, None, self.memory_start_id)
        self._stick_to_bottom = True
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())

    def reveal(self, message_id: int | None, flash: bool = True) -> None:
        widget = self.widgets.get(message_id or -1)
        if widget is None:
            return
        self.widget().layout().activate()  # the scroll range must include the new widgets
        self.ensureWidgetVisible(widget, 0, 60)
        if not flash:
            return
        widget.setAutoFillBackground(True)
        palette = widget.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor(self.renderer.colors.selection))
        widget.setPalette(palette)
        QTimer.singleShot(1600, widget, lambda: widget.setAutoFillBackground(False))

    # -- building widgets lazily ---------------------------------------------------------

    def _build(self, start: int, stop: int) -> None:
        """Build widgets for messages[start:stop], which must touch the built window."""
        before_first = stop <= self.first and self.first != self.end
        for offset, message in enumerate(self.messages[start:stop]):
            widget = MessageWidget(message, self.versions_of(message), self.renderer, self.column)
            widget.set_busy(self.busy)
            widget.set_memory_marker(message.id == self.memory_start_id)
            widget.regenerate_requested.connect(self.regenerate_requested)
            widget.edit_submitted.connect(self.edit_submitted)
            widget.version_requested.connect(self.version_requested)
            position = offset if before_first else len(self.widgets)
            self.column.insert(position, widget)
            self.widgets[message.id] = widget
        if before_first:
            self.first = start
        else:
            self.first = min(self.first, start)
            self.end = max(self.end, stop)

    def _scrolled(self, value: int) -> None:
        bar = self.verticalScrollBar()
        self._stick_to_bottom = value >= bar.maximum() - STICK_TO_BOTTOM_PX
        self._build_near_edges()
        self._place_jump_button()

    def _range_changed(self, _minimum: int, maximum: int) -> None:
        bar = self.verticalScrollBar()
        if self._anchor is not None:
            value, old_maximum = self._anchor
            self._anchor = None
            bar.setValue(value + maximum - old_maximum)
        elif self._stick_to_bottom:
            bar.setValue(maximum)
        self._build_near_edges()
        self._place_jump_button()

    def _place_jump_button(self) -> None:
        """Offered when the reader has scrolled up, away from the newest messages."""
        away = not self._stick_to_bottom or self.end < len(self.messages)
        self.jump_button.setVisible(away and bool(self.messages))
        if away:
            self.jump_button.adjustSize()
            viewport = self.viewport().rect()
            self.jump_button.move(
                viewport.center().x() - self.jump_button.width() // 2,
                viewport.bottom() - self.jump_button.height() - 12,
            )
            self.jump_button.raise_()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._place_jump_button()

    def _build_near_edges(self) -> None:
        bar = self.verticalScrollBar()
        if self._anchor is not None:
            return
        if self.first > 0 and bar.value() < NEAR_EDGE_PX:
            if bar.maximum() > 0:
                self._anchor = (bar.value(), bar.maximum())
            else:  # the chat does not fill the view yet: keep building until it does
                QTimer.singleShot(0, self, self._build_near_edges)
            self._build(max(0, self.first - MORE_AT_A_TIME), self.first)
        elif self.end < len(self.messages) and bar.value() > bar.maximum() - NEAR_EDGE_PX:
            self._build(self.end, min(len(self.messages), self.end + MORE_AT_A_TIME))
