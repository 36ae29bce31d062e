"""What the chat list's menu does: rename, pin, export, and delete with a moment to undo."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QMessageBox

from desktop.store import Store
from desktop.store.export import export_conversation
from desktop.store.history import NotFoundError
from desktop.ui.sidebar import Sidebar
from desktop.ui.undo_bar import UndoBar

if TYPE_CHECKING:
    from desktop.ui.main_window import MainWindow


def safe_file_name(title: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in " -_" else " " for c in title)
    return " ".join(cleaned.split())[:60] or "chat"


class ConversationActions(QObject):
    def __init__(
        self, window: MainWindow, store: Store, sidebar: Sidebar, undo_bar: UndoBar
    ) -> None:
        super().__init__(window)
        self.window = window
        self.history = store.history
        self.sidebar = sidebar
        self.undo_bar = undo_bar
        sidebar.rename_requested.connect(self.rename)
        sidebar.pin_requested.connect(self.pin)
        sidebar.delete_requested.connect(self.delete)
        sidebar.export_requested.connect(self.export)

    def rename(self, conversation_id: int, title: str) -> None:
        try:
            # The list reports an "edit" whenever it redraws a row: write only real renames.
            if self.history.conversation(conversation_id).title != title:
                self.history.update_conversation(conversation_id, title=title)
        except NotFoundError:
            pass
        self.window.refresh_sidebar()
        self.window.update_title()

    def pin(self, conversation_id: int, pinned: bool) -> None:
        try:
            self.history.update_conversation(conversation_id, pinned=pinned)
        except NotFoundError:
            pass
        self.window.refresh_sidebar()

    def delete(self, conversation_id: int) -> None:
        """Hide the chat at once; it is deleted for good when the Undo offer lapses."""
        try:
            title = self.history.conversation(conversation_id).title
        except NotFoundError:
            return
        active = self.window.controller.active
        if active is not None and active.conversation_id == conversation_id:
            self.window.controller.stop()
        self.sidebar.hidden_ids.add(conversation_id)
        self.sidebar.refresh()
        if self.window.conversation_id == conversation_id:
            self.window.new_chat()

        def undo() -> None:
            self.sidebar.hidden_ids.discard(conversation_id)
            self.window.refresh_sidebar()

        def commit() -> None:
            self.sidebar.hidden_ids.discard(conversation_id)
            try:
                self.history.delete_conversation(conversation_id)
            except NotFoundError:
                pass
            self.window.refresh_sidebar()

        self.undo_bar.offer(f"Deleted “{title}”.", undo, commit)

    def export(self, conversation_id: int, fmt: str) -> None:
        try:
            conv = self.history.conversation(conversation_id)
        except NotFoundError:
            return
        suffix = ".md" if fmt == "md" else ".json"
        kind = "Markdown (*.md)" if fmt == "md" else "JSON (*.json)"
        start = str(Path.home() / (safe_file_name(conv.title) + suffix))
        path, _ = QFileDialog.getSaveFileName(self.window, "Export chat", start, kind)
        if not path:
            return
        try:
            Path(path).write_text(
                export_conversation(self.history, conversation_id, fmt), encoding="utf-8"
            )
        except OSError as exc:
            QMessageBox.warning(
                self.window, "The chat could not be saved", f"{path}: {exc.strerror or exc}"
            )
            return
        self.window.chat.status.show_activity(f"Exported to {path}")
