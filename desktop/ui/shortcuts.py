"""The window's keyboard shortcuts."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut

from desktop.ui.about import show_about

if TYPE_CHECKING:
    from desktop.ui.main_window import MainWindow

Keys = str | QKeySequence | QKeySequence.StandardKey


def bind(window: MainWindow, keys: Keys, slot: Callable[[], object]) -> QShortcut:
    shortcut = QShortcut(QKeySequence(keys), window)
    shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
    shortcut.activated.connect(slot)
    return shortcut


def install_shortcuts(window: MainWindow) -> QShortcut:
    """Ctrl+N, Ctrl+F, Ctrl+, , Ctrl+Shift+D, Ctrl+Shift+C, Ctrl+Q; returns Esc (stop), enabled only while
    an answer streams: the rest of the time Esc belongs to editors and dialogs."""
    bind(window, "Ctrl+N", window.new_chat)
    bind(window, "Ctrl+F", window.sidebar.focus_search)
    bind(window, "Ctrl+,", window.open_settings)
    bind(window, "Ctrl+Shift+D", window.show_documents_page)
    bind(window, "Ctrl+Shift+C", window.copy_last_answer)
    bind(window, QKeySequence.StandardKey.HelpContents, lambda: show_about(window))
    bind(window, QKeySequence.StandardKey.Quit, window.close)
    stop = bind(window, QKeySequence(Qt.Key.Key_Escape), window.controller.stop)
    stop.setEnabled(False)
    return stop
