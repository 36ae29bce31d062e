"""The conversation list: grouped by day, pinned first, filtered by a search across messages."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QFont, QPainter, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from desktop.store.records import Conversation, SearchHit

KIND_ROLE = Qt.ItemDataRole.UserRole
ID_ROLE = Qt.ItemDataRole.UserRole + 1
MESSAGE_ROLE = Qt.ItemDataRole.UserRole + 2
ANSWERING_ROLE = Qt.ItemDataRole.UserRole + 3
SearchFunction = Callable[[str], list[SearchHit]]
_MARKUP = re.compile(r"[\[\]#*_`>|]+")  # match marks and Markdown syntax, not worth showing


def day_group(timestamp: float, now: float | None = None) -> str:
    """Today, Yesterday, Previous 7 days or Older, by the calendar, not by 24-hour steps."""
    now_local = time.localtime(now if now is not None else time.time())
    midnight = time.mktime(
        (now_local.tm_year, now_local.tm_mon, now_local.tm_mday, 0, 0, 0, 0, 0, -1)
    )
    if timestamp >= midnight:
        return "Today"
    if timestamp >= midnight - 86400:
        return "Yesterday"
    if timestamp >= midnight - 7 * 86400:
        return "Previous 7 days"
    return "Older"


class _ConversationDelegate(QStyledItemDelegate):
    """Marks a chat whose answer is still streaming with “answering…” after its title."""

    TAG = "answering…"

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        if not index.data(ANSWERING_ROLE):
            super().paint(painter, option, index)
            return
        item = QStyleOptionViewItem(option)
        self.initStyleOption(item, index)
        title, item.text = item.text, ""
        widget = item.widget
        style = widget.style() if widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, item, painter, widget)
        text_rect = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, item, widget)
        metrics = item.fontMetrics
        tag_width = metrics.horizontalAdvance(self.TAG) + 10
        painter.save()
        painter.setPen(item.palette.color(QPalette.ColorRole.Text))
        title_rect = text_rect.adjusted(4, 0, -tag_width, 0)
        painter.drawText(
            title_rect,
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            metrics.elidedText(title, Qt.TextElideMode.ElideRight, title_rect.width()),
        )
        painter.setPen(item.palette.color(QPalette.ColorRole.Link))
        painter.drawText(
            text_rect.adjusted(0, 0, -4, 0),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
            self.TAG,
        )
        painter.restore()


class Sidebar(QWidget):
    conversation_selected = Signal(int)
    message_selected = Signal(int, int)  # conversation id, message id
    new_chat_requested = Signal()
    documents_requested = Signal()
    rename_requested = Signal(int, str)
    pin_requested = Signal(int, bool)
    delete_requested = Signal(int)
    export_requested = Signal(int, str)  # conversation id, "md" or "json"

    def __init__(self, search: SearchFunction, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = search
        self.conversations: list[Conversation] = []
        self.current_id: int | None = None
        self.answering_id: int | None = None
        self.hidden_ids: set[int] = set()  # deleted, but still undoable
        self.setObjectName("sidebar")
        self.setMinimumWidth(200)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 12, 10, 10)
        layout.setSpacing(8)
        self.new_button = QPushButton("New chat", self)
        self.new_button.setAccessibleName("New chat")
        self.new_button.setToolTip("Start a new chat (Ctrl+N)")
        self.new_button.clicked.connect(self.new_chat_requested)
        layout.addWidget(self.new_button)
        self.documents_button = QPushButton("Documents", self)
        self.documents_button.setAccessibleName("Documents")
        self.documents_button.setToolTip(
            "Collections of your files that chats can answer from (Ctrl+Shift+D)")
        self.documents_button.clicked.connect(self.documents_requested)
        layout.addWidget(self.documents_button)
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Search chats")
        self.filter.setAccessibleName("Search chats and messages")
        self.filter.setToolTip("Search every message (Ctrl+F)")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._filter_changed)
        layout.addWidget(self.filter)
        self.list = QListWidget(self)
        self.list.setAccessibleName("Chats")
        self.list.setItemDelegate(_ConversationDelegate(self.list))
        self.list.setEditTriggers(QListWidget.EditTrigger.EditKeyPressed)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._context_menu)
        self.list.itemClicked.connect(self._item_activated)
        self.list.itemActivated.connect(self._item_activated)
        self.list.itemChanged.connect(self._item_edited)
        # No wrapping: a search hit is its chat's title and the matching words, one line each,
        # each cut short with "…"; a wrapped title pushed the matching words out of sight.
        self.list.setWordWrap(False)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        layout.addWidget(self.list, 1)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(200)
        self._search_timer.timeout.connect(self.refresh)

    # -- content -------------------------------------------------------------------------

    def set_conversations(self, conversations: list[Conversation], current_id: int | None) -> None:
        self.conversations = conversations
        self.current_id = current_id
        self.refresh()

    def set_current(self, conversation_id: int | None) -> None:
        self.current_id = conversation_id
        self.list.blockSignals(True)
        self.list.clearSelection()
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(KIND_ROLE) == "conversation" and item.data(ID_ROLE) == conversation_id:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)

    def set_answering(self, conversation_id: int | None) -> None:
        self.answering_id = conversation_id
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(KIND_ROLE) == "conversation":
                item.setData(ANSWERING_ROLE, item.data(ID_ROLE) == conversation_id)

    def focus_search(self) -> None:
        self.filter.setFocus()
        self.filter.selectAll()

    def refresh(self) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        text = self.filter.text().strip()
        shown = [c for c in self.conversations if c.id not in self.hidden_ids]
        if text:
            needle = text.lower()
            titled = [c for c in shown if needle in c.title.lower()]
            if titled:
                self._header("Chats")
                for conv in titled:
                    self._conversation_item(conv)
            hits = [h for h in self.search(text) if h.conversation_id not in self.hidden_ids]
            if hits:
                self._header("In messages")
                for hit in hits:
                    self._hit_item(hit)
            if not titled and not hits:
                self._header("Nothing found")
        else:
            pinned = [c for c in shown if c.pinned]
            if pinned:
                self._header("Pinned")
                for conv in pinned:
                    self._conversation_item(conv)
            group = None
            for conv in (c for c in shown if not c.pinned):
                name = day_group(conv.updated_at)
                if name != group:
                    self._header(name)
                    group = name
                self._conversation_item(conv)
        self.list.blockSignals(False)
        self.set_current(self.current_id)

    def _header(self, text: str) -> None:
        item = QListWidgetItem(text, self.list)
        item.setFlags(Qt.ItemFlag.NoItemFlags)
        item.setData(KIND_ROLE, "header")
        font = QFont(self.font())
        font.setBold(True)
        font.setPointSize(max(font.pointSize() - 1, 7))
        item.setFont(font)

    def _conversation_item(self, conv: Conversation) -> None:
        item = QListWidgetItem(conv.title, self.list)
        item.setData(KIND_ROLE, "conversation")
        item.setData(ID_ROLE, conv.id)
        item.setData(ANSWERING_ROLE, conv.id == self.answering_id)
        item.setToolTip(conv.title)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)

    def _hit_item(self, hit: SearchHit) -> None:
        # The match marks go without a trace, so "[cat]." reads "cat." rather than "cat ."
        unmarked = hit.snippet.replace("[", "").replace("]", "")
        snippet = " ".join(_MARKUP.sub(" ", unmarked).split())
        item = QListWidgetItem(f"{hit.conversation_title}\n{snippet}", self.list)
        item.setData(KIND_ROLE, "hit")
        item.setData(ID_ROLE, hit.conversation_id)
        item.setData(MESSAGE_ROLE, hit.message_id)
        item.setToolTip(snippet)

    # -- interaction ---------------------------------------------------------------------

    def _filter_changed(self, _text: str) -> None:
        self._search_timer.start()

    def _item_activated(self, item: QListWidgetItem) -> None:
        kind = item.data(KIND_ROLE)
        if kind == "conversation":
            self.conversation_selected.emit(item.data(ID_ROLE))
        elif kind == "hit":
            self.message_selected.emit(item.data(ID_ROLE), item.data(MESSAGE_ROLE))

    def _item_edited(self, item: QListWidgetItem) -> None:
        if item.data(KIND_ROLE) == "conversation":
            title = str(item.data(Qt.ItemDataRole.EditRole)).strip()
            if title:
                self.rename_requested.emit(item.data(ID_ROLE), title)

    def start_rename(self, conversation_id: int) -> None:
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(KIND_ROLE) == "conversation" and item.data(ID_ROLE) == conversation_id:
                self.list.editItem(item)

    def _context_menu(self, point: QPoint) -> None:
        item = self.list.itemAt(point)
        if item is None or item.data(KIND_ROLE) != "conversation":
            return
        conv_id = item.data(ID_ROLE)
        conv = next((c for c in self.conversations if c.id == conv_id), None)
        if conv is None:
            return
        menu = QMenu(self)
        actions: list[tuple[str, Callable[[], None]]] = [
            ("Rename", lambda: self.start_rename(conv_id)),
            (
                "Unpin" if conv.pinned else "Pin",
                lambda: self.pin_requested.emit(conv_id, not conv.pinned),
            ),
            ("Export as Markdown…", lambda: self.export_requested.emit(conv_id, "md")),
            ("Export as JSON…", lambda: self.export_requested.emit(conv_id, "json")),
            ("Delete", lambda: self.delete_requested.emit(conv_id)),
        ]
        slots: dict[QAction, Callable[[], None]] = {}
        for text, slot in actions:
            action = QAction(text, menu)
            menu.addAction(action)
            slots[action] = slot
        chosen = menu.exec(self.list.viewport().mapToGlobal(point))
        # Right-clicking selected the row under the pointer; the open chat is still the
        # one shown, so put the highlight back before acting (a rename then edits its row).
        self.set_current(self.current_id)
        if chosen in slots:
            slots[chosen]()
